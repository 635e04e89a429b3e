/**
 * The dashboard's JSON over real stores, without a browser: long ranges thinned to the chart's
 * width with their peaks kept, growth judged on enough scrapes (a group of 1 that became 3 is
 * not "growing"), the group view's answers (ownership, fix, waits, the runtime's verdict), a
 * zoom window, and `leakwatch serve` over a PostgreSQL URL (the real server on 127.0.0.1:5432,
 * a database of our own, dropped after; skipped with the reason when no server answers).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, get as httpGet, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { dashboardHandler, thin } from '../src/dashboard/server.js';
import { openStore } from '../src/watch/store/open.js';
import { openSqliteStore } from '../src/watch/store/sqlite.js';
import type { GroupInfo, Point, Scrape, Store } from '../src/watch/types.js';
import { startServe, type ServeProcess } from './dashboard-helpers.js';
import { cli } from './helpers.js';
import { pgAdmin, pgUser } from './pg-helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.UTC(2026, 5, 1, 12);

const frame = (func: string, line: number) => ({
  func: `example.com/svc.${func}`,
  pkg: 'example.com/svc',
  file: '/src/svc/svc.go',
  line,
});
const info = (id: string, func: string): GroupInfo => ({
  id,
  frames: [frame(func, 40)],
  holder: frame(func, 40),
  holderOwner: 'user',
  createdBy: frame('Start', 12),
  blockedOn: 'chan-send',
});

/**
 * Three days of one-minute scrapes of `svc`: a flat total of 100 with one spike to 900, and
 * groups over the last hour: `big` +1 a minute, `tiny` 1 then 3, `young` seen only in the
 * last 3 scrapes (a burst, not a trend), `flat` 50.
 */
async function fill(store: Store): Promise<void> {
  const from = NOW - 72 * HOUR;
  for (let at = from, i = 0; at <= NOW; at += MIN, i++) {
    const inLastHour = at > NOW - HOUR;
    const k = Math.round((at - (NOW - HOUR)) / MIN);
    const groups: Scrape['groups'] = [{ id: 'flat', count: 50, leaked: 0 }];
    if (inLastHour) {
      groups.push({ id: 'big', count: 10 + k, leaked: 0 });
      groups.push({ id: 'tiny', count: k < 30 ? 1 : 3, leaked: 0 });
      if (at > NOW - 3 * MIN) groups.push({ id: 'young', count: 10 * k, leaked: 2 });
    }
    const s: Scrape = {
      target: 'svc',
      at,
      total: at === from + 36 * HOUR ? 900 : 100,
      groups,
      infos: i === 0 ? ['flat', 'big', 'tiny', 'young'].map((id) => info(id, `(*W).${id}`)) : [],
      durationMs: 1,
      source: 'proto',
    };
    if (at === NOW) s.waits = new Map([['big', 42]]);
    // Two debug=2 dumps: big's goroutines age between them; flat's are a day old by the second.
    if (at === NOW - 30 * MIN)
      s.waitBuckets = new Map([
        ['big', [30, 10]],
        ['flat', [0, 0, 0, 0, 0, 50]],
      ]);
    if (at === NOW)
      s.waitBuckets = new Map([
        ['big', [20, 30, 20]],
        ['flat', [0, 0, 0, 0, 0, 0, 50]],
      ]);
    if (i % 10 === 0) s.heap = { inuse: 1e6 * (1 + (i % 7)), sites: [] };
    await store.addScrape(s);
  }
  await store.setBaseline('svc', { since: from, normalPeak: 120 });
}

