#!/usr/bin/env node
// Benchmark: `leakwatch lint --tests` on ten popular Go modules nobody on the team wrote, at
// pinned versions fetched through the module proxy (`go mod download -json module@version` puts
// each in the module cache and says where).
//
//   node bench/lint-modules.mjs [--out DIR] [--sample N] [--seed S] [--module SUBSTR]... [--jobs N]
//
// Prints, per module: lines, wall time, files with syntax errors (listed, never skipped
// silently), findings; then findings per rule per 10,000 lines over all modules, error-level
// findings apart from the notes for leaks reachable only after a failed test. --out keeps each
// module's JSON report; --sample N prints N findings drawn at random (seeded, so the sample is
// reproducible) for the hand review recorded in bench/RESULTS.md. --module (repeatable) keeps
// only the modules whose path contains it: `--module nats-server` times the issue's 20 s target
// alone; --jobs N is passed to lint (default: lint's own, a worker thread per core). The load
// average before and after is printed (the machine may be shared).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LEAKWATCH = join(ROOT, 'bin', 'leakwatch.js');

export const MODULES = [
  ['google.golang.org/grpc', 'v1.85.0'],
  ['k8s.io/client-go', 'v0.37.2'],
  ['github.com/nats-io/nats-server/v2', 'v2.15.3'],
  ['github.com/redis/go-redis/v9', 'v9.23.0'],
  ['github.com/IBM/sarama', 'v1.61.1'],
  ['go.etcd.io/etcd/client/v3', 'v3.7.3'],
  ['github.com/hashicorp/raft', 'v1.8.0'],
  ['github.com/hashicorp/memberlist', 'v0.7.0'],
  ['github.com/prometheus/client_golang', 'v1.25.0'],
  ['github.com/olahol/melody', 'v1.1.4'],
];

const { values: opts } = parseArgs({
  options: {
    out: { type: 'string' },
    sample: { type: 'string', default: '0' },
    seed: { type: 'string', default: '10' },
    module: { type: 'string', multiple: true, default: [] },
    jobs: { type: 'string' },
  },
});
const chosen =
  opts.module.length === 0
    ? MODULES
    : MODULES.filter(([m]) => opts.module.some((want) => m.includes(want)));
if (chosen.length === 0) throw new Error(`--module ${opts.module.join(', ')}: no such module`);

function download(mod, version) {
  const r = spawnSync('go', ['mod', 'download', '-json', `${mod}@${version}`], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, GOFLAGS: '-mod=mod' },
  });
  if (r.status !== 0) throw new Error(`go mod download ${mod}@${version}: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout).Dir;
}

function lint(dir) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const jobs = opts.jobs ? ['--jobs', opts.jobs] : [];
    const p = spawn(process.execPath, [LEAKWATCH, 'lint', '--json', '--tests', ...jobs, './...'], {
      cwd: dir,
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => process.stderr.write(d));
    p.on('error', reject);
    p.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve({ wall, code, report: JSON.parse(out) });
    });
  });
}

/** A small seeded generator (mulberry32), so a sample can be drawn again. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

if (opts.out) mkdirSync(opts.out, { recursive: true });
const rows = [];
const all = [];
const loadBefore = loadavg();
for (const [mod, version] of chosen) {
  const dir = download(mod, version);
  const r = await lint(dir);
  if (opts.out)
    writeFileSync(join(opts.out, `${mod.replace(/\//g, '_')}.json`), JSON.stringify(r.report));
  const f = r.report.findings;
  rows.push({
    mod: `${mod}@${version}`,
    lines: r.report.stats.lines,
    wall: r.wall,
    problems: r.report.problems,
    errors: f.filter((x) => !x.testOnly).length,
    notes: f.filter((x) => x.testOnly).length,
  });
  for (const x of f) all.push({ ...x, mod, dir });
  process.stderr.write(`${mod}: ${r.wall.toFixed(1)} s\n`);
}

const lines = rows.reduce((a, r) => a + r.lines, 0);
const cpu = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
const out = [
  `- machine: ${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; command per module: \`node bin/leakwatch.js lint --json --tests${opts.jobs ? ` --jobs ${opts.jobs}` : ''} ./...\` in the module's directory`,
  `- date: ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC; load average (1, 5, 15 min): ${loadBefore.map((x) => x.toFixed(1)).join(', ')} before, ${loadavg()
    .map((x) => x.toFixed(1))
    .join(', ')} after`,
  '',
  '| module | lines | wall | files with syntax errors | findings | after a failed test (notes) |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.mod} | ${r.lines.toLocaleString('en-US')} | ${r.wall.toFixed(1)} s | ${r.problems.length} | ${r.errors} | ${r.notes} |`,
  ),
  `| **all** | ${lines.toLocaleString('en-US')} | ${rows.reduce((a, r) => a + r.wall, 0).toFixed(1)} s | ${rows.reduce((a, r) => a + r.problems.length, 0)} | ${rows.reduce((a, r) => a + r.errors, 0)} | ${rows.reduce((a, r) => a + r.notes, 0)} |`,
  '',
  '| rule | findings | per 10,000 lines | notes (after a failed test) |',
  '| --- | ---: | ---: | ---: |',
];
const rules = [...new Set(all.map((x) => x.rule))].sort();
for (const rule of rules) {
  const main = all.filter((x) => x.rule === rule && !x.testOnly).length;
  const notes = all.filter((x) => x.rule === rule && x.testOnly).length;
  out.push(`| ${rule} | ${main} | ${((main * 10000) / lines).toFixed(3)} | ${notes} |`);
}
const problems = rows.flatMap((r) =>
  r.problems.map((p) => `${r.mod}: ${p.file}:${p.line}: ${p.reason}`),
);
if (problems.length > 0)
  out.push(
    '',
    'Files with syntax errors (linted as far as they parse):',
    ...problems.map((p) => `- ${p}`),
  );
process.stdout.write(`${out.join('\n')}\n`);

const n = Number(opts.sample);
if (n > 0) {
  const rand = rng(Number(opts.seed));
  const pool = all.filter((x) => !x.testOnly);
  const picked = [];
  while (picked.length < Math.min(n, pool.length)) {
    const i = Math.floor(rand() * pool.length);
    picked.push(pool.splice(i, 1)[0]);
  }
  process.stdout.write(`\nSample of ${picked.length} (seed ${opts.seed}):\n`);
  for (const x of picked)
    process.stdout.write(`- ${x.mod} ${x.file}:${x.line} ${x.rule}: ${x.message}\n`);
}
