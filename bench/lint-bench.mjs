#!/usr/bin/env node
// Benchmark: `leakwatch lint` against `go vet` on the Go standard library, same run, same packages.
//
//   node bench/lint-bench.mjs [--runs N] [--write] [--findings FILE]
//
// The packages are `go list std` minus vendor/ (what `go vet std` checks, without the vendored
// x/ packages that lint skips), taken from the machine's $(go env GOROOT)/src. Tools, each run N
// times in round-robin order (default 1: a cold-ish go vet takes minutes):
//   leakwatch lint          non-test files (lint's default: worker threads, one per core)
//   leakwatch lint --jobs 1 the same in one thread, for what the workers gain
//   leakwatch lint --tests  test files too, as go vet reads them
//   go vet -lostcancel      the one analyzer closest to lint's cancel-not-called
//   go vet                  the default analyzer set
// Wall time is measured here around each spawn (median over runs); peak RSS is GNU time's %M
// (ru_maxrss: the largest single process of the tree, not the sum). go vet runs with a fresh,
// empty GOCACHE every time: it caches its results, so a second identical run answers from the
// cache in seconds and measures nothing (lint has no cache: every run does all the work).
// Findings are the `file:line:col:` lines go vet prints. --findings FILE keeps leakwatch's JSON (non-test run) for the review in RESULTS.md.
// --no-vet leaves go vet out (minutes on a cold cache): lint's rows alone, "vs go vet" blank.
// --write replaces the block between the bench:lint markers in bench/RESULTS.md (appending it
// at the end the first time); the hand-written review below that block is left alone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const GNU_TIME = '/usr/bin/time';
const LEAKWATCH = join(ROOT, 'bin', 'leakwatch.js');

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    write: { type: 'boolean', default: false },
    findings: { type: 'string' },
    'no-vet': { type: 'boolean', default: false },
  },
});
const runs = Math.max(1, Number(opts.runs));