async function listen(store: Store): Promise<{ base: string; server: Server }> {
  const handle = dashboardHandler(store, { now: () => NOW });
  const server = createServer((req, res) => {
    if (!handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function get<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  assert.equal(r.status, 200, url);
  return (await r.json()) as T;
}

/** A series point as the dashboard's JSON sends it. */
type Pair = [at: number, value: number];

interface TargetJson {
  scrapes: number;
  totals: Pair[];
  heap: Pair[];
  threshold: number;
  groups: { id: string; count: number; growthPerHour: number | null; growing: boolean }[];
}

describe('thin: about n points over a range, the largest of each time bucket', () => {
  it('keeps the spike and spends points by time, not by index', () => {
    // A day of 15 s points, then 29 days of 5-minute ones before it: as the store keeps them.
    const day = 24 * HOUR;
    const pts: Point[] = [];
    for (let at = 0; at < 29 * day; at += 5 * MIN) pts.push({ at, value: 10 });
    for (let at = 29 * day; at < 30 * day; at += 15_000) pts.push({ at, value: 10 });
    pts[100]!.value = 999;
    const out = thin(pts, 300, 0, 30 * day);
    assert.ok(out.length <= 301, `${out.length} points`);
    assert.ok(
      out.some((p) => p.value === 999),
      'the spike survives',
    );
    const lastDay = out.filter((p) => p.at >= 29 * day).length;
    assert.ok(lastDay <= 11, `the detailed last day gets its share of the width: ${lastDay}`);
    assert.deepEqual(thin(pts.slice(0, 5), 300, 0, 30 * day), pts.slice(0, 5), 'short: as is');
  });
});

describe('dashboard JSON over a SQLite store', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-dash-api-'));
  let store: Store;
  let base: string;
  let server: Server;
  before(async () => {
    store = openSqliteStore(join(dir, 'svc.db'));
    await fill(store);
    ({ base, server } = await listen(store));
  });
  after(async () => {
    server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a 72 h range: every scrape counted, about `points` drawn, the spike kept', async () => {
    const v = await get<TargetJson>(`${base}/ui/api/target?name=svc&hours=72&points=400`);
    assert.equal(v.scrapes, 72 * 60 + 1);
    assert.ok(v.totals.length <= 401, `${v.totals.length} points`);
    assert.equal(Math.max(...v.totals.map((p) => p[1])), 900);
    assert.equal(v.threshold, 180);
  });

  it('growth per hour in goroutines: big on top; tiny (1 to 3) and young (3 scrapes) not flagged', async () => {
    const v = await get<TargetJson>(`${base}/ui/api/target?name=svc&hours=24`);
    const by = new Map(v.groups.map((g) => [g.id, g]));
    assert.equal(v.groups[0]!.id, 'big');
    assert.equal(by.get('big')!.growing, true);
    assert.ok(Math.abs(by.get('big')!.growthPerHour! - 60) < 1, `${by.get('big')!.growthPerHour}`);
    assert.equal(by.get('tiny')!.growing, false, 'a group of 1 that became 3');
    assert.equal(by.get('young')!.growing, false, 'a burst in the last 3 scrapes is no trend');
    assert.equal(by.get('flat')!.growing, false);
    // A window of 4 minutes holds 5 scrapes: too few to judge anything.
    const short = await get<TargetJson>(
      `${base}/ui/api/target?name=svc&from=${NOW - 4 * MIN}&to=${NOW}`,
    );
    assert.deepEqual(
      short.groups.map((g) => [g.growthPerHour, g.growing]),
      short.groups.map(() => [null, false]),
    );
  });

  it('a zoom window comes back at full detail', async () => {
    const from = NOW - 36 * HOUR - 10 * MIN;
    const s = await get<{ totals: Pair[]; scrapes: number }>(
      `${base}/ui/api/series?name=svc&from=${from}&to=${from + 20 * MIN}&points=1000`,
    );
    assert.equal(s.scrapes, 21);
    assert.equal(s.totals.length, 21);
    assert.ok(s.totals.every(([at]) => at >= from && at <= from + 20 * MIN));
    assert.deepEqual(s.totals[10], [from + 10 * MIN, 900], 'the spike, as an [at, value] pair');
  });

  it('the group view: ownership answers, usual fix, longest wait, the runtime verdict', async () => {
    const g = await get<{
      ownership: { who: string; what: string; holds: string };
      fix: string;
      waitMinutes: number | null;
      leaked: number;
      source: boolean;
      link: unknown;
    }>(`${base}/ui/api/group?name=svc&id=big`);
    assert.equal(g.ownership.who, 'svc.Start at svc/svc.go:12');
    assert.match(g.ownership.what, /in svc\.\(\*W\)\.big at svc\/svc\.go:40$/);
    assert.match(g.fix, /select with ctx\.Done/);
    assert.equal(g.waitMinutes, 42);
    assert.equal(g.leaked, 0);
    assert.equal(g.source, false, 'no checkout given');
    assert.equal(g.link, null);
    const young = await get<{ leaked: number; waitMinutes: number | null }>(
      `${base}/ui/api/group?name=svc&id=young`,
    );
    assert.equal(young.leaked, 2);
    assert.equal(young.waitMinutes, null);
  });

  it("the group view: its goroutines per wait bucket at the range's first and last dump", async () => {
    type Waits = {
      waitBuckets: string[];
      waits: { first: { at: number; counts: number[] }; last: { at: number; counts: number[] } };
    };
    const g = await get<Waits>(`${base}/ui/api/group?name=svc&id=big&hours=24`);
    assert.deepEqual(g.waitBuckets, [
      '< 1 min',
      '1–5 min',
      '5–15 min',
      '15–60 min',
      '1–6 h',
      '6–24 h',
      '≥ 1 day',
    ]);
    assert.deepEqual(g.waits.first, { at: NOW - 30 * MIN, counts: [30, 10, 0, 0, 0, 0, 0] });
    assert.deepEqual(g.waits.last, { at: NOW, counts: [20, 30, 20, 0, 0, 0, 0] });
    // A window holding only the last dump; one holding none.
    const last = await get<Waits>(
      `${base}/ui/api/group?name=svc&id=flat&from=${NOW - MIN}&to=${NOW}`,
    );
    assert.deepEqual(last.waits.first, last.waits.last);
    assert.deepEqual(last.waits.last.counts, [0, 0, 0, 0, 0, 0, 50]);
    const none = await get<{ waits: unknown }>(
      `${base}/ui/api/group?name=svc&id=flat&from=${NOW - 2 * HOUR}&to=${NOW - HOUR}`,
    );
    assert.equal(none.waits, null);
  });
});

describe(
  'leakwatch serve over a saved SQLite file: ranges end at its last scrape, gzip',
  {
    timeout: 120_000,
  },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakwatch-dash-saved-'));
    const db = join(dir, 'saved.db');
    let served: ServeProcess;
    before(async () => {
      const store = openSqliteStore(db);
      await fill(store);
      await store.close();
      served = await startServe(['--db', db, '--listen', '127.0.0.1:0']);
    });
    after(async () => {
      await served?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('an address already in use: one line naming --listen, exit 2, the first server untouched', async () => {
      const port = new URL(served.url).port;
      const r = await cli(['serve', '--db', db, '--listen', `127.0.0.1:${port}`]);
      assert.equal(r.code, 2);
      assert.equal(r.stderr, `leakwatch: --listen 127.0.0.1:${port}: address in use\n`);
      assert.equal((await fetch(`${served.url}/ui/`)).status, 200);
    });

    it('the last 24 h of a database last written months ago are the 24 h before its last scrape', async () => {
      assert.ok(Date.now() - NOW > 30 * 24 * HOUR, 'the fixture is old by this clock');
      const v = await get<TargetJson>(`${served.url}/ui/api/target?name=svc&hours=24`);
      assert.equal(v.scrapes, 24 * 60 + 1, 'every scrape of the last stored day');
      assert.equal(v.totals.at(-1)![0], NOW);
      const g = await get<{ series: Pair[]; waits: { last: { at: number } } | null }>(
        `${served.url}/ui/api/group?name=svc&id=big&hours=1`,
      );
      assert.equal(g.series.at(-1)![0], NOW);
      assert.equal(g.waits?.last.at, NOW);
      const fleet = await get<{ targets: { name: string; spark: Pair[] }[] }>(
        `${served.url}/ui/api/fleet`,
      );
      assert.ok(fleet.targets[0]!.spark.length > 50, 'the sparkline draws the last stored day');
    });

    it('gzips JSON and assets for a client that takes it, with the same headers; plain otherwise', async () => {
      const raw = (path: string, encoding?: string) =>
        new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
          httpGet(
            `${served.url}${path}`,
            { headers: encoding ? { 'accept-encoding': encoding } : {} },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
            },
          ).on('error', reject);
        });
      for (const path of ['/ui/api/target?name=svc&hours=72', '/ui/assets/app.js', '/ui/target']) {
        const zipped = await raw(path, 'gzip, deflate, br');
        const plain = await raw(path);
        const refused = await raw(path, 'gzip;q=0, identity');
        assert.equal(zipped.headers['content-encoding'], 'gzip', path);
        assert.equal(plain.headers['content-encoding'], undefined, path);
        assert.equal(refused.headers['content-encoding'], undefined, `${path}: q=0 refuses gzip`);
        assert.deepEqual(gunzipSync(zipped.body), plain.body, `${path}: the same bytes`);
        assert.ok(
          zipped.body.length * 2 < plain.body.length,
          `${path}: ${zipped.body.length} of ${plain.body.length} bytes`,
        );
        for (const h of ['content-security-policy', 'x-content-type-options', 'content-type'])
          assert.equal(zipped.headers[h], plain.headers[h], `${path}: ${h}`);
        assert.match(String(zipped.headers.vary), /accept-encoding/i);
      }
    });
  },
);

