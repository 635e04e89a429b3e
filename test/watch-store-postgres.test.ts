/**
 * The PostgreSQL store of `leakwatch watch`, on the real server at 127.0.0.1:5432: the store
 * contract (the same suite as SQLite), migrations and refusals, day partitions and retention,
 * `--db` parsing, and a server stopped and started again mid-run. Each run creates its own
 * database and drops it after; each test gets a fresh schema. Skipped, with the reason printed,
 * when no server answers.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { UserError } from '../src/errors.js';
import { openStore, parsePostgresUrl } from '../src/watch/store/open.js';
import {
  openPostgresStore,
  PG_SCHEMA_VERSION,
  type PgStoreOptions,
  type PgTarget,
} from '../src/watch/store/postgres.js';
import { SqliteStore } from '../src/watch/store/sqlite.js';
import { PG_HOST, PG_PORT, pgAdmin, pgUser } from './pg-helpers.js';
import { infoOf, scrapeOf, storeConformance } from './store-conformance.js';

const HOST = PG_HOST;
const PORT = PG_PORT;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

const found = await pgUser();
const skip = 'why' in found ? found.why : false;
if (skip) console.log(`# skipping the PostgreSQL store tests: ${skip}`);
const USER = 'user' in found ? found.user : 'postgres';
const DB = `leakwatch_test_${randomBytes(4).toString('hex')}`;
const TARGET: PgTarget = { host: HOST, port: PORT, user: USER, database: DB };

const admin = <T>(fn: (c: pg.Client) => Promise<T>, database = 'postgres'): Promise<T> =>
  pgAdmin(USER, fn, database);

let seq = 0;
const freshSchema = () => `lw_t${++seq}`;
const open = (opts: PgStoreOptions = {}) =>
  openPostgresStore(TARGET, { schema: freshSchema(), ...opts });

/** A one-line UserError matching `why`. */
async function refuses(p: Promise<unknown>, why: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof UserError, `a UserError, got ${String(err)}`);
    assert.match(err.message, why);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return true;
  });
}

