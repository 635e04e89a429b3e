#!/usr/bin/env node
// leakwatch watch as a fleet: N simulated targets (default 10,000; testdata/cmd/pprof-farm,
// real captured profiles, 5,000 ports per farm process) watched by R replicas (default 3) of
// `leakwatch watch` on one PostgreSQL database (127.0.0.1:5432, a database of its own, dropped
// after), all on this machine.
//
// Measured over a steady window of --seconds after a warm-up (every target scraped once):
// - CPU of the replicas (utime+stime from /proc over the window), per 1,000 targets;
// - CPU of the PostgreSQL backends serving them (the same, for the backends alive throughout);
// - PostgreSQL rows written per second (pg_stat_database tup_inserted + tup_updated);
// - bytes per target-day (the snapshot partitions and the other tables' growth over the window);
// Then one replica is killed with -9 and we time (from the kill) until the survivors' /api/fleet
// no longer lists it, and until every target it owned has a scrape by a survivor.
//
//   npm run build && node bench/watch-fleet-bench.mjs [--targets 10000] [--replicas 3]
//     [--seconds 120] [--interval 15s] [--warmup-max 600] [--write]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'bench', 'work');
const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const N = Number(arg('targets', 10_000));
const R = Number(arg('replicas', 3));
const SECONDS = Number(arg('seconds', 120));
const INTERVAL = arg('interval', '15s');
const WRITE = process.argv.includes('--write');
const PER_FARM = 5000; // a farm holds a listener and a connection per target: fds
mkdirSync(join(work, 'bin'), { recursive: true });

const farmBin = join(work, 'bin', 'pprof-farm');
execFileSync('go', ['build', '-o', farmBin, './cmd/pprof-farm'], {
  cwd: join(root, 'testdata'),
  stdio: 'inherit',
});

// ---- PostgreSQL: a database of our own ----
let user;
for (const u of [process.env.PGUSER, 'root', 'postgres'].filter(Boolean)) {
  const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: u, database: 'postgres' });
  try {
    await c.connect();
    await c.end();
    user = u;
    break;
  } catch {
    await c.end().catch(() => undefined);
  }
}
if (!user) throw new Error('no PostgreSQL at 127.0.0.1:5432 (trust auth, user root or postgres)');
const DB = `fleetrep_bench_${randomBytes(3).toString('hex')}`;
const admin = async (sql, database = 'postgres') => {
  const c = new pg.Client({ host: '127.0.0.1', port: 5432, user, database });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
};
await admin(`CREATE DATABASE ${DB}`);
const pgVersion = (await admin('SHOW server_version'))[0].server_version;