const go = (args, cwd) => {
  const r = spawnSync('go', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`go ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
const GOROOT = go(['env', 'GOROOT']);
const SRC = join(GOROOT, 'src');
const goVersion = go(['env', 'GOVERSION']);
const list = go(['list', '-f', '{{.ImportPath}}\t{{.Dir}}', 'std'], SRC)
  .split('\n')
  .map((l) => l.split('\t'))
  .filter(([p]) => !p.startsWith('vendor/'));
const pkgs = list.map(([p]) => p);
const dirs = list.map(([, d]) => d);

const tmp = mkdtempSync(join(tmpdir(), 'lint-bench-'));

/** Runs one command under GNU time; returns wall seconds, peak RSS MB, exit code, outputs. */
function measure(cmd, args, cwd, env = {}) {
  return new Promise((resolve, reject) => {
    const timeFile = join(tmp, 'time.txt');
    const t0 = process.hrtime.bigint();
    const p = spawn(GNU_TIME, ['-o', timeFile, '-f', '%M', cmd, ...args], {
      cwd,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const kb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop());
      resolve({ wall, rssMB: (kb * 1024) / 1e6, code, stdout, stderr });
    });
  });
}

const allTools = [
  {
    name: 'leakwatch lint',
    show: 'node bin/leakwatch.js lint --json DIRS',
    cmd: process.execPath,
    args: [LEAKWATCH, 'lint', '--json', ...dirs],
    count: (r) => JSON.parse(r.stdout).findings.length,
    lines: (r) => JSON.parse(r.stdout).stats.lines,
  },
  {
    name: 'leakwatch lint --jobs 1',
    show: 'node bin/leakwatch.js lint --json --jobs 1 DIRS',
    cmd: process.execPath,
    args: [LEAKWATCH, 'lint', '--json', '--jobs', '1', ...dirs],
    count: (r) => JSON.parse(r.stdout).findings.length,
    lines: (r) => JSON.parse(r.stdout).stats.lines,
  },
  {
    name: 'leakwatch lint --tests',
    show: 'node bin/leakwatch.js lint --json --tests DIRS',
    cmd: process.execPath,
    args: [LEAKWATCH, 'lint', '--json', '--tests', ...dirs],
    count: (r) => JSON.parse(r.stdout).findings.length,
    lines: (r) => JSON.parse(r.stdout).stats.lines,
  },
  {
    name: 'go vet -lostcancel',
    show: 'GOCACHE=<empty> go vet -lostcancel PKGS',
    coldCache: true,
    cmd: 'go',
    args: ['vet', '-lostcancel', ...pkgs],
    count: (r) => r.stderr.split('\n').filter((l) => /^\S+\.go:\d+:\d+: /.test(l)).length,
  },
  {
    name: 'go vet',
    show: 'GOCACHE=<empty> go vet PKGS',
    coldCache: true,
    cmd: 'go',
    args: ['vet', ...pkgs],
    count: (r) => r.stderr.split('\n').filter((l) => /^\S+\.go:\d+:\d+: /.test(l)).length,
  },
];

// The machine may be shared: its load average, before and after, goes into the block.
const loadBefore = loadavg();
// --no-vet: lint's rows only, for a quick look (a cold go vet takes minutes).
const tools = opts['no-vet'] ? allTools.filter((t) => !t.coldCache) : allTools;
const results = new Map(tools.map((t) => [t.name, []]));
for (let i = 0; i < runs; i++) {
  for (const t of tools) {
    process.stderr.write(`run ${i + 1}/${runs}: ${t.name} ... `);
    const cache = t.coldCache ? mkdtempSync(join(tmp, 'gocache-')) : undefined;
    const r = await measure(t.cmd, t.args, SRC, cache ? { GOCACHE: cache } : {});
    if (cache) rmSync(cache, { recursive: true, force: true });
    process.stderr.write(`${r.wall.toFixed(1)} s, ${r.rssMB.toFixed(0)} MB, exit ${r.code}\n`);
    results.get(t.name).push(r);
    if (opts.findings && t.name === 'leakwatch lint' && i === 0)
      writeFileSync(opts.findings, r.stdout);
  }
}
rmSync(tmp, { recursive: true, force: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const rows = tools.map((t) => {
  const rs = results.get(t.name);
  const last = rs[rs.length - 1];
  return {
    name: t.name,
    show: t.show,
    wall: median(rs.map((r) => r.wall)),
    rss: Math.max(...rs.map((r) => r.rssMB)),
    findings: t.count(last),
    lines: t.lines ? t.lines(last) : undefined,
    code: last.code,
  };
});
const cpu = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
const date = new Date().toISOString().replace('T', ' ').slice(0, 16);
const loadAfter = loadavg();
const vet = rows.find((r) => r.name === 'go vet');
const lostcancel = rows.find((r) => r.name === 'go vet -lostcancel');
const out = [
  '<!-- bench:lint -->',
  `- date: ${date} UTC; runs: ${runs} per tool (median wall, max RSS), round-robin`,
  `- packages: \`go list std\` minus vendor/: ${pkgs.length} packages in ${SRC}; ${rows[0].lines.toLocaleString('en-US')} lines of non-test Go source linted (${rows.find((r) => r.name === 'leakwatch lint --tests').lines.toLocaleString('en-US')} with tests)`,
  `- machine: ${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; ${goVersion}${vet ? '; go vet with an empty GOCACHE each run' : ''}`,
  `- load average (1, 5, 15 min): ${loadBefore.map((x) => x.toFixed(1)).join(', ')} before, ${loadAfter.map((x) => x.toFixed(1)).join(', ')} after`,
  '',
  '| tool | command (in $GOROOT/src) | wall (median) | vs go vet | peak RSS | findings | exit |',
  '| --- | --- | ---: | ---: | ---: | ---: | --- |',
  ...rows.map(
    (r) =>
      `| ${r.name} | \`${r.show}\` | ${r.wall.toFixed(1)} s | ${vet ? `${(vet.wall / r.wall).toFixed(1)}x` : '–'} | ${r.rss.toFixed(0)} MB | ${r.findings} | ${r.code} |`,
  ),
  '',
  vet
    ? `"vs go vet" is go vet's wall time divided by the tool's (above 1: faster than go vet). go vet -lostcancel alone took ${lostcancel.wall.toFixed(1)} s.`
    : 'go vet was not run (--no-vet).',
  '<!-- /bench:lint -->',
].join('\n');
process.stdout.write(`${out}\n`);

if (opts.write) {
  const text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
  const re = /<!-- bench:lint -->[\s\S]*?<!-- \/bench:lint -->/;
  const next = re.test(text)
    ? text.replace(re, out)
    : `${text.replace(/\n*$/, '\n')}\n## lint\n\nMade by \`node bench/lint-bench.mjs --write\` (see the comments at the top of that script).\n\n${out}\n`;
  writeFileSync(RESULTS, next);
  process.stderr.write(`wrote ${RESULTS}\n`);
}
