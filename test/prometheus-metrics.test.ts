/**
 * What /metrics gives Prometheus per target (src/watch/api.ts), read back with Prometheus's own
 * parser (testdata/promparse): the target's labels, made valid and never replacing `target`; the
 * learnt normal peak only once learnt; at most K stack groups, those that rose most, none idle by
 * design; and so at most targets x (K + 2) leak series.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { Frame } from '../src/model/frame.js';
import { startApi, type WatchState } from '../src/watch/api.js';
import type { GroupCount, GroupInfo, Point, Store } from '../src/watch/types.js';
import type { TargetStatus } from '../src/watch/watcher.js';
import { cli, parseMetrics, promparse, type Sample } from './helpers.js';

const pp = promparse();
if (pp.skip) console.log(`# skipping the /metrics checks: ${pp.skip}`);

const frame = (func: string): Frame => ({ func, pkg: 'main', file: '/src/x.go', line: 1 });

interface Fake {
  status: TargetStatus;
  latest: GroupCount[];
  infos: GroupInfo[];
  /** Count per group at the start of the kept history. */
  start: Record<string, number>;
  normalPeak?: number;
}

function state(targets: Fake[]): WatchState {
  return {
    status: () => targets.map((t) => t.status),
    history: (name) => {
      const t = targets.find((x) => x.status.name === name);
      if (!t) return undefined;
      const groups = new Map<string, Point[]>(
        t.latest.map((g) => [
          g.id,
          [
            { at: 1000, value: t.start[g.id] ?? g.count },
            { at: 2000, value: g.count },
          ],
        ]),
      );
      return {
        latest: t.latest,
        infos: new Map(t.infos.map((i) => [i.id, i])),
        groups,
        ...(t.normalPeak === undefined ? {} : { normalPeak: t.normalPeak }),
      };
    },
  };
}

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

async function scrape(targets: Fake[], k: number): Promise<Record<string, Sample[]>> {
  const server = await startApi({
    host: '127.0.0.1',
    port: 0,
    store: {} as Store, // /metrics reads the watcher only
    watcher: state(targets),
    topN: k,
  });
  closers.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
  assert.equal(r.status, 200);
  return parseMetrics(pp.bin!, await r.text());
}

const LONG = `main.${'x'.repeat(500)}`;

/** A target with eight groups: g0..g5 plain, `idle` idle by design, `long` a very long name. */
function target(name: string, labels: Record<string, string>, normalPeak?: number): Fake {
  const ids = ['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'idle', 'long'];
  return {
    status: {
      name,
      url: 'http://127.0.0.1:1',
      labels,
      state: 'ok',
      lastTotal: 900,
      failures: 0,
      scrapes: 9,
      firing: [],
    },
    // Largest first, as the watcher keeps them: g0 is the largest and never rose.
    latest: ids.map((id, i) => ({ id, count: 400 - i * 40, leaked: 0 })),
    infos: ids.map((id) => ({
      id,
      frames: [frame(id === 'long' ? LONG : `main.${id}`)],
      holder: frame(id === 'long' ? LONG : `main.${id}`),
      blockedOn: 'chan-send',
      ...(id === 'idle' ? { idle: 'net/http server connection' } : {}),
    })),
    // g5 rose most, then the idle one (not exported), then g3, then `long`; the rest are flat.
    start: { g5: 0, idle: 0, g3: 200, long: 100 },
    ...(normalPeak === undefined ? {} : { normalPeak }),
  };
}

describe('/metrics for Prometheus', { skip: pp.skip }, () => {
  it("carries the target's labels, valid and never over `target`", async () => {
    const m = await scrape(
      [
        target('checkout', {
          team: 'payments',
          'app.kubernetes.io/name': 'checkout',
          target: 'forged',
          group: 'forged',
          __name__: 'forged',
          '9zone': 'eu-1',
          empty: '',
          'a.b': 'first',
          a_b: 'second',
        }),
      ],
      5,
    );
    assert.deepEqual(m.leakwatch_goroutines, [
      {
        labels: {
          target: 'checkout',
          team: 'payments',
          app_kubernetes_io_name: 'checkout',
          _9zone: 'eu-1',
          a_b: 'first',
        },
        value: 900,
      },
    ]);
    // The same labels on every per-target family, so a rule can join any two.
    for (const name of ['leakwatch_scrape_up', 'leakwatch_alerts_firing'])
      assert.deepEqual(m[name]![0]!.labels, m.leakwatch_goroutines![0]!.labels, name);
    for (const s of m.leakwatch_group_goroutines!) {
      assert.equal(s.labels.target, 'checkout');
      assert.equal(s.labels.team, 'payments');
      assert.notEqual(s.labels.group, 'forged');
    }
  });

  it('exports the normal peak only once it is learnt', async () => {
    const m = await scrape([target('new', {}), target('old', { team: 'a' }, 600)], 5);
    assert.deepEqual(m.leakwatch_normal_peak_goroutines, [
      { labels: { target: 'old', team: 'a' }, value: 600 },
    ]);
  });

  it('exports the K groups that rose most, never an idle one, with bounded names', async () => {
    const m = await scrape([target('checkout', {})], 3);
    const groups = m.leakwatch_group_goroutines!;
    assert.deepEqual(
      groups.map((s) => [s.labels.group, s.value]),
      [
        ['g5', 200], // rose by 200
        ['g3', 280], // rose by 80
        ['long', 120], // rose by 20
      ],
    );
    const long = groups.find((s) => s.labels.group === 'long')!;
    assert.equal(long.labels.function!.length, 200);
    assert.ok(long.labels.function!.startsWith('main.xxx') && long.labels.function!.endsWith('…'));
    assert.equal(groups[0]!.labels.function, 'main.g5');
    assert.equal(groups[0]!.labels.blocked_on, 'chan-send');

    // With room to spare, the flat groups fill it, largest first; the idle one still never.
    const all = (await scrape([target('checkout', {})], 10)).leakwatch_group_goroutines!;
    assert.deepEqual(
      all.map((s) => s.labels.group),
      ['g5', 'g3', 'long', 'g0', 'g1', 'g2', 'g4'],
    );
  });

  it('keeps the leak series to targets x (K + 2)', async () => {
    const k = 4;
    const targets = Array.from({ length: 25 }, (_, i) => target(`t${i}`, { team: 't' }, 500));
    const m = await scrape(targets, k);
    const leak =
      m.leakwatch_goroutines!.length +
      m.leakwatch_normal_peak_goroutines!.length +
      m.leakwatch_group_goroutines!.length;
    assert.equal(leak, 25 * (k + 2));
  });
});

describe('watch --metrics-groups', () => {
  it('above 100 groups per target is one line, exit 2, before anything is opened', async () => {
    const r = await cli([
      'watch',
      '--metrics-groups',
      '101',
      '--db',
      '/nonexistent/x.db',
      'http://127.0.0.1:1',
    ]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'leakwatch: --metrics-groups 101: at most 100 groups per target\n');
  });
  it('a value that is not a whole number is refused by the flag parser, exit 2', async () => {
    const r = await cli(['watch', '--metrics-groups', 'five', 'http://127.0.0.1:1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--metrics-groups must be a whole number/);
  });
});
