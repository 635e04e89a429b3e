#!/usr/bin/env node
// Benchmark: the PostgreSQL store of `leakwatch watch` against the SQLite store, same workload,
// one run.
//
//   npm run build && node bench/watch-store-pg-bench.mjs [--targets 100] [--groups 20]
//                      [--hours 2] [--interval 15] [--concurrency 4] [--pg postgres://root@127.0.0.1:5432]
//
// Writes `hours` of scrapes every `interval` seconds for `targets` targets, `groups` groups a
// scrape (half shared by every target, half the target's own; one grows, one saws, one comes
// and goes; infos on first sight, a heap figure and site every 20th scrape, waits every 40th),
// into a fresh SQLite file and into a fresh PostgreSQL database (created and dropped here).
// Writes are awaited one by one, as the watcher's write spool issues them; PostgreSQL is also
// run with `concurrency` writes in flight (what several replicas would do to one server).
// Reports scrapes per second, and bytes per scrape and per target-day (a day is 86,400 s /
// interval scrapes) at full detail: SQLite's live pages, PostgreSQL's tables with indexes.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';
import { parseArgs } from 'node:util';
import { makeScrapes } from './store-scrapes.mjs';
import pg from 'pg';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORK = join(ROOT, 'bench', 'work', 'watch-store-pg');
const DIST = join(ROOT, 'dist', 'src', 'watch', 'store');
if (!existsSync(join(DIST, 'postgres.js'))) {
  console.error(`${DIST}/postgres.js is missing: run npm run build first`);
  process.exit(2);
}
const { openSqliteStore } = await import(pathToFileURL(join(DIST, 'sqlite.js')).href);
const { openPostgresStore } = await import(pathToFileURL(join(DIST, 'postgres.js')).href);

const { values: opt } = parseArgs({
  options: {
    targets: { type: 'string', default: '100' },
    groups: { type: 'string', default: '20' },
    hours: { type: 'string', default: '2' },
    interval: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '4' },
    pg: { type: 'string', default: 'postgres://root@127.0.0.1:5432' },
  },
});
const N = Number(opt.targets);
const G = Number(opt.groups);
const STEP = Number(opt.interval) * 1000;
const TICKS = Math.round((Number(opt.hours) * 3_600_000) / STEP);
const PER_DAY = 86_400_000 / STEP;
const T0 = Date.UTC(2026, 0, 5);
const server = new URL(opt.pg);

const scrapeFor = makeScrapes({ groups: G, t0: T0, step: STEP, heapSites: true });

/** Writes every scrape, `inFlight` at a time (1: each awaited before the next). */
async function run(store, inFlight) {
  const seen = new Set();
  const queue = [];
  for (let i = 0; i < TICKS; i++) for (let t = 0; t < N; t++) queue.push([t, i]);
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < queue.length) {
        const [t, i] = queue[next++];
        await store.addScrape(scrapeFor(t, i, seen));
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { scrapes: queue.length, seconds: s, rate: queue.length / s };
}

const line = (name, r, bytes) =>
  `| ${name} | ${r.scrapes} | ${r.seconds.toFixed(1)} s | ${Math.round(r.rate)} | ${(bytes / r.scrapes).toFixed(0)} B | ${(((bytes / r.scrapes) * PER_DAY) / 1e6).toFixed(2)} MB |`;

console.log(
  `# watch store: PostgreSQL vs SQLite, ${N} targets x ${G} groups, ${opt.hours} h at ${STEP / 1000} s (${TICKS * N} scrapes)`,
);
console.log(
  `machine: ${cpus()[0]?.model.trim()}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}`,
);

// SQLite, the embedded default.
mkdirSync(WORK, { recursive: true });
const file = join(WORK, 'bench.db');
for (const s of ['', '-wal', '-shm']) rmSync(file + s, { force: true });
const lite = openSqliteStore(file);
const rl = await run(lite, 1);
const liteBytes = lite.stats().usedBytes;
await lite.close();

// PostgreSQL: a fresh database, dropped at the end.
const db = `leakwatch_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: new URL('/postgres', server).href });
await admin.connect();
await admin.query(`CREATE DATABASE ${db}`);
const out = [];
try {
  const target = {
    host: server.hostname,
    port: Number(server.port || 5432),
    user: decodeURIComponent(server.username) || undefined,
    database: db,
  };
  const version = (await admin.query('SHOW server_version')).rows[0].server_version;
  for (const [schema, inFlight] of [
    ['seq', 1],
    ['par', Number(opt.concurrency)],
  ]) {
    const store = await openPostgresStore(target, {
      schema,
      maxConnections: Math.max(4, inFlight),
    });
    const r = await run(store, inFlight);
    // VACUUM is what autovacuum does anyway; it settles the few dead tuples (group last_seen).
    const c = new pg.Client({ ...target });
    await c.connect();
    await c.query(`VACUUM ANALYZE`);
    await c.end();
    const st = await store.stats();
    await store.close();
    out.push(line(`PostgreSQL ${version.split(' ')[0]}, ${inFlight} in flight`, r, st.bytes));
    out.push(
      `|   of which the day partitions of snapshots | | | | ${(st.snapshotBytes / r.scrapes).toFixed(0)} B | ${(((st.snapshotBytes / r.scrapes) * PER_DAY) / 1e6).toFixed(2)} MB |`,
    );
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
}
console.log('\n| store | scrapes | time | scrapes/s | bytes per scrape | per target-day |');
console.log('| --- | --- | --- | --- | --- | --- |');
console.log(line('SQLite (WAL, synchronous=NORMAL), 1 in flight', rl, liteBytes));
for (const l of out) console.log(l);
