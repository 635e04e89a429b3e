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
  return { id, blockedOn: 'chan receive', stack: `main.${id} main.go:1`, ...extra };
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
function pruneAll(s: { prune(now: number): boolean }, now: number): number {
  let calls = 1;
  while (!s.prune(now)) {
    if (++calls > 100_000) assert.fail('prune() never caught up');
  }
  return calls;
}

function raw(path: string): Database.Database {
  return new Database(path);
}

describe('watch store: opening', () => {
  it('creates a leakwatch database: WAL, application id, schema version', () => {
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

  it('reopens without migrating again, history intact', () => {
    const p = fresh();
    let s = openSqliteStore(p);
    s.addScrape(scrape('a', 0, [['g1', 5]], [info('g1')]));
    s.close();
    for (let k = 0; k < 3; k++) {
      s = openSqliteStore(p);
      assert.deepEqual(s.totals('a', 0, Infinity), [{ at: T0, value: 5 }]);
      s.close();
    }
    const db = raw(p);
    assert.equal(db.prepare('SELECT count(*) FROM schema_version').pluck().get(), SCHEMA_VERSION);
    db.close();
  });

  it('takes an empty file (touch leakwatch.db)', () => {
    const p = fresh();
    writeFileSync(p, '');
    openSqliteStore(p).close();
    const db = raw(p);
    assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
    db.close();
  });

  it('refuses a SQLite database of something else, and leaves it untouched', () => {
    const p = fresh();
    const db = raw(p);
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
    db.close();
    const before = readFileSync(p);
    refuses(() => openSqliteStore(p), p, /not a leakwatch database/);
    assert.deepEqual(readFileSync(p), before);
  });

  it('refuses a file that is not a database, and leaves it untouched', () => {
    const p = fresh();
    const text = 'goroutine 1 [running]:\nmain.main()\n\t/app/main.go:10 +0x1d\n'.repeat(200);
    writeFileSync(p, text);
    refuses(() => openSqliteStore(p), p, /not a leakwatch database \(not SQLite\)/);
    assert.equal(readFileSync(p, 'utf8'), text);
  });

  it('refuses a leakwatch database from a newer schema', () => {
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

  it('refuses paths it cannot keep a database at', () => {
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

  it('refuses a read-only database file', (t) => {
    if (process.getuid?.() === 0) return t.skip('running as root: permissions do not apply');
    const p = fresh();
    openSqliteStore(p).close();
    chmodSync(p, 0o444);
    refuses(() => openSqliteStore(p), p, /not writable/);
  });

  it('rejects a retention that makes no sense', () => {
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
  it('interns groups and targets: one row each, however often seen', () => {
    const p = fresh();
    const s = openSqliteStore(p);
    for (let i = 0; i < 50; i++) {
      for (const t of ['api', 'worker']) {
        s.addScrape(
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
    s.close();
    const db = raw(p);
    assert.deepEqual(db.prepare('SELECT gid FROM groups ORDER BY gid').pluck().all(), ['g1', 'g2']);
    assert.deepEqual(db.prepare('SELECT name FROM targets ORDER BY name').pluck().all(), [
      'api',
      'worker',
    ]);
    assert.equal(db.prepare('SELECT count(*) FROM group_counts').pluck().get(), 200);
    db.close();
  });

  it('updates a group when better info arrives, never losing what was learnt', () => {
    const s = openSqliteStore(fresh());
    s.addScrape(scrape('a', 0, [['g', 1]], [info('g', { userFrame: 'main.pump pump.go:12' })]));
    assert.equal(s.groupInfo('g')?.createdBy, undefined);
    // debug=2 brings the creator and a finer wait reason.
    s.addScrape(
      scrape(
        'a',
        1,
        [['g', 1]],
        [info('g', { blockedOn: 'chan send', createdBy: 'main.Subscribe sub.go:40' })],
      ),
    );
    // A later protobuf info knows less: it must not wipe the creator or the user frame.
    s.addScrape(scrape('a', 2, [['g', 1]], [info('g', { blockedOn: 'select' })]));
    assert.deepEqual(s.groupInfo('g'), {
      id: 'g',
      blockedOn: 'chan send',
      stack: 'main.g main.go:1',
      userFrame: 'main.pump pump.go:12',
      createdBy: 'main.Subscribe sub.go:40',
    });
    // Idle verdicts come with the info that has the creator.
    s.addScrape(
      scrape(
        'a',
        3,
        [['g', 1]],
        [info('g', { createdBy: 'net/http.(*Server).Serve server.go:3', idle: 'http server' })],
      ),
    );
    assert.equal(s.groupInfo('g')?.idle, 'http server');
    assert.equal(s.groupInfo('g')?.createdBy, 'net/http.(*Server).Serve server.go:3');
    assert.equal(s.groupInfo('nope'), undefined);
    s.close();
  });

  it('answers the queries', () => {
    const s = openSqliteStore(fresh());
    for (let i = 0; i < 10; i++) {
      const groups: [string, number][] = [
        ['pump', 100 * i + 1],
        ['idle', 7],
      ];
      if (i % 2 === 1) groups.push(['flaky', i]);
      s.addScrape({
        ...scrape(
          'svc',
          i,
          groups,
          i === 0 ? [info('pump'), info('idle', { idle: 'runtime' })] : [],
        ),
        heapInuse: i === 9 ? 1234 : undefined,
      });
    }
    s.addScrape(scrape('other', 3, [['pump', 2]]));
    assert.deepEqual(
      s.totals('svc', T0 + 2 * STEP, T0 + 4 * STEP),
      [2, 3, 4].map((i) => ({ at: T0 + i * STEP, value: 100 * i + 1 + 7 + (i % 2 ? i : 0) })),
    );
    assert.deepEqual(s.totals('nobody', 0, Infinity), []);
    assert.deepEqual(
      s.groupSeries('svc', 'flaky', T0, T0 + 4 * STEP).map((p) => p.value),
      [0, 1, 0, 3, 0],
      'one point per snapshot, 0 where absent',
    );
    assert.deepEqual(s.groupSeries('svc', 'unknown', 0, Infinity), []);
    const latest = s.latestGroups('svc', 2);
    assert.deepEqual(
      latest.map((g) => [g.id, g.count, g.info?.blockedOn]),
      [
        ['pump', 901, 'chan receive'],
        ['flaky', 9, undefined],
      ],
    );
    assert.equal(s.latestGroups('svc', 10)[2]?.info?.idle, 'runtime');
    assert.deepEqual(s.targets(), [
      { name: 'other', lastAt: T0 + 3 * STEP, lastTotal: 2 },
      { name: 'svc', lastAt: T0 + 9 * STEP, lastTotal: 901 + 7 + 9 },
    ]);
    s.addError('svc', T0 + 5, 'connect ECONNREFUSED 127.0.0.1:6060');
    s.addError('down', T0 + 6, 'timeout after 30 s');
    assert.deepEqual(s.errors('svc', 0, Infinity), [
      { at: T0 + 5, error: 'connect ECONNREFUSED 127.0.0.1:6060' },
    ]);
    assert.deepEqual(s.errors('down', 0, Infinity).length, 1);
    assert.equal(s.targets().length, 2, 'a target that never answered has no history');
    s.close();
  });

  it('never scans the big tables, with or without planner statistics', () => {
    const p = fresh();
    const s = openSqliteStore(p);
    for (let i = 0; i < 400; i++) {
      for (let t = 0; t < 5; t++) {
        const groups = Array.from({ length: 20 }, (_, k): [string, number] => [
          `g${k}-${k % 2 ? t : ''}`,
          k + 1,
        ]);
        s.addScrape(scrape(`t${t}`, i, groups));
      }
    }
    const scans = /\bSCAN (snapshots|s|group_counts|c)\b/;
    const check = (when: string) => {
      for (const { name, plan } of s.plans())
        assert.doesNotMatch(plan, scans, `${name} ${when}: ${plan}`);
    };
    check('before ANALYZE');
    const db = raw(p);
    db.exec('ANALYZE');
    db.close();
    check('after ANALYZE');
    s.close();
  });

  it('stores alerts whole and returns them newest first', () => {
    const s = openSqliteStore(fresh());
    const alert: AlertEvent = {
      type: 'alert',
      key: 'svc|growth|pump',
      target: 'svc',
      detector: 'growth',
      at: new Date(T0).toISOString(),
      summary: 'pump group +40/min; at this rate: 50,000 in 6 days',
      group: {
        id: 'pump',
        userFrame: 'main.(*Service).pumpMessages notify.go:88',
        createdBy: 'main.(*Service).Subscribe notify.go:61',
        blockedOn: 'select',
        count: 4100,
      },
      evidence: {
        series: [
          [T0, 100],
          [T0 + HOUR, 4100],
        ],
        slopePerMin: 40,
        threshold: 10,
      },
      labels: { team: 'notify' },
    };
    const resolved: AlertEvent = {
      type: 'resolved',
      key: 'svc|peak|',
      target: 'svc',
      detector: 'peak',
      at: new Date(T0 + HOUR).toISOString(),
      summary: 'back under 1.5x the normal peak',
      evidence: {},
      labels: {},
    };
    s.addAlert(alert);
    s.addAlert(resolved);
    assert.deepEqual(s.alerts(10), [resolved, alert]);
    assert.deepEqual(s.alerts(1), [resolved]);
    s.close();
  });

  it('never half-writes a scrape: a failing one leaves nothing, and the next one works', () => {
    const p = fresh();
    const s = openSqliteStore(p);
    s.addScrape(scrape('a', 0, [['g1', 1]]));
    const bad = scrape('a', 1, [
      ['g1', 2],
      ['new-group', 1],
      ['g3', 1],
    ]);
    // A count SQLite cannot store (NOT NULL): fails after the snapshot and a group were written.
    bad.groups[2]!.count = null as unknown as number;
    assert.throws(() => s.addScrape(bad));
    assert.deepEqual(s.totals('a', 0, Infinity), [{ at: T0, value: 1 }]);
    s.addScrape(
      scrape(
        'a',
        2,
        [
          ['g1', 3],
          ['new-group', 4],
        ],
        [info('new-group')],
      ),
    );
    assert.deepEqual(
      s.latestGroups('a', 5).map((g) => [g.id, g.count]),
      [
        ['new-group', 4],
        ['g1', 3],
      ],
    );
    s.close();
    const db = raw(p);
    assert.equal(db.prepare('SELECT count(*) FROM snapshots').pluck().get(), 2);
    assert.equal(db.prepare("SELECT count(*) FROM groups WHERE gid = 'g3'").pluck().get(), 0);
    db.close();
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
  function fill(s: ReturnType<typeof openSqliteStore>, every?: number): void {
    for (let i = 0; i < N; i++) {
      const groups: [string, number][] = [
        ['steady', 10],
        ['grow', 100 + i + ((i * 7919) % 13)],
      ];
      if (i < HOUR / STEP) groups.push(['old', 5]);
      s.addScrape({
        ...scrape('svc', i, groups, i === 0 ? [info('steady'), info('grow'), info('old')] : []),
        heapInuse: i % 20 === 3 ? 1_000_000 + i : undefined,
      });
      if (every && i % every === every - 1) s.prune(T0 + i * STEP);
    }
  }
  const now = T0 + (N - 1) * STEP;

  function check(s: ReturnType<typeof openSqliteStore>): void {
    const pts = s.totals('svc', 0, Infinity);
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

  it('keeps full detail, then one per 5 min, then one per hour, then nothing', () => {
    const p = fresh();
    const s = openSqliteStore(p, { retention });
    fill(s);
    pruneAll(s, now);
    check(s);
    // Group counts go with their snapshot; the group seen only in deleted history is collected.
    assert.equal(s.groupSeries('svc', 'old', 0, Infinity).length, 0);
    assert.equal(s.groupInfo('old'), undefined);
    assert.equal(s.groupInfo('steady')?.blockedOn, 'chan receive');
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
    s.close();
  });

  it('pruning as it goes gives the same history as pruning once', () => {
    const a = openSqliteStore(fresh(), { retention });
    fill(a, 37);
    pruneAll(a, now);
    check(a);
    const b = openSqliteStore(fresh(), { retention });
    fill(b);
    pruneAll(b, now);
    assert.deepEqual(a.totals('svc', 0, Infinity), b.totals('svc', 0, Infinity));
    assert.deepEqual(
      a.groupSeries('svc', 'grow', 0, Infinity),
      b.groupSeries('svc', 'grow', 0, Infinity),
    );
    a.close();
    b.close();
  });

  it('works through a backlog in bounded steps, to the same history', () => {
    const a = openSqliteStore(fresh(), { retention, pruneBudgetMs: 0 });
    fill(a);
    const calls = pruneAll(a, now);
    assert.ok(calls > 3, `one chunk per call with no budget: ${calls} calls`);
    check(a);
    const b = openSqliteStore(fresh(), { retention });
    fill(b);
    pruneAll(b, now);
    assert.deepEqual(a.totals('svc', 0, Infinity), b.totals('svc', 0, Infinity));
    a.close();
    b.close();
  });

  it('under the size cap, gives up resolution before history, oldest first', () => {
    const p = fresh();
    const targets = ['t1', 't2', 't3', 't4'];
    const hours = 8;
    const groups = Array.from({ length: 20 }, (_, k) => `g${k}`);
    const write = (s: ReturnType<typeof openSqliteStore>) => {
      for (let i = 0; i < (hours * HOUR) / STEP; i++) {
        for (const t of targets) {
          s.addScrape(
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
    write(s);
    const full = s.stats().usedBytes;
    s.close();

    // A cap at half: the oldest detail is downsampled, nothing is deleted, the last hour is whole.
    const cap = Math.floor(full / 2);
    const half = openSqliteStore(p, { retention: { maxBytes: cap } });
    pruneAll(half, end);
    assert.ok(half.stats().usedBytes <= cap, `${half.stats().usedBytes} <= ${cap}`);
    const pts = half.totals('t1', 0, Infinity);
    assert.equal(pts[0]!.at < T0 + 5 * MIN, true, 'the oldest history is still there');
    const lastHour = pts.filter((q) => q.at > end - HOUR);
    assert.equal(lastHour.length, HOUR / STEP, 'the last hour in full');
    const fileBefore = half.stats().fileBytes;
    assert.ok(fileBefore <= cap * 1.1, `the file shrank too: ${fileBefore}`);
    half.close();

    // A cap too small even for the last hour: everything older goes, the last hour stays.
    const tiny = openSqliteStore(p, { retention: { maxBytes: 64 * 1024 } });
    pruneAll(tiny, end);
    const left = tiny.totals('t1', 0, Infinity);
    assert.ok(left[0]!.at > end - HOUR - 5 * MIN, 'only the last hour remains');
    assert.equal(left.filter((q) => q.at > end - HOUR).length, HOUR / STEP);
    tiny.close();
    const db = raw(p);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  });

  it('keeps errors and alerts for their own windows, and alerts still open', () => {
    const s = openSqliteStore(':memory:', { retention: { errorsMs: HOUR, alertsMs: 2 * HOUR } });
    s.addError('a', T0, 'old');
    s.addError('a', T0 + 2 * HOUR, 'new');
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
    s.addAlert(ev('resolved-long-ago', 'alert', T0));
    s.addAlert(ev('resolved-long-ago', 'resolved', T0 + 1));
    s.addAlert(ev('still-open', 'alert', T0));
    s.addAlert(ev('recent', 'alert', T0 + 2 * HOUR));
    pruneAll(s, T0 + 3 * HOUR);
    assert.deepEqual(
      s.errors('a', 0, Infinity).map((e) => e.error),
      ['new'],
    );
    assert.deepEqual(
      s.alerts(10).map((e) => `${e.key}:${e.type}`),
      ['recent:alert', 'still-open:alert'],
    );
    s.close();
  });
});
