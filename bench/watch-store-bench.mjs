#!/usr/bin/env node
// Benchmark: the SQLite store of `leakwatch watch` (src/watch/store/sqlite.ts), on its own.
//
//   npm run build && node bench/watch-store-bench.mjs [--targets 100] [--groups 20] [--hours 24]
//                      [--interval 15] [--sync normal|full] [--sync-sample 2000]
//
// Writes `hours` of scrapes every `interval` seconds for `targets` targets, each scrape with
// `groups` groups (half shared by every target, like runtime and server groups of one build,
// half the target's own; a few grow, one comes and goes), each scrape its own transaction, as
// the watcher writes them, with prune() every 5 minutes of simulated time as the watcher would.
// Reports: insert rate; DB bytes per target-day at full detail and after downsampling (5-min,
// then hourly tier); prune times (the steady 5-minute prune, and a whole day aged at once);
// query times on the result; and the cost of synchronous=FULL against NORMAL on this disk, on
// a sample of `sync-sample` scrapes each into fresh files. Files go to bench/work/ (ignored).
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { makeScrapes } from './store-scrapes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORK = join(ROOT, 'bench', 'work', 'watch-store');
const STORE = join(ROOT, 'dist', 'src', 'watch', 'store', 'sqlite.js');
if (!existsSync(STORE)) {
  console.error(`${STORE} is missing: run npm run build first`);
  process.exit(2);
}
const { openSqliteStore } = await import(pathToFileURL(STORE).href);

const { values: opt } = parseArgs({
  options: {
    targets: { type: 'string', default: '100' },
    groups: { type: 'string', default: '20' },
    hours: { type: 'string', default: '24' },
    interval: { type: 'string', default: '15' },
    sync: { type: 'string', default: 'normal' },
    'sync-sample': { type: 'string', default: '2000' },
  },
});
const N = Number(opt.targets);
const G = Number(opt.groups);
const HOURS = Number(opt.hours);
const STEP = Number(opt.interval) * 1000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 5);
const TICKS = Math.round((HOURS * HOUR) / STEP);

mkdirSync(WORK, { recursive: true });
const fresh = (name) => {
  const p = join(WORK, name);
  for (const s of ['', '-wal', '-shm']) rmSync(p + s, { force: true });
  return p;
};
const fileSize = (p) => (existsSync(p) ? statSync(p).size : 0);
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;
const kb = (b) => `${(b / 1e3).toFixed(1)} kB`;

const scrapeFor = makeScrapes({ groups: G, t0: T0, step: STEP });

const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}`;
console.log(
  `# watch store bench: ${N} targets x ${G} groups, ${HOURS} h at ${STEP / 1000} s (${TICKS} scrapes per target), synchronous=${opt.sync}`,
);
console.log(`machine: ${machine}`);

// 1. A day of scrapes, pruned every 5 minutes of simulated time.
const dbPath = fresh('bench.db');
const store = openSqliteStore(dbPath, { synchronous: opt.sync });
const seen = new Set();
let pruneMs = 0;
let prunes = 0;
const t1 = process.hrtime.bigint();
for (let i = 0; i < TICKS; i++) {
  for (let t = 0; t < N; t++) await store.addScrape(scrapeFor(t, i, seen));
  if ((i * STEP) % (5 * MIN) === 0 && i > 0) {
    const p = process.hrtime.bigint();
    store.pruneNow(T0 + i * STEP);
    pruneMs += ms(p);
    prunes++;
  }
}
const writeMs = ms(t1) - pruneMs;
const scrapes = TICKS * N;
const used1 = store.stats().usedBytes;
console.log(`\n## write`);
console.log(
  `- ${scrapes} scrapes in ${(writeMs / 1000).toFixed(1)} s: ${Math.round(scrapes / (writeMs / 1000))} scrapes/s, ${((writeMs / scrapes) * 1000).toFixed(0)} µs per scrape (one transaction each, ~${G} group rows)`,
);
console.log(
  `- 1,000 targets at 15 s write 67 scrapes/s: ${((67 * writeMs) / scrapes / 10).toFixed(1)}% of one core spent in the store`,
);
console.log(
  `- prune every 5 simulated minutes during the write (nothing old enough yet): ${prunes} calls, ${(pruneMs / prunes).toFixed(2)} ms each`,
);
const days = (TICKS * STEP) / DAY;
console.log(
  `\n## size (live pages; file ${mb(fileSize(dbPath))}, WAL ${mb(fileSize(dbPath + '-wal'))})`,
);
console.log(
  `- full detail: ${mb(used1)} for ${N} targets x ${days.toFixed(2)} day = ${kb(used1 / N / days)} per target-day (${(used1 / scrapes).toFixed(0)} B per scrape)`,
);

