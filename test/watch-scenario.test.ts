/**
 * The reference scenario, end to end: the notification service from testdata, leaky and fixed,
 * serving real WebSockets and net/http/pprof; a load driver whose clients subscribe and vanish
 * without a close frame; `leakwatch watch --json` as its own process. It must alert on the
 * leaky service within a few scrapes, naming the pump, heartbeat and publisher groups with their
 * creation sites, and stay silent on the fixed one. Then: killed with -9 mid-run, restarted on
 * the same database, its history is intact.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadRound } from '../src/cli/commands/demo.js';
import { readHeap } from '../src/readers/heap.js';
import { buildProgram, cli, noGo, ROOT, serve, type Served } from './helpers.js';
import { FAST, until, watch, type Event } from './watch-helpers.js';

const skip = noGo();
if (skip) console.log(`# skipping the watch reference scenario: ${skip}`);

const fn = (f: { func: string } | undefined): string =>
  (f?.func ?? '').replace(/^.*\(\*Service\)\./, '');

describe('watch: the reference scenario', { skip, timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-watch-'));
  let leaky: Served;
  let fixed: Served;
  let loadBin = '';
  let loading = true;
  let loadLoop: Promise<void>;

  before(async () => {
    const server = buildProgram('cmd/notify-server');
    loadBin = buildProgram('cmd/notify-load');
    leaky = await serve(server, ['-variant', 'leaky', '-heartbeat', '30s']);
    fixed = await serve(server, ['-variant', 'fixed', '-heartbeat', '30s']);
    let round = 0;
    // The same load on both, all along: users who subscribe and vanish. Some get three
    // messages (the second write fails, the pump quits, the third sender blocks forever);
    // others get none (their pump waits forever). Every one of them leaves a heartbeat.
    loadLoop = (async () => {
      while (loading) {
        await loadRound(loadBin, [leaky.url, fixed.url], ++round);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
  });
  after(async () => {
    loading = false;
    await loadLoop;
    await leaky.stop();
    await fixed.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('alerts on the leaky service, naming pump, heartbeat and publishers with their creation sites; silent on the fixed one', async () => {
    const db = join(dir, 'scenario.db');
    // --source: each alert comes linked to the line of code and the lint finding behind it.
    const source = join(ROOT, 'testdata', 'notify');
    const w = watch([...FAST, '--db', db, '--source', source, leaky.url, fixed.url]);
    const leakyName = new URL(leaky.url).host;
    const fixedName = new URL(fixed.url).host;
    const growth = (): Map<string, Event> =>
      new Map(
        w.events
          .filter((e) => e.target === leakyName && e.detector === 'growth')
          .map((e) => [fn(e.group?.holder), e]),
      );
    try {
      const peaked = (): boolean =>
        w.events.some((e) => e.target === leakyName && e.detector === 'peak');
      await until(
        () =>
          peaked() &&
          ['deliver', 'heartbeat', 'pumpMessages'].every((f) => growth().get(f)?.group?.createdBy),
        120_000,
        'the 1.5x-peak alert and growth alerts for the three groups',
      ).catch((e: Error) => {
        throw new Error(
          `${e.message}; got ${JSON.stringify(w.events.map((x) => x.summary))}; stderr: ${w.stderr()}`,
        );
      });
      const g = growth();
      assert.equal(fn(g.get('deliver')!.group!.createdBy), 'Publish');
      assert.equal(fn(g.get('heartbeat')!.group!.createdBy), 'Subscribe');
      assert.equal(fn(g.get('pumpMessages')!.group!.createdBy), 'Subscribe');
      assert.equal(g.get('deliver')!.group!.blockedOn, 'chan-send');
      const lines = (f: string): number[] => (g.get(f)!.link?.findings ?? []).map((x) => x.line);
      assert.ok(lines('deliver').includes(144), `deliver: the orphaned send, ${lines('deliver')}`);
      assert.ok(lines('heartbeat').includes(106), `heartbeat: the ticker, ${lines('heartbeat')}`);

      // One identity: the same stacks carry the same group ids in a watch alert, in
      // `analyze --json` of the live service, and in `test --json` of the package's own test
      // (which leaks the same goroutines from a test binary).
      const ids = (groups: { id: string; holdingFrame: { function: string } | null }[]) =>
        new Map(groups.map((x) => [fn({ func: x.holdingFrame?.function ?? '' }), x.id]));
      const live = await cli(['analyze', '--json', leaky.url]);
      const fromAnalyze = ids((JSON.parse(live.stdout) as { groups: never[] }).groups);
      const tested = await cli(['test', '--json', '-C', join(ROOT, 'testdata'), './notify']);
      const fromTest = ids(
        (JSON.parse(tested.stdout) as { packages: { leaks: never[] }[] }).packages.flatMap(
          (p) => p.leaks,
        ),
      );
      for (const f of ['deliver', 'heartbeat', 'pumpMessages']) {
        const id = g.get(f)!.group!.id;
        assert.equal(fromAnalyze.get(f), id, `${f}: analyze --json names the alert's group`);
        // The package's test sends to every client, so its pumps all end: no pump group there.
        if (f !== 'pumpMessages')
          assert.equal(fromTest.get(f), id, `${f}: test --json names the alert's group`);
      }
      // The fixed service, under the same load for the same time: nothing.
      assert.deepEqual(
        w.events.filter((e) => e.target === fixedName),
        [],
      );
    } finally {
      w.proc.kill('SIGTERM');
      await new Promise((r) => w.proc.once('close', r));
    }
  });

  it("reads the watched service's real heap profile: bytes in use and allocation sites", async () => {
    const h = await readHeap(`${leaky.url}/debug/pprof/heap`, {});
    assert.ok(h.inuse > 0);
    assert.ok(h.sites.length > 0);
    assert.ok(
      h.sites.every((s) => !s.frame.func.startsWith('runtime.')),
      'sites are outside the runtime',
    );
  });

  it('killed with -9 mid-run, a restarted watcher keeps its history', async () => {
    const db = join(dir, 'kill9.db');
    const listen = ['--listen', '127.0.0.1:0'];
    const name = new URL(leaky.url).host;
    const history = async (port: number): Promise<{ at: number; value: number }[]> => {
      const r = await fetch(
        `http://127.0.0.1:${port}/api/targets/${encodeURIComponent(name)}/history?minutes=60`,
      );
      return ((await r.json()) as { totals: { at: number; value: number }[] }).totals;
    };
    const apiPort = async (w: ReturnType<typeof watch>): Promise<number> => {
      await until(() => /API on http:\/\/[^:]+:\d+/.test(w.stderr()), 20_000, 'the API address');
      return Number(/API on http:\/\/[^:]+:(\d+)/.exec(w.stderr())![1]);
    };
    const first = watch([...FAST, ...listen, '--db', db, leaky.url]);
    const port1 = await apiPort(first);
    let before: { at: number; value: number }[] = [];
    for (let i = 0; i < 60 && before.length < 5; i++) {
      before = await history(port1);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(before.length >= 5, `${before.length} scrapes before the kill`);
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('close', r));

    const second = watch([...FAST, ...listen, '--db', db, leaky.url]);
    try {
      const port2 = await apiPort(second);
      let after: { at: number; value: number }[] = [];
      for (let i = 0; i < 60; i++) {
        after = await history(port2);
        if (after.length > before.length) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const had = new Set(after.map((p) => p.at));
      assert.ok(
        before.every((p) => had.has(p.at)),
        'every scrape recorded before the kill is still there',
      );
      assert.ok(after.length > before.length, 'and the restarted watcher adds to it');
      assert.doesNotMatch(second.stderr(), /corrupt|malformed/i);
    } finally {
      second.proc.kill('SIGTERM');
      await new Promise((r) => second.proc.once('close', r));
    }
  });
});
