/**
 * The SQLite store of `leakwatch watch`: refusals, migrations, interning, queries, retention and
 * the size cap, on real database files in a temporary directory. (Crash safety under kill -9 is
 * in watch-store-crash.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { UserError } from '../src/errors.js';
import { APPLICATION_ID, SCHEMA_VERSION } from '../src/watch/store/schema.js';
import { openSqliteStore, type Retention } from '../src/watch/store/sqlite.js';
import type { AlertEvent, GroupInfo, Scrape } from '../src/watch/types.js';
import { storeConformance } from './store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'leakwatch-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
function fresh(): string {
  return join(dir, `db-${++seq}.db`);
}

const MIN = 60_000;
const HOUR = 60 * MIN;
/** An hour boundary, so bucket arithmetic in the tests is easy to follow. */
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const STEP = 15_000;

function scrape(target: string, i: number, groups: [string, number][], infos: GroupInfo[] = []) {
  const s: Scrape = {
    target,
    at: T0 + i * STEP,
    total: groups.reduce((a, [, n]) => a + n, 0),
    groups: groups.map(([id, count]) => ({ id, count, leaked: 0 })),
    infos,
    durationMs: 2,
    source: 'proto',
  };
  return s;
}

function info(id: string, extra: Partial<GroupInfo> = {}): GroupInfo {
  const f = { func: `main.${id}`, pkg: 'main', file: 'main.go', line: 1 };
  return { id, blockedOn: 'chan-receive', frames: [f], ...extra };
}

/** A one-line UserError naming the file. */
function refuses(fn: () => unknown, path: string, why: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `a UserError, got ${String(err)}`);
    assert.ok(err.message.includes(path), `names the file: ${err.message}`);
    assert.match(err.message, why);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return true;
  });
}

/** prune() until it has caught up (each call works within its time budget). */
function pruneAll(s: { pruneNow(now: number): boolean }, now: number): number {
  let calls = 1;
  while (!s.pruneNow(now)) {
    if (++calls > 100_000) assert.fail('prune() never caught up');
  }
  return calls;
}

function raw(path: string): Database.Database {
  return new Database(path);
}

describe('watch store: opening', () => {
  it('creates a leakwatch database: WAL, application id, schema version', async () => {
    const p = fresh();
    openSqliteStore(p).close();
    const db = raw(p);
    assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('auto_vacuum', { simple: true }), 2, 'incremental auto-vacuum');
    assert.deepEqual(
      db.prepare('SELECT version FROM schema_version').pluck().all(),
      Array.from({ length: SCHEMA_VERSION }, (_, k) => k + 1),
    );
    db.close();
  });

  it('reopens without migrating again, history intact', async () => {
    const p = fresh();
    let s = openSqliteStore(p);
    await s.addScrape(scrape('a', 0, [['g1', 5]], [info('g1')]));
    s.closeNow();
    for (let k = 0; k < 3; k++) {
      s = openSqliteStore(p);
      assert.deepEqual(await s.totals('a', 0, Infinity), [{ at: T0, value: 5 }]);
      s.closeNow();
    }
    const db = raw(p);
    assert.equal(db.prepare('SELECT count(*) FROM schema_version').pluck().get(), SCHEMA_VERSION);
    db.close();
  });

  it('takes an empty file (touch leakwatch.db)', async () => {
    const p = fresh();
    writeFileSync(p, '');
    openSqliteStore(p).close();
    const db = raw(p);
    assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
    db.close();
  });

  it('refuses a SQLite database of something else, and leaves it untouched', async () => {
    const p = fresh();
    const db = raw(p);
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
    db.close();
    const before = readFileSync(p);
    refuses(() => openSqliteStore(p), p, /not a leakwatch database/);
    assert.deepEqual(readFileSync(p), before);
  });

  it('refuses a file that is not a database, and leaves it untouched', async () => {
    const p = fresh();
    const text = 'goroutine 1 [running]:\nmain.main()\n\t/app/main.go:10 +0x1d\n'.repeat(200);
    writeFileSync(p, text);
    refuses(() => openSqliteStore(p), p, /not a leakwatch database \(not SQLite\)/);
    assert.equal(readFileSync(p, 'utf8'), text);
  });

  it('refuses a leakwatch database from a newer schema', async () => {
    const p = fresh();
    openSqliteStore(p).close();
    const db = raw(p);
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, 0)').run(
      SCHEMA_VERSION + 1,
    );
    db.close();
    refuses(
      () => openSqliteStore(p),
      p,
      new RegExp(`newer leakwatch \\(schema ${SCHEMA_VERSION + 1}`),
    );
  });

  it('refuses paths it cannot keep a database at', async () => {
    const d = join(dir, 'a-directory');
    mkdirSync(d);
    refuses(() => openSqliteStore(d), d, /not a regular file/);
    const missing = join(dir, 'no-such-dir', 'x.db');
    refuses(() => openSqliteStore(missing), missing, /missing or not writable/);
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const under = join(file, 'x.db');
    refuses(() => openSqliteStore(under), under, /ENOTDIR|missing or not writable/);
  });

  it('refuses a read-only database file', async (t) => {
    if (process.getuid?.() === 0) return t.skip('running as root: permissions do not apply');
    const p = fresh();
    openSqliteStore(p).close();
    chmodSync(p, 0o444);
    refuses(() => openSqliteStore(p), p, /not writable/);
  });

  it('rejects a retention that makes no sense', async () => {
    refuses(
      () => openSqliteStore(':memory:', { retention: { detailMs: -1 } }),
      'detailMs',
      /positive/,
    );
    refuses(
      () => openSqliteStore(':memory:', { retention: { coarseBucketMs: 7 * MIN } }),
      'coarseBucketMs',
      /multiple/,
    );
  });
});