const found = await pgUser();
const noPg = 'why' in found ? found.why : undefined;
if (noPg) console.log(`# skipping leakwatch serve over PostgreSQL: ${noPg}`);

describe('leakwatch serve --db postgres://...', { skip: noPg, timeout: 120_000 }, () => {
  const user = 'user' in found ? found.user : 'postgres';
  const db = `dashtgt_${randomBytes(4).toString('hex')}`;
  const admin = (sql: string): Promise<unknown> => pgAdmin(user, (c) => c.query(sql));
  const url = `postgres://${user}@127.0.0.1:5432/${db}`;
  before(async () => {
    await admin(`CREATE DATABASE ${db}`);
    const store = await openStore(url);
    try {
      await fill(store);
    } finally {
      await store.close();
    }
  });
  after(async () => {
    await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  });

  it('serves the fleet, the target and a group from the fleet database', async () => {
    const served = await startServe(['--db', url, '--listen', '127.0.0.1:0']);
    try {
      const base = served.url;
      const fleet = await get<{ targets: { name: string; lastTotal: number }[] }>(
        `${base}/ui/api/fleet`,
      );
      assert.deepEqual(
        fleet.targets.map((t) => [t.name, t.lastTotal]),
        [['svc', 100]],
      );
      // A saved database: "the last 72 h" end at its last scrape, not at this clock's now.
      const v = await get<TargetJson>(`${base}/ui/api/target?name=svc&hours=72&points=400`);
      assert.equal(v.scrapes, 72 * 60 + 1);
      assert.equal(Math.max(...v.totals.map((p) => p[1])), 900);
      assert.equal(v.groups[0]!.id, 'big');
      const page = await fetch(`${base}/ui/target?name=svc`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    } finally {
      await served.stop();
    }
  });
});
