#!/usr/bin/env node
// What the wait-time distributions cost to keep: bytes per debug=2 dump in each store.
//
//   npm run build && node bench/wait-buckets-size.mjs [--targets 20] [--scrapes 2000]
//                      [--groups 20] [--dump-every 40] [--no-pg]
//
// The store benchmarks' workload (bench/store-scrapes.mjs: `groups` groups per target, 15 s
// apart), written twice into each store: once as is, once with a debug=2 dump every
// `dump-every` scrapes (40 = every 10 minutes, watch's default --debug2-interval), each dump
// carrying every group's goroutines per wait bucket (most under a minute, a quarter at 1-5 min,
// the leaking group spread over the buckets its age has reached). The difference in bytes, per
// dump, is the price. SQLite: pages in use (dbstat) of wait_buckets and the partial index;
// PostgreSQL (127.0.0.1:5432, a database of its own, dropped after): the snapshots partitions
// with their indexes and TOAST, with and without the bucket arrays.
import { existsSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { makeScrapes } from './store-scrapes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist', 'src', 'watch', 'store');
if (!existsSync(join(DIST, 'sqlite.js'))) {
  console.error(`${DIST}/sqlite.js is missing: run npm run build first`);
  process.exit(2);
}
const { openSqliteStore } = await import(pathToFileURL(join(DIST, 'sqlite.js')).href);
const { openStore } = await import(pathToFileURL(join(DIST, 'open.js')).href);

const { values: opt } = parseArgs({
  options: {
    targets: { type: 'string', default: '20' },
    scrapes: { type: 'string', default: '2000' },
    groups: { type: 'string', default: '20' },
    'dump-every': { type: 'string', default: '40' },
    'no-pg': { type: 'boolean', default: false },
  },
});
const N = Number(opt.targets);
const S = Number(opt.scrapes);
const G = Number(opt.groups);
const EVERY = Number(opt['dump-every']);
const T0 = Date.UTC(2026, 0, 5);
const scrapeFor = makeScrapes({ groups: G, t0: T0, step: 15_000 });

/** A dump's buckets for a scrape's groups: their counts, spread as described above. */
function bucketsOf(s, i) {
  return new Map(
    s.groups.map((g) => {
      if (!g.id.endsWith(`-own-${G - 1}`)) return [g.id, [g.count - (g.count >> 2), g.count >> 2]];
      // The leak: one goroutine every 10 minutes since the start, aging.
      const ages = Array.from({ length: g.count }, (_, k) => (i - k * 40) / 4);
      const counts = [0, 0, 0, 0, 0, 0, 0];
      for (const a of ages) counts[[1, 5, 15, 60, 360, 1440, Infinity].findIndex((b) => a < b)]++;
      return [g.id, counts];
    }),
  );
}

let rows = 0;
async function fill(store, dumps) {
  const seen = new Set();
  let n = 0;
  rows = 0;
  for (let i = 0; i < S; i++)
    for (let t = 0; t < N; t++) {
      const s = scrapeFor(t, i, seen);
      if (dumps && i % EVERY === 0) {
        s.waitBuckets = bucketsOf(s, i);
        s.source = 'proto+debug2';
        n++;
        for (const c of s.waitBuckets.values()) rows += c.filter((x) => x > 0).length;
      }
      await store.addScrape(s);
    }
  return n;
}

const out = [];
const la = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

{
  const plain = openSqliteStore(':memory:');
  await fill(plain, false);
  const used0 = plain.stats().usedBytes;
  plain.closeNow();
  const store = openSqliteStore(':memory:');
  const dumps = await fill(store, true);
  const used1 = store.stats().usedBytes;
  const parts = store.db
    .prepare(
      `SELECT name, sum(pgsize - unused) AS used FROM dbstat
       WHERE name IN ('wait_buckets', 'snapshots_with_dumps') GROUP BY name`,
    )
    .all();
  store.closeNow();
  const by = Object.fromEntries(parts.map((r) => [r.name, r.used]));
  out.push(
    `SQLite: ${dumps} dumps, ${(rows / dumps).toFixed(1)} (group, bucket) rows each; ` +
      `${((used1 - used0) / dumps).toFixed(0)} B per dump in pages in use ` +
      `(wait_buckets ${(by.wait_buckets / dumps).toFixed(0)} B, snapshots_with_dumps ` +
      `${((by.snapshots_with_dumps ?? 0) / dumps).toFixed(0)} B, rest: the has_dump column and page fill)`,
  );
}

if (!opt['no-pg']) {
  const admin = new pg.Client({
    host: '127.0.0.1',
    port: 5432,
    user: process.env.PGUSER ?? 'root',
    database: 'postgres',
  });
  await admin.connect();
  const db = `lw_buckets_${process.pid}`;
  await admin.query(`CREATE DATABASE ${db}`);
  try {
    const size = async (schema, dumps) => {
      const store = await openStore(
        `postgres://${process.env.PGUSER ?? 'root'}@127.0.0.1:5432/${db}?schema=${schema}`,
      );
      const n = await fill(store, dumps);
      const st = await store.stats();
      await store.close();
      return { n, bytes: st.snapshotBytes };
    };
    const a = await size('plain', false);
    const b = await size('dumps', true);
    out.push(
      `PostgreSQL: ${b.n} dumps; ${((b.bytes - a.bytes) / b.n).toFixed(0)} B per dump ` +
        `(snapshots partitions with indexes and TOAST: ${(a.bytes / 1e6).toFixed(2)} MB without, ` +
        `${(b.bytes / 1e6).toFixed(2)} MB with)`,
    );
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}

console.log(
  `# wait buckets: ${N} targets x ${S} scrapes, ${G} groups, a dump every ${EVERY} scrapes`,
);
console.log(
  `machine: ${cpus()[0]?.model.trim()}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; load ${la()}`,
);
for (const l of out) console.log(`- ${l}`);
