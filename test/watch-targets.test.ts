/**
 * The watcher's promises about targets, on real processes: a target that never answers does
 * not delay the others (each has its own timer and timeout), its failures are visible in the
 * API, and SIGHUP reloads the targets file without a restart.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, buildProgram, noGo, serve, type Served } from './helpers.js';

const skip = noGo();
if (skip) console.log(`# skipping watch target tests: ${skip}`);

interface Status {
  name: string;
  state: string;
  scrapes: number;
  failures: number;
  lastError?: string;
}

describe('watch: targets', { skip, timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-targets-'));
  let good: Served;
  let hang: Server;
  let hangUrl = '';
  before(async () => {
    good = await serve(buildProgram('cmd/notify-server'), ['-variant', 'fixed']);
    // Accepts connections and never answers.
    hang = createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const a = hang.address();
    hangUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  after(async () => {
    await good.stop();
    hang.closeAllConnections();
    hang.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a hanging target does not hold back the others; SIGHUP adds a target', async () => {
    const cfg = join(dir, 'targets.json');
    const write = (targets: { name: string; url: string }[]): void =>
      writeFileSync(cfg, JSON.stringify({ interval: '1s', targets }));
    write([
      { name: 'good', url: good.url },
      { name: 'hangs', url: hangUrl },
    ]);
    const w = spawn(
      process.execPath,
      [
        BIN,
        'watch',
        '--config',
        cfg,
        '--db',
        join(dir, 'w.db'),
        '--timeout',
        '4s',
        '--listen',
        '127.0.0.1:0',
        '--no-view',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    w.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      for (let i = 0; i < 100 && !/API on http:\/\/[^:]+:\d+/.test(err); i++) await sleep(100);
      const port = Number(/API on http:\/\/[^:]+:(\d+)/.exec(err)?.[1]);
      assert.ok(port > 0, `API address in: ${err}`);
      const status = async (): Promise<Map<string, Status>> => {
        const r = await fetch(`http://127.0.0.1:${port}/api/targets`);
        const j = (await r.json()) as { targets: Status[] };
        return new Map(j.targets.map((t) => [t.name, t]));
      };
      // In the first 4 s the hanging target has not even timed out once; the good one has
      // been scraped about every second all along.
      await sleep(3500);
      const s1 = await status();
      assert.ok(s1.get('good')!.scrapes >= 2, `good scraped ${s1.get('good')!.scrapes} times`);
      assert.equal(s1.get('hangs')!.scrapes, 0);
      // After its timeout the failure is visible.
      await sleep(2500);
      const s2 = await status();
      assert.equal(s2.get('hangs')!.state, 'failing');
      assert.match(s2.get('hangs')!.lastError ?? '', /no answer within 4000 ms/);
      assert.ok(s2.get('good')!.scrapes > s1.get('good')!.scrapes);

      write([
        { name: 'good', url: good.url },
        { name: 'hangs', url: hangUrl },
        { name: 'good-again', url: good.url },
      ]);
      w.kill('SIGHUP');
      let s3 = await status();
      for (let i = 0; i < 50 && !(s3.get('good-again')?.scrapes ?? 0); i++) {
        await sleep(200);
        s3 = await status();
      }
      assert.ok((s3.get('good-again')?.scrapes ?? 0) > 0, 'the reloaded target is scraped');
      assert.ok(s3.get('good')!.scrapes >= s2.get('good')!.scrapes, 'history of the others kept');
      assert.match(err, /targets reloaded/);
    } finally {
      w.kill('SIGTERM');
      await new Promise((r) => w.once('close', r));
    }
  });
});