describe('PostgreSQL store', { skip }, () => {
  before(async () => {
    await admin((c) => c.query(`CREATE DATABASE ${DB}`));
  });
  after(async () => {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`));
  });

  storeConformance('PostgreSQL', () => open());

  it('migrates an empty schema once, even with two watchers starting at once', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([
      openPostgresStore(TARGET, { schema }),
      openPostgresStore(TARGET, { schema }),
    ]);
    await a.addScrape(scrapeOf('svc', 0, [['g', 1]]));
    assert.deepEqual(await b.totals('svc', 0, Infinity), [{ at: T0, value: 1 }]);
    await Promise.all([a.close(), b.close()]);
    const c = await openPostgresStore(TARGET, { schema });
    assert.equal((await c.totals('svc', 0, Infinity)).length, 1, 'reopening keeps history');
    await c.close();
    const versions = await admin(
      (c) => c.query(`SELECT version FROM ${schema}.schema_version ORDER BY version`),
      DB,
    );
    assert.deepEqual(
      versions.rows.map((r: { version: number }) => r.version),
      Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1),
    );
  });

  it('refuses a schema from a newer leakwatch, and a schema of something else', async () => {
    const schema = freshSchema();
    await (await openPostgresStore(TARGET, { schema })).close();
    await admin(
      (c) => c.query(`INSERT INTO ${schema}.schema_version VALUES (${PG_SCHEMA_VERSION + 1}, 0)`),
      DB,
    );
    await refuses(
      openPostgresStore(TARGET, { schema }),
      new RegExp(`newer leakwatch \\(schema ${PG_SCHEMA_VERSION + 1};`),
    );
    const other = freshSchema();
    await admin(
      (c) => c.query(`CREATE SCHEMA ${other}; CREATE TABLE ${other}.invoices (id int)`),
      DB,
    );
    await refuses(openPostgresStore(TARGET, { schema: other }), /holds other tables/);
    assert.deepEqual(
      (
        await admin(
          (c) => c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = '${other}'`),
          DB,
        )
      ).rows,
      [{ n: 1 }],
      'nothing was created beside the foreign table',
    );
  });

  it('refuses a server that does not answer, in one line naming it', async () => {
    await refuses(
      openPostgresStore({ ...TARGET, port: 1 }, { connectTimeoutMs: 2000 }),
      /postgres:\/\/.*@127\.0\.0\.1:1\/leakwatch_test_\w+: cannot connect/,
    );
  });

  it('bounds a connection that never answers, and a statement kept waiting', async () => {
    // A TCP server that accepts and then says nothing (a hung server or a black-holed route).
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, HOST, r));
    const port = (silent.address() as AddressInfo).port;
    try {
      await refuses(
        openPostgresStore({ ...TARGET, port }, { connectTimeoutMs: 500 }),
        /cannot connect .*timeout/i,
      );
    } finally {
      silent.close();
    }
    // A statement blocked behind another session's lock is cancelled by the statement bound.
    const s = await open({ statementTimeoutMs: 500 });
    await s.setBaseline('svc', { since: T0 });
    const schema = `lw_t${seq}`;
    const locker = new pg.Client({ host: HOST, port: PORT, user: USER, database: DB });
    await locker.connect();
    try {
      await locker.query(`BEGIN; LOCK TABLE ${schema}.baselines IN ACCESS EXCLUSIVE MODE`);
      await assert.rejects(s.setBaseline('svc', { since: T0, normalPeak: 9 }), (e: Error) => {
        assert.match(e.message, /statement timeout/);
        assert.doesNotMatch(e.message, /\n/);
        return true;
      });
      await locker.query('ROLLBACK');
      await s.setBaseline('svc', { since: T0, normalPeak: 9 });
      assert.deepEqual(await s.baseline('svc'), { since: T0, normalPeak: 9 });
    } finally {
      await locker.end();
      await s.close();
    }
  });

  it('keeps a day per partition and drops whole days past the retention', async () => {
    const s = await open({ retention: { maxAgeMs: 2 * DAY } });
    // One scrape a day for five days; group `old` only on the first day.
    for (let d = 0; d < 5; d++) {
      const sc = scrapeOf('svc', 0, d === 0 ? [['old', 3]] : [['g', d]]);
      sc.at = T0 + d * DAY + 3_600_000;
      await s.addScrape(sc);
    }
    const before = await s.stats();
    assert.deepEqual(
      before.days,
      [0, 1, 2, 3, 4].map((d) => T0 / DAY + d),
    );
    // At T0 + 5 days, days 0..2 ended more than 2 days ago.
    assert.equal(await s.prune(T0 + 5 * DAY), true);
    const afterPrune = await s.stats();
    assert.deepEqual(
      afterPrune.days,
      [3, 4, 5, 6, 7].map((d) => T0 / DAY + d),
      'days 0-2 dropped; today and the next two made ahead',
    );
    assert.deepEqual(
      (await s.totals('svc', 0, Infinity)).map((p) => p.value),
      [3, 4],
    );
    assert.equal(await s.groupInfo('old'), undefined);
    assert.deepEqual(await s.groupSeries('svc', 'old', 0, Infinity), [], 'its group collected');
    // A late scrape for a dropped day is still written (its partition comes back, until the
    // next prune drops it again).
    const late = scrapeOf('svc', 0, [['g', 9]]);
    await s.addScrape(late);
    assert.equal((await s.totals('svc', 0, T0 + DAY)).length, 1);
    await s.prune(T0 + 5 * DAY);
    assert.equal((await s.totals('svc', 0, T0 + DAY)).length, 0);
    await s.close();
  });

  it('writes a scrape whose frames carry NUL bytes or broken UTF-16 (a hostile target)', async () => {
    const s = await open();
    const odd = { func: 'main.x\u0000y\ud800', pkg: 'main', file: '/a.go', line: 1 };
    await s.addScrape(
      scrapeOf('svc', 0, [['g\u0000', 1]], [infoOf('g\u0000', { holder: odd, frames: [odd] })]),
    );
    const got = await s.latestGroups('svc', 5);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.info?.holder?.func, 'main.x\ufffdy\ufffd');
    await s.close();
  });

  it('--db: a URL selects PostgreSQL, a path SQLite; a password in the URL is refused', async () => {
    const s = await openStore(`postgres://${USER}@${HOST}:${PORT}/${DB}?schema=${freshSchema()}`);
    await s.addScrape(scrapeOf('svc', 0, [['g', 2]]));
    assert.deepEqual(await s.totals('svc', 0, Infinity), [{ at: T0, value: 2 }]);
    await s.close();
    const lite = await openStore(':memory:');
    assert.ok(lite instanceof SqliteStore);
    await lite.close();
    await refuses(
      openStore(`postgres://${USER}:hunter2@${HOST}/${DB}`),
      /^--db postgres:\/\/\w+:\*\*\*@127\.0\.0\.1\/leakwatch_test_\w+: a password in the URL is refused .*PGPASSWORD$/,
    );
    await assert.rejects(openStore(`postgres://u:hunter2@h/db`), (e: Error) => {
      assert.doesNotMatch(e.message, /hunter2/, 'the password is never shown');
      return true;
    });
    assert.throws(() => parsePostgresUrl('postgres://u@h:5432/'), UserError);
    assert.throws(() => parsePostgresUrl('postgres://u@h/db?sslmode=maybe'), /sslmode=maybe/);
    assert.throws(() => parsePostgresUrl('postgres://u@h/db?pasword=x'), /unknown parameter/);
    assert.deepEqual(
      parsePostgresUrl('postgresql://ops@db.internal/leak?schema=lw&sslmode=require'),
      {
        target: {
          host: 'db.internal',
          port: 5432,
          user: 'ops',
          database: 'leak',
          ssl: { rejectUnauthorized: false },
        },
        schema: 'lw',
      },
    );
  });

  it('fails fast in one line while the server is down, and writes again once it is back', async () => {
    const version = readdirSync('/etc/postgresql')[0];
    assert.ok(version, 'a PostgreSQL cluster in /etc/postgresql');
    const ctl = (cmd: 'stop' | 'start') =>
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', cmd], {
        stdio: 'pipe',
        timeout: 60_000,
      });
    const s = await open({ connectTimeoutMs: 2000, statementTimeoutMs: 5000 });
    try {
      await s.addScrape(scrapeOf('svc', 0, [['g', 1]]));
      ctl('stop');
      let failure: unknown;
      try {
        await s.addScrape(scrapeOf('svc', 1, [['g', 2]]));
      } catch (err) {
        failure = err;
      }
      assert.ok(failure instanceof Error, 'a write during the outage rejects');
      assert.doesNotMatch(failure.message, /\n/, 'one line');
      assert.match(failure.message, /^postgres:\/\/\w+@127\.0\.0\.1:5432\/leakwatch_test_\w+: /);
      // While the server is down, refusals come at once (the backoff), naming the cause.
      await assert.rejects(s.totals('svc', 0, Infinity), /unreachable|cannot connect/);
      ctl('start');
      // What the watcher's spool does: retry the kept write until the store takes it. The
      // bound only keeps a broken store from hanging the suite.
      const until = Date.now() + 60_000;
      for (;;) {
        try {
          await s.addScrape(scrapeOf('svc', 1, [['g', 2]]));
          break;
        } catch (err) {
          if (Date.now() > until) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      await s.addScrape(scrapeOf('svc', 2, [['g', 3]]));
      assert.deepEqual(
        (await s.totals('svc', 0, Infinity)).map((p) => p.value),
        [1, 2, 3],
      );
    } finally {
      // Leave the server running whatever happened (other tests and sessions use it).
      try {
        ctl('start');
      } catch {
        // already running
      }
      await s.close();
    }
  });
});
