/**
 * The watcher's promises about targets, on real processes: a target that never answers does
 * not delay the others (each has its own timer and timeout), its failures are visible in the
 * API, and SIGHUP reloads the targets file without a restart. Credentials in a target's URL are
 * refused without being echoed or stored; a target's hostile status text reaches stderr
 * escaped; a fetch is cancelled by its caller's signal (SIGTERM's path; the process-level
 * test is in watch-restart.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UserError } from '../src/errors.js';
import { readSnapshot } from '../src/readers/index.js';
import { targetsFromFile, targetsFromUrls } from '../src/watch/targets.js';
import { BIN, buildProgram, cli, cliProcess, noGo, serve, type Served } from './helpers.js';

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

describe('watch: many targets in flight at once', { timeout: 60_000 }, () => {
  it('prints no listener-leak warning with more than 10 scrapes waiting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakwatch-inflight-'));
    const hang = createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const a = hang.address();
    const base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    // Fifteen targets that never answer: fifteen requests wait on the watcher's one abort
    // signal at once, the shape that made Node warn of an EventTarget leak.
    const urls = Array.from({ length: 15 }, (_, i) => `${base}/s${i}/`);
    const w = spawn(
      process.execPath,
      [BIN, 'watch', '--db', join(dir, 'w.db'), '--timeout', '20s', '--no-view', ...urls],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    w.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      for (let i = 0; i < 100 && (await connections(hang)) < 15; i++) await sleep(100);
      assert.ok((await connections(hang)) >= 15, 'all fifteen scrapes are in flight');
      await sleep(500);
      assert.doesNotMatch(err, /MaxListenersExceededWarning|memory leak detected/);
    } finally {
      w.kill('SIGTERM');
      await new Promise((r) => w.once('close', r));
      hang.closeAllConnections();
      hang.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function connections(s: Server): Promise<number> {
  return new Promise((r, j) => s.getConnections((e, n) => (e ? j(e) : r(n))));
}

describe('watch: credentials in target URLs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-creds-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const secretFree = (msg: string): void => {
    for (const s of ['alice', 's3cret', 'pa/ss']) assert.ok(!msg.includes(s), `${s} in: ${msg}`);
  };

  it('are refused, naming the target and the env-var options, never the password', () => {
    for (const url of ['http://alice:s3cret@127.0.0.1:6060', 'http://alice@127.0.0.1:6060']) {
      const err = (() => {
        try {
          targetsFromUrls([url], 1000);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(err instanceof UserError, String(err));
      assert.match(err.message, /^target: "http:\/\/…@127\.0\.0\.1:6060" carries credentials/);
      assert.match(err.message, /bearer_env/);
      assert.match(err.message, /user_env/);
      assert.ok(!err.message.includes('\n'));
      secretFree(err.message);
    }
    // Not a URL at all, with a password holding a slash: still not echoed.
    assert.throws(
      () => targetsFromUrls(['http://bob:pa/ss@'], 1000),
      (e: Error) => (secretFree(e.message), e instanceof UserError),
    );
  });

  it('in a targets file: refused, naming the entry', () => {
    const f = join(dir, 't.json');
    writeFileSync(
      f,
      JSON.stringify({
        targets: [{ name: 'checkout', url: 'https://alice:s3cret@10.0.0.7:6060' }],
      }),
    );
    assert.throws(
      () => targetsFromFile(f, 1000),
      (e: Error) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /targets\[0\] \("checkout"\)\.url: .* carries credentials/);
        secretFree(e.message);
        return true;
      },
    );
  });

  it('the CLI exits 2 with one line, and stores nothing', async () => {
    const db = join(dir, 'never.db');
    const r = await cliProcess([
      'watch',
      'http://alice:s3cret@127.0.0.1:1',
      '--db',
      db,
      '--duration',
      '1s',
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    assert.match(r.stderr, /^leakwatch: target: "http:\/\/…@127\.0\.0\.1:1" carries credentials/);
    secretFree(r.stderr + r.stdout);
    assert.equal(existsSync(db), false);
  });
});

/** A TCP server answering every request with this raw HTTP response. */
async function rawHttp(response: string): Promise<{ url: string; server: TcpServer }> {
  const server = createTcpServer((c) => c.on('data', () => c.end(response)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, server };
}

describe('watch: hostile targets', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-hostile-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a target's status text reaches stderr and the API escaped", async () => {
    const evil = await rawHttp(
      'HTTP/1.1 500 Bad\u001b[2J\u0007 leakwatch: forged\r\ncontent-length: 0\r\nconnection: close\r\n\r\n',
    );
    const w = spawn(
      process.execPath,
      [
        BIN,
        'watch',
        evil.url,
        '--db',
        join(dir, 'e.db'),
        '--interval',
        '1s',
        '--listen',
        '127.0.0.1:0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    w.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      for (let i = 0; i < 100 && !/Bad/.test(err); i++) await sleep(100);
      assert.match(err, /HTTP 500 Bad\\x1b\[2J\\x07 leakwatch: forged/, err);
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u0000-\u0009\u000b-\u001f]/.test(err), JSON.stringify(err));
      for (const line of err.split('\n').filter(Boolean)) assert.match(line, /^leakwatch: /);
      const port = Number(/API on http:\/\/[^:]+:(\d+)/.exec(err)?.[1]);
      const body = await (await fetch(`http://127.0.0.1:${port}/api/targets`)).text();
      assert.ok(!body.includes('\u001b'), body);
      const j = JSON.parse(body) as { targets: { lastError?: string }[] };
      assert.ok(
        (j.targets[0]!.lastError ?? '').includes('Bad\u001b[2J'),
        'JSON keeps the data as it was',
      );
    } finally {
      w.kill('SIGTERM');
      await new Promise((r) => w.once('close', r));
      evil.server.close();
    }
  });

  it('the same status text through analyze: one escaped line on stderr, exit 2', async () => {
    const evil = await rawHttp(
      'HTTP/1.1 500 Bad\u001b[2J\nleakwatch: forged\r\ncontent-length: 0\r\nconnection: close\r\n\r\n',
    );
    try {
      const r = await cli(['analyze', `${evil.url}/debug/pprof/goroutine?debug=2`]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.split('\n').length, 2, JSON.stringify(r.stderr));
      assert.match(r.stderr, /^leakwatch: .*HTTP 500 Bad\\x1b\[2J/);
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u0000-\u0009\u000b-\u001f]/.test(r.stderr), JSON.stringify(r.stderr));
    } finally {
      evil.server.close();
    }
  });
});

describe('fetching a target: cancelled on demand', () => {
  it('aborts a request still waiting for its answer, and a body half read', async () => {
    // One server: /wait never answers; /half sends headers and a first chunk, then stalls.
    const server = createServer((req, res) => {
      if (req.url === '/half') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('goroutine 1 [running]:\nmain.main()\n');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    const base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    try {
      for (const path of ['/wait', '/half']) {
        const ctrl = new AbortController();
        const reading = readSnapshot(`${base}${path}`, { timeoutMs: 60_000, signal: ctrl.signal });
        // Cancelled once the server has the request (and, for /half, has sent its first bytes).
        setTimeout(() => ctrl.abort(new Error('shutting down')), 200);
        await assert.rejects(reading, (e: Error) => {
          assert.ok(e instanceof UserError, String(e));
          assert.match(e.message, new RegExp(`${path}: cancelled \\(shutting down\\)$`));
          return true;
        });
      }
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
