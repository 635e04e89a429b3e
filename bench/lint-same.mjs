#!/usr/bin/env node
// Same output, less CPU? Runs `lint --json` of two leakwatch checkouts (this one and BASE, e.g.
// a build of the commit before a speed change) on the Go standard library (non-test, and with
// tests) and on the ten modules of lint-modules.mjs (with tests, from the module cache), and
// prints per input whether the JSON reports are byte-identical, and each side's CPU seconds
// (user+sys, GNU time): unlike wall time, CPU time means something on a shared machine.
//
//   node bench/lint-same.mjs --base DIR [--jobs N] [--only SUBSTR]
//
// Exits 1 when any report differs.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    base: { type: 'string' },
    jobs: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
if (!opts.base) throw new Error('--base DIR: the other leakwatch checkout (built) is required');

const go = (args, cwd) => {
  const r = spawnSync('go', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`go ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
const SRC = join(go(['env', 'GOROOT']), 'src');
const std = go(['list', '-f', '{{.ImportPath}}\t{{.Dir}}', 'std'], SRC)
  .split('\n')
  .map((l) => l.split('\t'))
  .filter(([p]) => !p.startsWith('vendor/'))
  .map(([, d]) => d);

// The module list is lint-modules.mjs's, read from its source (importing it would run it).
const modules = [
  ...readFileSync(join(ROOT, 'bench', 'lint-modules.mjs'), 'utf8').matchAll(
    /^\s*\['([^']+)', '(v[^']+)'\],$/gm,
  ),
].map((m) => [m[1], m[2]]);

const inputs = [
  { name: 'std (non-test)', cwd: SRC, args: std },
  { name: 'std (with tests)', cwd: SRC, args: ['--tests', ...std] },
  ...modules.map(([mod, version]) => ({
    name: `${mod}@${version}`,
    cwd: JSON.parse(go(['mod', 'download', '-json', `${mod}@${version}`], ROOT)).Dir,
    args: ['--tests', './...'],
  })),
].filter((i) => !opts.only || i.name.includes(opts.only));

const tmp = mkdtempSync(join(tmpdir(), 'lint-same-'));
function run(checkout, input) {
  const timeFile = join(tmp, 'time.txt');
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-o',
      timeFile,
      '-f',
      '%U %S',
      process.execPath,
      join(checkout, 'bin', 'leakwatch.js'),
      'lint',
      '--json',
      '--jobs',
      opts.jobs,
      ...input.args,
    ],
    { cwd: input.cwd, encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { out: r.stdout, cpu: u + s, findings: JSON.parse(r.stdout).findings.length };
}

console.log(
  `load average before: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(', ')}`,
);
console.log(`| input | identical | findings | CPU s, base | CPU s, this |`);
console.log(`| --- | --- | ---: | ---: | ---: |`);
let differ = 0;
for (const input of inputs) {
  const a = run(opts.base, input);
  const b = run(ROOT, input);
  const same = a.out === b.out;
  if (!same) differ++;
  console.log(
    `| ${input.name} | ${same ? 'yes' : 'NO'} | ${b.findings} | ${a.cpu.toFixed(2)} | ${b.cpu.toFixed(2)} |`,
  );
}
console.log(
  `load average after: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(', ')}`,
);
rmSync(tmp, { recursive: true, force: true });
process.exitCode = differ > 0 ? 1 : 0;
