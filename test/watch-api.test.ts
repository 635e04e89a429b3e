/**
 * The watcher's local API (src/watch/api.ts) on a real server on 127.0.0.1: `/metrics` read back
 * with Prometheus's own parser (testdata/promparse; skipped with the reason where it cannot be
 * built), hostile names in label values, alert delivery and store health on /metrics and in
 * JSON, credentials never shown, and the token.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Frame } from '../src/model/frame.js';
import { startApi, type ApiOptions, type WatchState } from '../src/watch/api.js';
import { AlertDispatcher } from '../src/watch/sinks/dispatch.js';
import { WebhookSink } from '../src/watch/sinks/webhook.js';
import type { StoreHealth } from '../src/watch/spool.js';
import type { AlertEvent, GroupCount, GroupInfo, Store } from '../src/watch/types.js';
import type { TargetStatus } from '../src/watch/watcher.js';
import { parseMetrics, promparse } from './helpers.js';

const EVIL = 'main.(*S).x"\\\n# TYPE fake gauge\nfake 1\u001b[2J';
const FRAME: Frame = { func: EVIL, pkg: 'main', file: '/src/x.go', line: 3 };
const TARGET = 'shop "eu"\\1\nfake_metric 666';

function watchState(): WatchState {
  const status: TargetStatus[] = [
    {
      name: TARGET,
      url: 'http://alice:s3cret@127.0.0.1:1',
      state: 'ok',
      lastTotal: 42,
      lastDurationMs: 250,
      failures: 0,
      scrapes: 3,
      firing: ['growth'],
    },
  ];
  const latest: GroupCount[] = [{ id: 'g1', count: 40, leaked: 0 }];
  const infos = new Map<string, GroupInfo>([
    ['g1', { id: 'g1', frames: [FRAME], holder: FRAME, blockedOn: 'chan-send' }],
  ]);
  return { status: () => status, history: () => ({ latest, infos }) };
}

/** The store calls the API makes, answered from memory. */
function memoryStore(): Store {
  const alert: AlertEvent = {
    type: 'alert',
    key: 'k',
    target: TARGET,
    detector: 'growth',
    at: '2026-01-10T03:00:00.000Z',
    summary: 'x',
    group: { id: 'g1', holder: FRAME, blockedOn: 'chan send', count: 40 },
    evidence: {},
    labels: {},
  };
  const partial: Partial<Store> = {
    totals: () => Promise.resolve([{ at: 1, value: 42 }]),
    latestGroups: () => Promise.resolve([{ id: 'g1', count: 40, leaked: 0 }]),
    groupInfo: () => Promise.resolve(undefined),
    groupSeries: () => Promise.resolve([]),
    alerts: () => Promise.resolve([alert]),
  };
  return partial as Store;
}

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