{
  // Where the bytes are (dbstat: pages per table and index, in use).
  const db = new Database(dbPath, { readonly: true });
  const rows = db
    .prepare(
      'SELECT name, sum(pgsize - unused) AS used, sum(pgsize) AS size FROM dbstat GROUP BY name ORDER BY size DESC',
    )
    .all();
  db.close();
  for (const r of rows.filter((x) => x.size > 0)) {
    console.log(
      `  - ${r.name}: ${mb(r.size)} in pages (${((r.used / r.size) * 100).toFixed(0)}% filled), ${(r.size / scrapes).toFixed(1)} B per scrape`,
    );
  }
}

// 2. Queries on a full day of detail.
const q = async (label, fn, reps = 20) => {
  await fn();
  const t = process.hrtime.bigint();
  let n = 0;
  for (let k = 0; k < reps; k++) n = (await fn()).length;
  console.log(`- ${label}: ${(ms(t) / reps).toFixed(2)} ms (${n} rows)`);
};
const end = T0 + TICKS * STEP;
const tq = Math.min(7, N - 1);
console.log(`\n## queries (one target, full detail)`);
await q('totals over 24 h', () => store.totals(`target-${tq}`, end - DAY, end));
await q('groupSeries over 24 h', () =>
  store.groupSeries(`target-${tq}`, `t${tq}-own-${G - 1}`, end - DAY, end),
);
await q('groupSeries over 1 h', () =>
  store.groupSeries(`target-${tq}`, `t${tq}-own-${G - 1}`, end - HOUR, end),
);
await q('latestGroups(50)', () => store.latestGroups(`target-${tq}`, 50));
await q('targets()', () => store.targets());

// 3. Retention: the steady prune, then a whole day aged at once, then to the hourly tier.
// prune() works in chunks within a time budget (250 ms) and returns true once caught up.
const pruneAll = (now) => {
  let calls = 0;
  let worst = 0;
  const t = process.hrtime.bigint();
  for (;;) {
    const c = process.hrtime.bigint();
    const done = store.pruneNow(now);
    worst = Math.max(worst, ms(c));
    calls++;
    if (done) break;
  }
  return `${ms(t).toFixed(0)} ms in ${calls} call(s), the longest ${worst.toFixed(0)} ms`;
};
console.log(`\n## prune`);
console.log(
  `- steady state (the 5 minutes that just left the 24 h detail window, ${N} targets): ${pruneAll(T0 + DAY + 5 * MIN)}`,
);
let r = pruneAll(end + DAY);
const used2 = store.stats().usedBytes;
console.log(
  `- the rest of the day to 5-min buckets at once: ${r}; then ${kb(used2 / N / days)} per target-day`,
);
r = pruneAll(end + 31 * DAY);
const used3 = store.stats().usedBytes;
console.log(
  `- that day to 1-h buckets: ${r}; then ${kb(used3 / N / days)} per target-day (groups, targets and infos included)`,
);
store.closeNow();
console.log(
  `- file after close: ${mb(fileSize(dbPath))} (free pages go back to the filesystem when most of the file is free or it is over the cap)`,
);

// 4. synchronous=NORMAL vs FULL on this disk: the same scrapes into fresh files.
const sample = Number(opt['sync-sample']);
if (sample > 0) {
  console.log(`\n## durability cost (${sample} scrapes, 1 target at a time, fresh file each)`);
  for (const sync of ['normal', 'full']) {
    const path = fresh(`sync-${sync}.db`);
    const s = openSqliteStore(path, { synchronous: sync });
    const seenS = new Set();
    for (let t = 0; t < 10; t++) await s.addScrape(scrapeFor(t, 0, seenS)); // warm
    const t = process.hrtime.bigint();
    for (let i = 1; i <= sample; i++)
      await s.addScrape(scrapeFor(i % 10, Math.ceil(i / 10), seenS));
    const el = ms(t);
    s.closeNow();
    console.log(
      `- synchronous=${sync.toUpperCase()}: ${((el / sample) * 1000).toFixed(0)} µs per scrape, ${Math.round(sample / (el / 1000))} scrapes/s`,
    );
  }
}
