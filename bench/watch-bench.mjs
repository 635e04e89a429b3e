#!/usr/bin/env node
// leakwatch watch at fleet size, on this machine.
//
// Part 1: N targets (default 1,000) served by one Go process (testdata/cmd/pprof-farm) answering
// with real captured profiles; `leakwatch watch` scrapes them all at --interval (15 s) for
// --seconds; we record its CPU (user+sys over wall: the share of one core), peak RSS, scrapes
// served, and the SQLite file's growth, extrapolated per target-day.
//
// Part 2: the latency a scrape adds to the watched service: a real notify-server (leaky, with
// --goroutines of leaked load on it), its /stats endpoint timed back to back for --seconds
// without watching and then while leakwatch scrapes it every second (protobuf profile; the
// debug=2 dump is rationed to once per 10 minutes by default, so it is not in this window).
//
//   node bench/watch-bench.mjs [--targets 1000] [--seconds 120] [--write]
import { execFileSync, spawn } from 'node:child_process';
import { setTimeout } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'bench', 'work');
const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const N = Number(arg('targets', 1000));
const SECONDS = Number(arg('seconds', 120));
const WRITE = process.argv.includes('--write');
mkdirSync(join(work, 'bin'), { recursive: true });

const build = (pkg, out) =>
  execFileSync('go', ['build', '-o', out, `./${pkg}`], {
    cwd: join(root, 'testdata'),
    stdio: 'inherit',
  });
const farmBin = join(work, 'bin', 'pprof-farm');
const serverBin = join(work, 'bin', 'notify-server');
const loadBin = join(work, 'bin', 'notify-load');
build('cmd/pprof-farm', farmBin);
build('cmd/notify-server', serverBin);
build('cmd/notify-load', loadBin);

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

function timed(cmd, args) {
  return new Promise((resolve) => {
    const out = join(work, 'time.txt');
    const p = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', out, cmd, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('close', () => {
      const [wall, user, sys, rss] = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .pop()
        .split(' ')
        .map(Number);
      resolve({ wall, user, sys, rssKiB: rss, stderr: err });
    });
  });
}

// ---- Part 1: the fleet ----
const farm = spawn(farmBin, ['-n', String(N)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const targetsFile = join(work, 'farm-targets.json');
writeFileSync(targetsFile, await firstLine(farm));
const farmUrl = JSON.parse(readFileSync(targetsFile, 'utf8')).targets[0].url;
const db = join(work, 'watch-bench.db');
for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
console.error(`watching ${N} targets at 15 s for ${SECONDS} s...`);
const w = await timed(process.execPath, [
  join(root, 'bin', 'leakwatch.js'),
  'watch',
  '--config',
  targetsFile,
  '--db',
  db,
  '--duration',
  `${SECONDS}s`,
  '--no-view',
  '--leak-every',
  '20',
]);
const served = Number(
  execFileSync('curl', ['-s', `${farmUrl}/farm/served`], { encoding: 'utf8' }).trim(),
);
farm.kill('SIGKILL');
const dbBytes = [db, `${db}-wal`].filter(existsSync).reduce((n, f) => n + statSync(f).size, 0);
const cpuShare = (w.user + w.sys) / w.wall;
const perTargetDay = (dbBytes / N) * (86400 / SECONDS);

// ---- Part 2: latency added to a watched service ----
const server = spawn(serverBin, ['-variant', 'leaky', '-heartbeat', '30s'], {
  stdio: ['ignore', 'pipe', 'ignore'],
});
const url = /listening on (\S+)/.exec(await firstLine(server))[1];
execFileSync(
  loadBin,
  ['-url', url, '-clients', '2000', '-broadcasts', '2', '-late-clients', '200'],
  { stdio: 'ignore' },
);
const goroutines = JSON.parse(
  execFileSync('curl', ['-s', `${url}/stats`], { encoding: 'utf8' }),
).goroutines;

async function probe(seconds) {
  const lat = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const t = performance.now();
    const r = await globalThis.fetch(`${url}/stats`);
    await r.arrayBuffer();
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  return { n: lat.length, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1].toFixed(2) };
}
const probeSeconds = Math.min(30, SECONDS);
const idle = await probe(probeSeconds);
const watcher = spawn(
  process.execPath,
  [
    join(root, 'bin', 'leakwatch.js'),
    'watch',
    url,
    '--interval',
    '1s',
    '--db',
    join(work, 'latency.db'),
    '--no-view',
  ],
  { stdio: 'ignore' },
);
await setTimeout(2000);
const watched = await probe(probeSeconds);
watcher.kill('SIGTERM');
server.kill('SIGKILL');
rmSync(join(work, 'latency.db'), { force: true });

const cpu = cpus()[0]?.model ?? '?';
const report = `<!-- bench:watch -->
## leakwatch watch at fleet size

Made by \`node bench/watch-bench.mjs --targets ${N} --seconds ${SECONDS} --write\` on ${new Date().toISOString().slice(0, 16)} UTC;
${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}.

**${N} targets** (one Go process, \`testdata/cmd/pprof-farm\`, serving the real protobuf profile
\`testdata/dumps/notify-leaky.pb.gz\`, 728 goroutines in 6 groups, on ${N} loopback ports), 15 s
interval, ${SECONDS} s:

| measure | result |
| --- | ---: |
| CPU (user+sys / wall) | ${(cpuShare * 100).toFixed(1)}% of one core |
| peak RSS | ${(w.rssKiB / 1024).toFixed(0)} MB |
| profiles served to leakwatch | ${served} (${(served / SECONDS).toFixed(1)}/s) |
| SQLite growth | ${(dbBytes / 1e6).toFixed(1)} MB in ${SECONDS} s = ${(perTargetDay / 1e6).toFixed(2)} MB per target-day at full detail (retention downsamples after 24 h: docs/watch-storage.md) |

**Latency added to the watched service**: a real notify-server holding ${goroutines} goroutines;
its \`/stats\` endpoint timed back to back for ${probeSeconds} s each (ms):

| | requests | p50 | p99 | max |
| --- | ---: | ---: | ---: | ---: |
| not watched | ${idle.n} | ${idle.p50} | ${idle.p99} | ${idle.max} |
| scraped every 1 s (protobuf) | ${watched.n} | ${watched.p50} | ${watched.p99} | ${watched.max} |
<!-- /bench:watch -->
`;
console.log(report);
if (WRITE) {
  const file = join(root, 'bench', 'RESULTS.md');
  let text = readFileSync(file, 'utf8');
  const re = /<!-- bench:watch -->[\s\S]*?<!-- \/bench:watch -->\n?/;
  text = re.test(text) ? text.replace(re, report) : `${text.trimEnd()}\n\n${report}`;
  writeFileSync(file, text);
  console.error('wrote bench/RESULTS.md');
}