const procs = [];
const cleanup = async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await sleep(500);
  await admin(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`).catch((e) => console.error(e.message));
};
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

function firstLine(proc) {
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    proc.on('exit', (c) => reject(new Error(`exited ${c}`)));
  });
}

/** utime+stime of a process in seconds (Linux /proc), or undefined once it is gone. */
function cpuOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}
function peakRssMb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

try {
  // ---- the farm ----
  const targets = [];
  for (let start = 0, f = 0; start < N; start += PER_FARM, f++) {
    const n = Math.min(PER_FARM, N - start);
    const farm = spawn(farmBin, ['-n', String(n), '-interval', INTERVAL], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    procs.push(farm);
    const file = JSON.parse(await firstLine(farm));
    for (const t of file.targets) targets.push({ name: `f${f}-${t.name}`, url: t.url });
  }
  const targetsFile = join(work, 'fleet-targets.json');
  writeFileSync(targetsFile, JSON.stringify({ interval: INTERVAL, targets }));

  // ---- the replicas ----
  const dbUrl = `postgres://${user}@127.0.0.1:5432/${DB}`;
  const replicas = [];
  for (let i = 1; i <= R; i++) {
    const id = `bench-${i}`;
    const p = spawn(
      process.execPath,
      [
        join(root, 'bin', 'leakwatch.js'),
        'watch',
        '--config',
        targetsFile,
        '--db',
        dbUrl,
        '--replica-id',
        id,
        '--listen',
        '127.0.0.1:0',
        '--no-view',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    procs.push(p);
    const r = { id, p, stderr: '', api: undefined };
    p.stderr.on('data', (d) => {
      r.stderr += d;
      r.api ??= /API on (http:\/\/[\d.]+:\d+)/.exec(r.stderr)?.[1];
    });
    replicas.push(r);
  }
  const fleetOf = async (r) => (await globalThis.fetch(`${r.api}/api/fleet`)).json();
  const q = (sql) => admin(sql, DB);
  // One index probe per target, not a scan of every snapshot.
  const scraped = async () =>
    Number(
      (
        await q(
          'SELECT count(*)::int AS n FROM targets t WHERE EXISTS (SELECT 1 FROM snapshots s WHERE s.target = t.id)',
        ).catch(() => [{ n: 0 }])
      )[0].n,
    );
  console.error(`${N} targets, ${R} replicas, interval ${INTERVAL}: warming up...`);
  // Warm-up: until every target was scraped once (each replica first loads every target's
  // history from the database), or WARMUP_MAX; a machine that cannot keep up is reported so.
  const WARMUP_MAX = Number(arg('warmup-max', 600)) * 1000;
  const warmStart = Date.now();
  let warmed = 0;
  for (;;) {
    await sleep(2000);
    for (const r of replicas)
      if (r.p.exitCode !== null) throw new Error(`${r.id} exited: ${r.stderr}`);
    warmed = await scraped();
    if (warmed >= N && replicas.every((r) => r.api)) break;
    if (Date.now() - warmStart > WARMUP_MAX && replicas.every((r) => r.api)) break;
  }
  const warmup = (Date.now() - warmStart) / 1000;

  // ---- the steady window ----
  const backends = async () =>
    (
      await q(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'leakwatch'`,
      )
    ).map((x) => x.pid);
  const dbStats = async () =>
    (
      await q(
        `SELECT (tup_inserted + tup_updated)::bigint AS w, tup_inserted::bigint AS ins FROM pg_stat_database WHERE datname = current_database()`,
      )
    )[0];
  const sizes = async () =>
    (
      await q(
        `SELECT coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname LIKE 'snapshots_p%'), 0)::bigint AS snap,
           coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS total
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind = 'r'`,
      )
    )[0];
  const snapRows = async () =>
    Number((await q('SELECT count(*)::bigint AS n FROM snapshots'))[0].n);
  const load0 = loadavg();
  const b0 = await backends();
  const pgCpu0 = new Map(b0.map((pid) => [pid, cpuOf(pid)]));
  const cpu0 = replicas.map((r) => cpuOf(r.p.pid));
  const st0 = await dbStats();
  const sz0 = await sizes();
  const rows0 = await snapRows();
  const t0 = Date.now();
  console.error(`steady window of ${SECONDS} s...`);
  await sleep(SECONDS * 1000);
  const secs = (Date.now() - t0) / 1000;
  const cpu1 = replicas.map((r) => cpuOf(r.p.pid));
  let pgCpu = 0;
  for (const [pid, c] of pgCpu0) {
    const c1 = cpuOf(pid);
    if (c !== undefined && c1 !== undefined) pgCpu += c1 - c;
  }
  // pg_stat_database lags by up to a second of stats flushing; the window is long.
  await sleep(1500);
  const st1 = await dbStats();
  const sz1 = await sizes();
  const rows1 = await snapRows();
  const load1 = loadavg();
  const replicaCpu = cpu1.reduce((s, c, i) => s + (c - cpu0[i]), 0) / secs; // cores
  const rss = replicas.map((r) => peakRssMb(r.p.pid));
  const scrapesPerSec = (rows1 - rows0) / secs;
  const rowsPerSec = (Number(st1.w) - Number(st0.w)) / (secs + 1.5);
  const grow = Number(sz1.total) - Number(sz0.total);
  const snapGrow = Number(sz1.snap) - Number(sz0.snap);
  const perTargetDay = (b) => (b / N) * (86400 / secs);

  // ---- kill -9 one replica, time the takeover ----
  const views = await Promise.all(replicas.map(fleetOf));
  const victim = replicas[0];
  const owned = views[0].targets.filter((t) => t.owner === victim.id).map((t) => t.name);
  const survivors = replicas.slice(1);
  const killedAt = Date.now();
  const killedAtDb = Number(
    (await q('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS t'))[0].t,
  );
  victim.p.kill('SIGKILL');
  let membersGone;
  let scrapedAll;
  const list = owned.map((n) => `'${n.replace(/'/g, "''")}'`).join(',');
  while (Date.now() - killedAt < 300_000 && scrapedAll === undefined) {
    await sleep(250);
    if (membersGone === undefined) {
      const vs = await Promise.all(survivors.map(fleetOf));
      if (vs.every((v) => !v.members.some((m) => m.id === victim.id)))
        membersGone = (Date.now() - killedAt) / 1000;
    }
    if (membersGone !== undefined && owned.length > 0) {
      const n = Number(
        (
          await q(`SELECT count(DISTINCT s.target)::int AS n FROM snapshots s JOIN targets t ON t.id = s.target
                  WHERE s.at > ${killedAtDb} AND t.name IN (${list})`)
        )[0].n,
      );
      if (n >= owned.length) scrapedAll = (Date.now() - killedAt) / 1000;
    }
  }

  const cpuModel = cpus()[0]?.model ?? '?';
  const f1 = (x) => x.toFixed(1);
  const report = `<!-- bench:watch-fleet -->
## watch as a fleet: replicas on PostgreSQL

Made by \`npm run build && node bench/watch-fleet-bench.mjs --targets ${N} --replicas ${R} --seconds ${SECONDS} --interval ${INTERVAL} --write\`
on ${new Date().toISOString().slice(0, 16)} UTC; ${cpuModel}, ${cpus().length} cores,
${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; PostgreSQL ${pgVersion} on the
same machine. Load average ${load0.map(f1).join(' ')} at the start of the window,
${load1.map(f1).join(' ')} at its end (other jobs shared the machine: CPU shares are what
these processes used, the rates are what they managed on what was left).

**${N} targets** (\`testdata/cmd/pprof-farm\`, the real protobuf profile of 728 goroutines in 6
groups, on ${N} loopback ports) at ${INTERVAL}, **${R} replicas** of \`leakwatch watch\` on one
database; warm-up ${f1(warmup)} s (${warmed >= N ? 'every target scraped once' : `only ${warmed} of ${N} targets scraped once by then: the machine could not keep up`}), then a ${f1(secs)} s window:

| measure | result |
| --- | ---: |
| scrapes stored | ${f1(scrapesPerSec)}/s (${f1(((scrapesPerSec * parseFloat(INTERVAL)) / N) * 100)}% of the ${f1(N / parseFloat(INTERVAL))}/s the interval asks) |
| replicas' CPU | ${f1(replicaCpu * 100)}% of one core in all = ${f1((replicaCpu * 100 * 1000) / N)}% of a core per 1,000 targets |
| PostgreSQL backends' CPU | ${f1((pgCpu / secs) * 100)}% of one core = ${f1(((pgCpu / secs) * 100 * 1000) / N)}% per 1,000 targets |
| replicas' peak RSS | ${rss.map((x) => x.toFixed(0)).join(', ')} MB |
| PostgreSQL rows written | ${f1(rowsPerSec)}/s (inserted + updated, pg_stat_database) |
| bytes per target-day | ${(perTargetDay(grow) / 1e6).toFixed(2)} MB (snapshot partitions ${(perTargetDay(snapGrow) / 1e6).toFixed(2)} MB) |

**Takeover**: \`${victim.id}\` (owning ${owned.length} targets) killed with -9; the survivors'
/api/fleet stopped listing it after **${membersGone === undefined ? 'never (5 min)' : `${f1(membersGone)} s`}**, and every one of its targets
had a scrape by a survivor after **${scrapedAll === undefined ? 'never (5 min)' : `${f1(scrapedAll)} s`}** (the heartbeat interval is the scrape
interval, ${INTERVAL}: a replica is dead 2 intervals after its last beat, and the survivors see it
at their next beat).
<!-- /bench:watch-fleet -->
`;
  console.log(report);
  if (WRITE) {
    const file = join(root, 'bench', 'RESULTS.md');
    let text = readFileSync(file, 'utf8');
    const re = /<!-- bench:watch-fleet -->[\s\S]*?<!-- \/bench:watch-fleet -->\n?/;
    text = re.test(text) ? text.replace(re, report) : `${text.trimEnd()}\n\n${report}`;
    writeFileSync(file, text);
    console.error('wrote bench/RESULTS.md');
  }
} finally {
  await cleanup();
}
