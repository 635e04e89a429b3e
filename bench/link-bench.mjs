#!/usr/bin/env node
// Benchmark: what linking to source costs. The same dump analyzed without a checkout, linked to
// one package and to the whole testdata module; lint alone and lint --confirm with the dump.
//
//   node bench/link-bench.mjs [--input FILE] [--runs N]
//
// Round-robin runs, wall time measured around each spawn (median), CPU time (user+sys, median)
// and peak RSS (max over the runs) from GNU time: on a shared machine CPU time is the steadier
// figure. Output: a markdown table for bench/RESULTS.md. No peers exist for the
// link itself (no other tool joins a dump to lint findings), so the baseline is leakwatch
// without it, in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const input = opt('--input', 'testdata/dumps/notify-leaky-50847.debug2.txt.gz');
const runs = Number(opt('--runs', '5'));
const bin = 'bin/leakwatch.js';
const cases = [
  ['analyze (no link)', ['analyze', '--no-source', input]],
  ['analyze --source testdata/notify', ['analyze', '--source', 'testdata/notify', input]],
  ['analyze --source testdata', ['analyze', '--source', 'testdata', input]],
  ['analyze --json --source testdata', ['analyze', '--json', '--source', 'testdata', input]],
  ['lint testdata/notify', ['lint', 'testdata/notify']],
  ['lint --confirm DUMP testdata/notify', ['lint', '--confirm', input, 'testdata/notify']],
];
const haveTime = existsSync('/usr/bin/time');
const results = cases.map(() => ({ wall: [], cpu: [], rss: 0, exit: -1 }));
for (let r = 0; r < runs; r++)
  cases.forEach(([, a], i) => {
    const cmd = haveTime ? '/usr/bin/time' : process.execPath;
    const full = haveTime ? ['-f', '%M %U %S', process.execPath, bin, ...a] : [bin, ...a];
    const t0 = process.hrtime.bigint();
    const p = spawnSync(cmd, full, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    results[i].wall.push(ms);
    results[i].exit = p.status;
    // GNU time's last line: peak RSS (KB), user and system CPU seconds.
    const m = haveTime ? /(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(p.stderr) : null;
    results[i].rss = Math.max(results[i].rss, Number(m?.[1] ?? 0));
    if (m) results[i].cpu.push(Number(m[2]) + Number(m[3]));
  });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const go = spawnSync('go', ['version'], { encoding: 'utf8' }).stdout?.trim() ?? 'no go';
console.log(
  `- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; runs: ${runs} each, round-robin`,
);
console.log(`- input: ${input}`);
console.log(
  `- machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; ${go}`,
);
console.log('');
console.log('| command | wall (median) | CPU user+sys (median) | peak RSS | exit |');
console.log('| --- | ---: | ---: | ---: | --- |');
cases.forEach(([name], i) => {
  const r = results[i];
  const rss = haveTime ? `${(r.rss / 1000).toFixed(1)} MB` : 'n/a';
  const cpu = r.cpu.length > 0 ? `${median(r.cpu).toFixed(2)} s` : 'n/a';
  console.log(
    `| \`${name}\` | ${(median(r.wall) / 1000).toFixed(2)} s | ${cpu} | ${rss} | ${r.exit} |`,
  );
});