describe('watch store: writing and reading', () => {
  it('interns groups and targets: one row each, however often seen', async () => {
    const p = fresh();
    const s = openSqliteStore(p);
    for (let i = 0; i < 50; i++) {
      for (const t of ['api', 'worker']) {
        await s.addScrape(
          scrape(
            t,
            i,
            [
              ['g1', 10 + i],
              ['g2', 3],
            ],
            i === 0 ? [info('g1'), info('g2')] : [],
          ),
        );
      }
    }
    s.closeNow();
    const db = raw(p);
    assert.deepEqual(db.prepare('SELECT gid FROM groups ORDER BY gid').pluck().all(), ['g1', 'g2']);
    assert.deepEqual(db.prepare('SELECT name FROM targets ORDER BY name').pluck().all(), [
      'api',
      'worker',
    ]);
    assert.equal(db.prepare('SELECT count(*) FROM group_counts').pluck().get(), 200);
    db.close();
  });

  it('never scans the big tables, with or without planner statistics', async () => {
    const p = fresh();
    const s = openSqliteStore(p);
    for (let i = 0; i < 400; i++) {
      for (let t = 0; t < 5; t++) {
        const groups = Array.from({ length: 20 }, (_, k): [string, number] => [
          `g${k}-${k % 2 ? t : ''}`,
          k + 1,
        ]);
        await s.addScrape(scrape(`t${t}`, i, groups));
      }
    }
    const scans = /\bSCAN (snapshots|s|group_counts|c)\b/;
    const check = (when: string) => {
      for (const { name, plan } of s.plans())
        assert.doesNotMatch(plan, scans, `${name} ${when}: ${plan}`);
    };
    await check('before ANALYZE');
    const db = raw(p);
    db.exec('ANALYZE');
    db.close();
    await check('after ANALYZE');
    s.closeNow();
  });
});