async function api(over: Partial<ApiOptions> = {}): Promise<string> {
  const server = await startApi({
    host: '127.0.0.1',
    port: 0,
    store: memoryStore(),
    watcher: watchState(),
    topN: 10,
    ...over,
  });
  closers.push(() => close(server));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/** A dispatcher with one webhook that failed once (HTTP 500, no retries) and one that worked. */
async function deliveries(): Promise<{ d: AlertDispatcher; bad: string; good: string }> {
  const mk = async (status: number): Promise<string> => {
    const s = createServer((_req, res) => res.writeHead(status).end('no'));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    closers.push(() => close(s));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  const bad = await mk(500);
  const good = await mk(200);
  const d = new AlertDispatcher([new WebhookSink({ url: bad }), new WebhookSink({ url: good })], {
    retries: 0,
    backoffMs: 1,
    timeoutMs: 5000,
    log: () => {},
  });
  d.publish({
    type: 'alert',
    key: 'k',
    target: 't',
    detector: 'peak',
    at: new Date(0).toISOString(),
    summary: 's',
    evidence: {},
    labels: {},
  });
  await d.flush();
  closers.push(() => d.close());
  return { d, bad: `webhook(${bad})`, good: `webhook(${good})` };
}

const health: StoreHealth = {
  errors: 3,
  lost: 2,
  pending: 7,
  lastError: 'SQLITE_FULL: database or disk is full',
};

describe('watch API: /metrics', () => {
  const pp = promparse();
  if (pp.skip) console.log(`# skipping the Prometheus-parser checks: ${pp.skip}`);
  let text = '';
  let sinks: { bad: string; good: string };
  before(async () => {
    const { d, bad, good } = await deliveries();
    sinks = { bad, good };
    const base = await api({ sinks: () => d.status(), storeHealth: () => health });
    const r = await fetch(`${base}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    text = await r.text();
  });

  it('hostile names forge no line and reach no terminal', () => {
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u0009\u000b-\u001f]/.test(text), 'no control character but newlines');
    for (const line of text.split('\n').filter(Boolean)) {
      assert.match(line, /^(# (HELP|TYPE) leakwatch_|leakwatch_[a-z_]+(\{.*\})? \d)/, line);
    }
    assert.ok(!text.includes('\nfake'), 'no forged sample');
  });

  it("Prometheus's parser reads every label value back as it was", { skip: pp.skip }, () => {
    const m = parseMetrics(pp.bin!, text);
    assert.deepEqual(m.leakwatch_goroutines, [{ labels: { target: TARGET }, value: 42 }]);
    assert.equal(m.fake, undefined);
    assert.equal(m.fake_metric, undefined);
    const [g] = m.leakwatch_group_goroutines!;
    // Quotes, backslashes and newlines survive; the ESC became U+FFFD.
    assert.deepEqual(g, {
      labels: {
        target: TARGET,
        group: 'g1',
        function: EVIL.replace('\u001b', '\ufffd'),
        blocked_on: 'chan-send',
      },
      value: 40,
    });
  });

  it('exports delivery per sink and the store health', { skip: pp.skip }, () => {
    const m = parseMetrics(pp.bin!, text);
    const by = (name: string): Record<string, number> =>
      Object.fromEntries((m[name] ?? []).map((s) => [s.labels.sink ?? '', s.value]));
    assert.deepEqual(by('leakwatch_alert_deliveries_failed_total'), {
      [sinks.bad]: 1,
      [sinks.good]: 0,
    });
    assert.deepEqual(by('leakwatch_alert_deliveries_total'), { [sinks.bad]: 0, [sinks.good]: 1 });
    assert.deepEqual(by('leakwatch_alert_deliveries_dropped_total'), {
      [sinks.bad]: 0,
      [sinks.good]: 0,
    });
    assert.deepEqual(by('leakwatch_alert_deliveries_pending'), { [sinks.bad]: 0, [sinks.good]: 0 });
    assert.deepEqual(by('leakwatch_alert_sink_failing'), { [sinks.bad]: 1, [sinks.good]: 0 });
    assert.deepEqual(m.leakwatch_store_errors_total, [{ labels: {}, value: 3 }]);
    assert.deepEqual(m.leakwatch_store_writes_lost_total, [{ labels: {}, value: 2 }]);
    assert.deepEqual(m.leakwatch_store_writes_pending, [{ labels: {}, value: 7 }]);
  });

  it('the same families, read without the parser', () => {
    assert.match(
      text,
      new RegExp(
        `leakwatch_alert_deliveries_failed_total\\{sink="${sinks.bad.replace(/[().]/g, '\\$&')}"\\} 1\n`,
      ),
    );
    assert.match(text, /\nleakwatch_store_errors_total 3\n/);
    assert.match(text, /\nleakwatch_store_writes_lost_total 2\n/);
    assert.match(text, /# TYPE leakwatch_alert_deliveries_failed_total counter\n/);
  });
});

describe('watch API: JSON', () => {
  it('/api/sinks and /api/store say what failed; /api/targets never shows credentials', async () => {
    const { d, bad, good } = await deliveries();
    const base = await api({ sinks: () => d.status(), storeHealth: () => health });
    const s = (await (await fetch(`${base}/api/sinks`)).json()) as {
      sinks: { name: string; sent: number; failed: number; failing: boolean; lastError?: string }[];
    };
    const byName = new Map(s.sinks.map((x) => [x.name, x]));
    assert.equal(byName.get(bad)!.failed, 1);
    assert.equal(byName.get(bad)!.failing, true);
    assert.match(byName.get(bad)!.lastError!, /HTTP 500/);
    assert.equal(byName.get(good)!.sent, 1);
    assert.deepEqual(await (await fetch(`${base}/api/store`)).json(), health);

    const t = await fetch(`${base}/api/targets`);
    const body = await t.text();
    assert.ok(!body.includes('alice') && !body.includes('s3cret'), body);
    const j = JSON.parse(body) as { targets: { name: string; url: string }[] };
    assert.equal(j.targets[0]!.url, 'http://127.0.0.1:1/');
    // JSON carries the name as it is; escaped only as JSON escapes it.
    assert.equal(j.targets[0]!.name, TARGET);

    const a = (await (await fetch(`${base}/api/alerts`)).json()) as { alerts: AlertEvent[] };
    assert.deepEqual(a.alerts[0]!.group!.holder, FRAME);
  });

  it('a bad path is a 400 or 404, never a 500', async () => {
    const base = await api();
    assert.equal((await fetch(`${base}/api/targets/%E0%A4%A/groups`)).status, 400);
    assert.equal((await fetch(`${base}/api/nothing`)).status, 404);
    assert.equal((await fetch(`${base}/api/store`)).status, 200);
  });
});

describe('watch API: token', () => {
  it('only the exact bearer token gets in', async () => {
    const token = 'tok-0123456789';
    const base = await api({ token });
    const get = async (auth?: string): Promise<number> =>
      (await fetch(`${base}/api/targets`, { headers: auth ? { authorization: auth } : {} })).status;
    assert.equal(await get(), 401);
    assert.equal(await get(`Bearer ${token}`), 200);
    assert.equal(await get(`Bearer ${token.slice(0, -1)}X`), 401, 'same length, one byte off');
    assert.equal(await get(`Bearer ${token}0`), 401, 'longer');
    assert.equal(await get(`Bearer ${token.slice(0, 4)}`), 401, 'a prefix');
    assert.equal(await get(`bearer ${token}`), 401);
    assert.equal((await fetch(`${base}/metrics`)).status, 401);
  });

  it('off loopback, no token is a user error', async () => {
    await assert.rejects(
      startApi({
        host: '0.0.0.0',
        port: 0,
        store: memoryStore(),
        watcher: watchState(),
        topN: 1,
      }),
      /needs a token/,
    );
  });
});
