/**
 * `watch` across restarts and faults, against the real notification service: killed with -9
 * while alerts fire, the service fixed while nobody watched, a new watcher on the same database
 * resolves those alerts and never sends them again; a second watcher on the same file is
 * refused; SIGTERM ends a watcher stuck on a target that never answers within 2 s.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadRound } from '../src/cli/commands/demo.js';
import { cli, buildProgram, noGo, serve, type Served } from './helpers.js';
import { FAST, until, watch } from './watch-helpers.js';

const skip = noGo();
if (skip) console.log(`# skipping the watch restart tests: ${skip}`);

describe('watch: restarts and faults', { skip, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-restart-'));
  let server = '';
  let loadBin = '';
  let svc: Served;
  let loading = true;
  let loadLoop: Promise<void>;

  before(async () => {
    server = buildProgram('cmd/notify-server');
    loadBin = buildProgram('cmd/notify-load');
    svc = await serve(server, ['-variant', 'leaky', '-heartbeat', '30s']);
    let round = 0;
    loadLoop = (async () => {
      while (loading) {
        await loadRound(loadBin, [svc.url], ++round).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
  });
  after(async () => {
    loading = false;
    await loadLoop;
    await svc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 while alerts fire, fix the service meanwhile: the restart resolves them and sends none again', async () => {
    const db = join(dir, 'restart.db');
    const name = new URL(svc.url).host;
    const first = watch([...FAST, '--db', db, svc.url]);
    const fired = (): string[] =>
      first.events.filter((e) => e.type === 'alert' && e.target === name).map((e) => e.key);
    await until(() => fired().length >= 2, 120_000, 'alerts on the leaky service').catch(
      (e: Error) => {
        throw new Error(`${e.message}; stderr: ${first.stderr()}`);
      },
    );
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('close', r));
    // Open: the newest event of the key is an alert.
    const last = new Map(first.events.map((e) => [e.key, e.type]));
    const open = new Set(fired().filter((k) => last.get(k) === 'alert'));
    assert.ok(open.size > 0, 'alerts were firing at the kill');

    // The fix is deployed while nobody watches: same address, fixed code.
    const addr = new URL(svc.url).host;
    await svc.stop();
    svc = await serve(server, ['-variant', 'fixed', '-heartbeat', '30s', '-addr', addr]);

    const second = watch([...FAST, '--db', db, svc.url]);
    try {
      const resolved = (): Set<string> =>
        new Set(second.events.filter((e) => e.type === 'resolved').map((e) => e.key));
      await until(
        () => [...open].every((k) => resolved().has(k)),
        90_000,
        `resolutions of ${[...open].join(', ')}`,
      ).catch((e: Error) => {
        throw new Error(
          `${e.message}; got ${JSON.stringify(second.events.map((x) => `${x.type} ${x.key}`))}; stderr: ${second.stderr()}`,
        );
      });
      const again = second.events.filter((e) => e.type === 'alert' && open.has(e.key));
      assert.deepEqual(again, [], 'an alert open before the kill is not sent again');
    } finally {
      second.proc.kill('SIGTERM');
      await new Promise((r) => second.proc.once('close', r));
    }
  });

  it('restarted while the leak goes on, the alerts still firing are not sent again', async () => {
    const db = join(dir, 'still.db');
    // The service now runs the fixed code: put the leaky one back for this test.
    const addr = new URL(svc.url).host;
    await svc.stop();
    svc = await serve(server, ['-variant', 'leaky', '-heartbeat', '30s', '-addr', addr]);
    const first = watch([...FAST, '--db', db, svc.url]);
    const growth = (w: typeof first): string[] =>
      w.events.filter((e) => e.type === 'alert' && e.detector === 'growth').map((e) => e.key);
    await until(() => growth(first).length >= 1, 120_000, 'a growth alert').catch((e: Error) => {
      throw new Error(`${e.message}; stderr: ${first.stderr()}`);
    });
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('close', r));
    const open = new Set(growth(first));

    const second = watch([...FAST, '--db', db, svc.url]);
    try {
      // Long enough for the growth detector to have fired again had it forgotten (it fired
      // within this time in the first run).
      await until(
        () => /scrape/.test(second.stderr()) || second.events.length > 0,
        5_000,
        '',
      ).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 15_000));
      const again = second.events.filter((e) => e.type === 'alert' && open.has(e.key));
      assert.deepEqual(again, [], 'the still-firing alerts are not sent again');
      const resolvedTooSoon = second.events.filter((e) => e.type === 'resolved' && open.has(e.key));
      assert.deepEqual(resolvedTooSoon, [], 'nor resolved while the leak goes on');

      // A second watcher on the same file is refused, naming the holder; nothing is written.
      const r = await cli(['watch', '--db', db, '--no-view', svc.url]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /already in use by another leakwatch watch \(pid \d+/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    } finally {
      second.proc.kill('SIGTERM');
      await new Promise((r) => second.proc.once('close', r));
    }
  });

  it('SIGTERM stops a watcher within 2 s, even with a scrape hanging on a silent target', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent: Server = createServer(() => undefined); // accepts, never answers
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const w = watch([
      '--db',
      join(dir, 'term.db'),
      '--interval',
      '1s',
      '--timeout',
      '60s',
      '--no-view',
      `http://127.0.0.1:${port}`,
    ]);
    try {
      await until(() => sockets.size > 0, 20_000, 'the scrape to reach the silent target');
      const t0 = Date.now();
      w.proc.kill('SIGTERM');
      await new Promise((r) => w.proc.once('close', r));
      const ms = Date.now() - t0;
      assert.ok(ms <= 2000, `stopped in ${ms} ms`);
      assert.equal(w.proc.exitCode, 0, w.stderr());
    } finally {
      w.proc.kill('SIGKILL');
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe('watch: a hostile target beside a leaking one', { skip, timeout: 240_000 }, () => {
  it('stays up, reports the hostile target with the cap it broke, and alerts on the leak', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakwatch-hostile-'));
    const hostile = await serve(buildProgram('cmd/hostile-pprof'), []);
    const leaky = await serve(buildProgram('cmd/notify-server'), ['-variant', 'leaky']);
    const loadBin = buildProgram('cmd/notify-load');
    let loading = true;
    const loadLoop = (async () => {
      for (let round = 1; loading; round++) {
        await loadRound(loadBin, [leaky.url], round).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const w = watch([...FAST, '--db', join(dir, 'h.db'), hostile.url, leaky.url]);
    try {
      const leakyName = new URL(leaky.url).host;
      await until(
        () =>
          w.events.some((e) => e.target === leakyName && e.detector === 'growth') &&
          /goroutine: more than \d+ (bytes|goroutines)/.test(w.stderr()),
        120_000,
        'a growth alert on the leaky target and a scrape error on the hostile one',
      ).catch((e: Error) => {
        throw new Error(`${e.message}; stderr: ${w.stderr()}`);
      });
      assert.equal(w.proc.exitCode, null, 'the watcher is still running');
      assert.match(
        w.stderr(),
        new RegExp(`${new URL(hostile.url).host}: scrape failed .*raise it with --max-`),
      );
    } finally {
      loading = false;
      w.proc.kill('SIGTERM');
      await new Promise((r) => w.proc.once('close', r));
      await loadLoop;
      await hostile.stop();
      await leaky.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