describe('watch store: retention', () => {
  const retention: Partial<Retention> = {
    detailMs: HOUR,
    mediumBucketMs: 5 * MIN,
    mediumMs: 6 * HOUR,
    coarseBucketMs: HOUR,
    maxAgeMs: 12 * HOUR,
  };
  const HOURS = 14;
  const N = (HOURS * HOUR) / STEP;
  /** Group `old` lives only in the first hour; totals wobble so the bucket max is not the last. */
  async function fill(s: ReturnType<typeof openSqliteStore>, every?: number): Promise<void> {
    for (let i = 0; i < N; i++) {
      const groups: [string, number][] = [
        ['steady', 10],
        ['grow', 100 + i + ((i * 7919) % 13)],
      ];
      if (i < HOUR / STEP) groups.push(['old', 5]);
      await s.addScrape({
        ...scrape('svc', i, groups, i === 0 ? [info('steady'), info('grow'), info('old')] : []),
        heap: i % 20 === 3 ? { inuse: 1_000_000 + i, sites: [] } : undefined,
      });
      if (every && i % every === every - 1) s.pruneNow(T0 + i * STEP);
    }
  }
  const now = T0 + (N - 1) * STEP;

  async function check(s: ReturnType<typeof openSqliteStore>): Promise<void> {
    const pts = await s.totals('svc', 0, Infinity);
    const at = pts.map((p) => p.at);
    assert.ok(at[0]! >= now - 12 * HOUR, 'nothing older than maxAgeMs');
    const detailFrom = Math.floor((now - HOUR) / (5 * MIN)) * 5 * MIN;
    const mediumFrom = Math.floor((now - 6 * HOUR) / HOUR) * HOUR;
    const recent = at.filter((t) => t >= detailFrom);
    assert.equal(recent.length, (now - detailFrom) / STEP + 1, 'every scrape of the last hour');
    const medium = at.filter((t) => t >= mediumFrom && t < detailFrom);
    assert.equal(medium.length, (detailFrom - mediumFrom) / (5 * MIN), 'one per 5 min');
    const coarse = at.filter((t) => t < mediumFrom);
    const firstHour = at[0]! - (at[0]! % HOUR);
    assert.equal(coarse.length, (mediumFrom - firstHour) / HOUR, 'one per hour');
    assert.equal(new Set(coarse.map((t) => t - (t % HOUR))).size, coarse.length, 'one per hour');
    // The survivor of each bucket is its largest total.
    const all = new Map<number, number>();
    for (let i = 0; i < N; i++) all.set(T0 + i * STEP, 110 + i + ((i * 7919) % 13));
    for (const p of pts) {
      if (p.at >= detailFrom) continue;
      const b = p.at < mediumFrom ? HOUR : 5 * MIN;
      const start = p.at - (p.at % b);
      let max = 0;
      for (let t = start; t < start + b; t += STEP) max = Math.max(max, all.get(t) ?? 0);
      assert.equal(p.value, max, `bucket max at ${new Date(p.at).toISOString()}`);
    }
  }

  it('keeps full detail, then one per 5 min, then one per hour, then nothing', async () => {
    const p = fresh();
    const s = openSqliteStore(p, { retention });
    await fill(s);
    pruneAll(s, now);
    await check(s);
    // Group counts go with their snapshot; the group seen only in deleted history is collected.
    assert.equal((await s.groupSeries('svc', 'old', 0, Infinity)).length, 0);
    assert.equal(await s.groupInfo('old'), undefined);
    assert.equal((await s.groupInfo('steady'))?.blockedOn, 'chan-receive');
    // Heap figures in a downsampled bucket survive on its snapshot.
    const db = raw(p);
    const heapless = db
      .prepare('SELECT count(*) FROM snapshots WHERE tier > 0 AND heap_inuse IS NULL')
      .pluck()
      .get();
    assert.equal(heapless, 0);
    const orphans = db
      .prepare('SELECT count(*) FROM group_counts WHERE snapshot NOT IN (SELECT id FROM snapshots)')
      .pluck()
      .get();
    assert.equal(orphans, 0);
    db.close();
    s.closeNow();
  });

  it('pruning as it goes gives the same history as pruning once', async () => {
    const a = openSqliteStore(fresh(), { retention });
    await fill(a, 37);
    pruneAll(a, now);
    await check(a);
    const b = openSqliteStore(fresh(), { retention });
    await fill(b);
    pruneAll(b, now);
    assert.deepEqual(await a.totals('svc', 0, Infinity), await b.totals('svc', 0, Infinity));
    assert.deepEqual(
      await a.groupSeries('svc', 'grow', 0, Infinity),
      await b.groupSeries('svc', 'grow', 0, Infinity),
    );
    a.closeNow();
    b.closeNow();
  });

  it('works through a backlog in bounded steps, to the same history', async () => {
    const a = openSqliteStore(fresh(), { retention, pruneBudgetMs: 0 });
    await fill(a);
    const calls = pruneAll(a, now);
    assert.ok(calls > 3, `one chunk per call with no budget: ${calls} calls`);
    await check(a);
    const b = openSqliteStore(fresh(), { retention });
    await fill(b);
    pruneAll(b, now);
    assert.deepEqual(await a.totals('svc', 0, Infinity), await b.totals('svc', 0, Infinity));
    a.closeNow();
    b.closeNow();
  });

  it('under the size cap, gives up resolution before history, oldest first', async () => {
    const p = fresh();
    const targets = ['t1', 't2', 't3', 't4'];
    const hours = 8;
    const groups = Array.from({ length: 20 }, (_, k) => `g${k}`);
    const write = async (s: ReturnType<typeof openSqliteStore>) => {
      for (let i = 0; i < (hours * HOUR) / STEP; i++) {
        for (const t of targets) {
          await s.addScrape(
            scrape(
              t,
              i,
              groups.map((g, k) => [g, 1 + ((i + k) % 40)]),
              i === 0 ? groups.map((g) => info(g)) : [],
            ),
          );
        }
      }
    };
    const end = T0 + ((hours * HOUR) / STEP - 1) * STEP;
    const s = openSqliteStore(p);
    await write(s);
    const full = s.stats().usedBytes;
    s.closeNow();

    // A cap at half: the oldest detail is downsampled, nothing is deleted, the last hour is whole.
    const cap = Math.floor(full / 2);
    const half = openSqliteStore(p, { retention: { maxBytes: cap } });
    pruneAll(half, end);
    assert.ok(half.stats().usedBytes <= cap, `${half.stats().usedBytes} <= ${cap}`);
    const pts = await half.totals('t1', 0, Infinity);
    assert.equal(pts[0]!.at < T0 + 5 * MIN, true, 'the oldest history is still there');
    const lastHour = pts.filter((q) => q.at > end - HOUR);
    assert.equal(lastHour.length, HOUR / STEP, 'the last hour in full');
    const fileBefore = half.stats().fileBytes;
    assert.ok(fileBefore <= cap * 1.1, `the file shrank too: ${fileBefore}`);
    half.closeNow();

    // A cap too small even for the last hour: everything older goes, the last hour stays.
    const tiny = openSqliteStore(p, { retention: { maxBytes: 64 * 1024 } });
    pruneAll(tiny, end);
    const left = await tiny.totals('t1', 0, Infinity);
    assert.ok(left[0]!.at > end - HOUR - 5 * MIN, 'only the last hour remains');
    assert.equal(left.filter((q) => q.at > end - HOUR).length, HOUR / STEP);
    tiny.closeNow();
    const db = raw(p);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  });

  it('keeps errors and alerts for their own windows, and alerts still open', async () => {
    const s = openSqliteStore(':memory:', { retention: { errorsMs: HOUR, alertsMs: 2 * HOUR } });
    await s.addError('a', T0, 'old');
    await s.addError('a', T0 + 2 * HOUR, 'new');
    const ev = (key: string, type: AlertEvent['type'], at: number): AlertEvent => ({
      type,
      key,
      target: 'a',
      detector: 'peak',
      at: new Date(at).toISOString(),
      summary: key,
      evidence: {},
      labels: {},
    });
    await s.addAlert(ev('resolved-long-ago', 'alert', T0));
    await s.addAlert(ev('resolved-long-ago', 'resolved', T0 + 1));
    await s.addAlert(ev('still-open', 'alert', T0));
    await s.addAlert(ev('recent', 'alert', T0 + 2 * HOUR));
    pruneAll(s, T0 + 3 * HOUR);
    assert.deepEqual(
      (await s.errors('a', 0, Infinity)).map((e) => e.error),
      ['new'],
    );
    assert.deepEqual(
      (await s.alerts(10)).map((e) => `${e.key}:${e.type}`),
      ['recent:alert', 'still-open:alert'],
    );
    s.closeNow();
  });
});

storeConformance('SQLite file', async () => openSqliteStore(fresh()));
storeConformance('SQLite :memory:', async () => openSqliteStore(':memory:'));
