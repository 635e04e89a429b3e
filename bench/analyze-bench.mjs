#!/usr/bin/env node
// Benchmark: `leakwatch analyze` against two Go goroutine-dump parsers, same run, same input.
//
//   node bench/analyze-bench.mjs [--input FILE[.gz]] [--runs N] [--timeout SEC] [--mem MB,MB]
//                                [--startup N] [--write]
//
// --startup N: N interleaved runs of `node -e 0`, `leakwatch --version` and `leakwatch analyze` of
// a tiny dump (wall time; the ratio to `node -e 0` is the figure). --mem 100,1000: the input
// concatenated up to each size, one `leakwatch analyze` each: peak RSS above an empty Node's.
//
// Every tool reads the same plain-text dump (a .gz input is decompressed into bench/work/ first,
// so nobody pays for gunzip) and writes to /dev/null. Wall time is taken in this process around
// each spawn (hrtime: finer than time's 10 ms); peak RSS comes from GNU time's %M (the kernel's
// ru_maxrss of the waited-for child and its descendants), or, without /usr/bin/time, from polling
// VmHWM in /proc/<pid>/status (a lower bound: a peak just before exit can be missed).
// Plain Node ESM, no dependencies; the peers are Go binaries installed into bench/work/bin (ignored
// by git), so on a fresh clone the first run installs them at the pinned versions.
import { spawn, spawnSync } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  openSync,
  closeSync,
  readFileSync,
  writeFileSync,
  statSync,
  rmSync,
  mkdirSync,
  writeSync,
} from 'node:fs';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { basename, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setInterval, clearInterval } from 'node:timers';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORK = join(ROOT, 'bench', 'work');
const BIN = join(WORK, 'bin');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const GNU_TIME = '/usr/bin/time';

// Peers, pinned exactly: changing a version here makes the next run reinstall it.
const PEERS = [
  {
    bin: 'pp',
    mod: 'github.com/maruel/panicparse/v2',
    pkg: 'github.com/maruel/panicparse/v2/cmd/pp',
    version: 'v2.5.0',
  },
  {
    bin: 'gostack2json',
    mod: 'github.com/DataDog/gostackparse',
    pkg: 'github.com/DataDog/gostackparse/cmd/gostack2json',
    version: 'v0.7.0',
  },
];

const { values: opt } = parseArgs({
  options: {
    input: {
      type: 'string',
      default: join(ROOT, 'testdata/dumps/notify-leaky-50847.debug2.txt.gz'),
    },
    runs: { type: 'string', default: '5' },
    timeout: { type: 'string', default: '300' }, // per run; panicparse's grouping is O(goroutines x buckets)
    mem: { type: 'string' }, // MB sizes for the memory check; off unless given
    startup: { type: 'string' }, // runs for the startup check; off unless given
    write: { type: 'boolean', default: false },
  },
});
const RUNS = Math.max(1, Number(opt.runs));
const TIMEOUT = Number(opt.timeout);

// The tools, as a user would run them. stdin: the dump is fed on stdin (the peers' documented use).
const LW = ['node', join(ROOT, 'bin/leakwatch.js')];
const tools = (file) => [
  { name: 'leakwatch analyze', argv: [...LW, 'analyze', file] },
  { name: 'leakwatch analyze --json', argv: [...LW, 'analyze', '--json', file] },
  // -no-color: plain text even if stdout were a tty; -rebase=false: don't guess GOROOT/GOPATH or
  // open the dump's .go source files on this machine (that would time our disk, not the parser).
  // Default similarity (AnyPointer) groups goroutines whose stacks match up to pointer arguments.
  // (v2.5.0 also compares the creator's "in goroutine N" suffix: see the note printed below.)
  { name: 'panicparse pp', argv: [join(BIN, 'pp'), '-no-color', '-rebase=false'], stdin: true },
  // -aggressive (AnyValue) also ignores non-pointer argument values: closer to grouping by stack only.
  {
    name: 'panicparse pp -aggressive',
    argv: [join(BIN, 'pp'), '-no-color', '-rebase=false', '-aggressive'],
    stdin: true,
  },
  // Parses everything and prints it all as indented JSON; exits 1 if some goroutine failed to parse.
  { name: 'gostackparse gostack2json', argv: [join(BIN, 'gostack2json')], stdin: true },
  // Floors, not tools: Node starting and exiting, and Node reading the file and finding every
  // newline (bench/floor.cjs): no program on Node can read the dump in less.
  { name: 'floor: node -e 0', argv: ['node', '-e', '0'] },
  {
    name: 'floor: node reads FILE, finds newlines',
    argv: ['node', join(ROOT, 'bench/floor.cjs'), file],
  },
];

function sh(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  return r.status === 0 ? r.stdout.trim() : '';
}

function ensurePeers() {
  mkdirSync(BIN, { recursive: true });
  for (const p of PEERS) {
    const exe = join(BIN, p.bin);
    // `go version -m` lists the main module's version: reinstall when it isn't the pinned one.
    if (existsSync(exe) && sh('go', ['version', '-m', exe]).includes(`\t${p.mod}\t${p.version}\t`))
      continue;
    console.error(`installing ${p.pkg}@${p.version} into ${BIN}`);
    const r = spawnSync('go', ['install', `${p.pkg}@${p.version}`], {
      stdio: 'inherit',
      env: { ...process.env, GOBIN: BIN },
    });
    if (r.status !== 0) throw new Error(`go install ${p.pkg}@${p.version} failed`);
  }
}

// Plain text for everyone: gunzip a .gz once into bench/work/ (reused while newer than the .gz).
async function plainInput(file) {
  if (!file.endsWith('.gz')) return file;
  const out = join(WORK, basename(file, '.gz'));
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(file).mtimeMs) {
    mkdirSync(WORK, { recursive: true });
    await pipeline(createReadStream(file), createGunzip(), createWriteStream(out));
  }
  return out;
}

// Reads the whole file once: counts goroutines and, as a side effect, warms the page cache so the
// first timed run doesn't pay for the disk.
async function countGoroutines(file) {
  let n = 0;
  let tail = '';
  for await (const chunk of createReadStream(file, { encoding: 'latin1' })) {
    const lines = (tail + chunk).split('\n');
    tail = lines.pop();
    for (const l of lines) if (l.startsWith('goroutine ') && l.endsWith(':')) n++;
  }
  return n;
}

// One run. Resolves { wall seconds, rss KiB, code, err (first stderr line) }.
async function measure(argv, stdinFile) {
  const hasTime = existsSync(GNU_TIME);
  const timeOut = join(tmpdir(), `analyze-bench-${process.pid}.time`);
  // coreutils timeout bounds a runaway run; GNU time's %M still covers it (max over descendants).
  const cmd = hasTime
    ? [GNU_TIME, '-f', '%M', '-o', timeOut, 'timeout', String(TIMEOUT), ...argv]
    : ['timeout', String(TIMEOUT), ...argv];
  const stdin = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
  const devnull = openSync('/dev/null', 'w');
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd[0], cmd.slice(1), { stdio: [stdin, devnull, 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr.length < 4096 ? (stderr += d) : null));
  let hwm = 0;
  const poll = hasTime ? null : setInterval(() => (hwm = Math.max(hwm, vmHWM(child.pid))), 10);
  const code = await new Promise((res) => child.on('close', (c, sig) => res(c ?? sig)));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (poll) clearInterval(poll);
  if (typeof stdin === 'number') closeSync(stdin);
  closeSync(devnull);
  let rss = hwm;
  if (hasTime) {
    rss = Number(readFileSync(timeOut, 'utf8').trim().split('\n').pop());
    rmSync(timeOut, { force: true });
  }
  return { wall, rss, code, err: stderr.split('\n').find((l) => l.trim()) ?? '' };
}

// Fallback only: VmHWM of the process under `timeout` (its only child), read from /proc.
function vmHWM(pid) {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    return Math.max(
      0,
      ...kids.map((k) =>
        Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${k}/status`, 'utf8'))?.[1] ?? 0),
      ),
    );
  } catch {
    return 0;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const mb = (bytes) => (bytes / 1e6).toFixed(1);

function machine() {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  return {
    cpu,
    cores: cpus().length,
    mem: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    node: process.version,
    go: sh('go', ['env', 'GOVERSION']) || 'unknown',
    rss: existsSync(GNU_TIME)
      ? 'GNU time %M (ru_maxrss)'
      : 'VmHWM polled every 10 ms (lower bound)',
  };
}

async function main() {
  if (!existsSync(opt.input)) {
    console.error(
      `input not found: ${opt.input}\n(pass --input FILE; the default dump is made by testdata/)`,
    );
    process.exit(2);
  }
  ensurePeers();
  const file = await plainInput(opt.input);
  const size = statSync(file).size;
  const goroutines = await countGoroutines(file);
  const m = machine();
  const list = tools(file);
  const res = list.map(() => ({ walls: [], rsss: [], codes: new Set(), err: '', timedOut: false }));

  // Round-robin (tool A, B, C, A, B, C, ...) so slow drift on the machine hits every tool alike.
  for (let run = 1; run <= RUNS; run++) {
    for (const [i, t] of list.entries()) {
      const r = res[i];
      if (r.timedOut) continue;
      const x = await measure(t.argv, t.stdin ? file : null);
      console.error(
        `run ${run}/${RUNS} ${t.name}: ${x.wall.toFixed(2)} s, ${(x.rss / 1024).toFixed(0)} MiB, exit ${x.code}`,
      );
      if (x.code === 124) r.timedOut = true; // don't spend N x timeout on a tool that can't finish
      r.walls.push(x.wall);
      r.rsss.push(x.rss);
      r.codes.add(x.code);
      if (x.code !== 0 && !r.err) r.err = x.err;
    }
  }

  const out = [];
  out.push(`### ${basename(opt.input)}`, '');
  out.push(`- command: \`node bench/analyze-bench.mjs ${process.argv.slice(2).join(' ')}\``);
  out.push(
    `- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; runs: ${RUNS} per tool (median wall, max RSS), timeout ${TIMEOUT} s per run`,
  );
  out.push(
    `- input: ${basename(file)}: ${mb(size)} MB plain text, ${goroutines} goroutines${file !== opt.input ? ` (gunzipped from ${mb(statSync(opt.input).size)} MB .gz)` : ''}`,
  );
  out.push(
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.mem}; node ${m.node}; ${m.go}; peak RSS by ${m.rss}; load average at the end ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} (other work shares the cores: compare tools within one run, not across runs)`,
  );
  out.push(`- peers: ${PEERS.map((p) => `${p.pkg}@${p.version}`).join(', ')}`, '');
  out.push('| tool | command | wall (median) | MB/s | peak RSS | RSS / input | exit |');
  out.push('| --- | --- | ---: | ---: | ---: | ---: | --- |');
  for (const [i, t] of list.entries()) {
    const r = res[i];
    const wall = median(r.walls);
    const rss = Math.max(...r.rsss) * 1024;
    const shown =
      t.argv.map((a) => (a === file ? 'FILE' : a.replace(ROOT + '/', ''))).join(' ') +
      (t.stdin ? ' < FILE' : '');
    const exit = r.timedOut
      ? `timeout > ${TIMEOUT} s`
      : [...r.codes].join(',') + (r.err ? ` (${r.err.slice(0, 80).replace(/\|/g, '\\|')})` : '');
    out.push(
      `| ${t.name} | \`${shown}\` | ${wall.toFixed(2)} s | ${(size / 1e6 / wall).toFixed(1)} | ${mb(rss)} MB | ${(rss / size).toFixed(2)}x | ${exit} |`,
    );
  }

  const wallOf = (name) => median(res[list.findIndex((t) => t.name === name)].walls);
  const g2j = wallOf('gostackparse gostack2json');
  out.push(
    '',
    `Ratios (median wall): leakwatch analyze --json / gostack2json = ${(wallOf('leakwatch analyze --json') / g2j).toFixed(2)} (target <= 0.3); ` +
      `leakwatch analyze / gostack2json = ${(wallOf('leakwatch analyze') / g2j).toFixed(2)}; ` +
      `leakwatch analyze --json / panicparse pp = ${(wallOf('leakwatch analyze --json') / wallOf('panicparse pp')).toFixed(3)}; ` +
      `floors / gostack2json: node -e 0 = ${(wallOf('floor: node -e 0') / g2j).toFixed(2)}, ` +
      `node reading FILE and finding its newlines = ${(wallOf('floor: node reads FILE, finds newlines') / g2j).toFixed(2)}.`,
  );
  out.push(
    '',
    'Exit 1 is not a failure for two of them: leakwatch exits 1 when it found leak suspects, ' +
      'gostack2json when some goroutine did not parse (it prints the errors after the JSON).',
    '',
    'panicparse v2.5.0 keeps the Go 1.21+ `created by F in goroutine N` whole as the creator, so ' +
      'goroutines started by different parents never share a bucket, and its bucketing loop is ' +
      'O(goroutines x buckets): its time depends on how many parents the dump has.',
  );

  // Issue #14's memory target is peak RSS above Node's own baseline at most 2x the file, for
  // dumps of 100 MB and more (--mem measures those); on a smaller input the baseline dominates,
  // so the figure here is shown both ways and judged only when the input is that large.
  const base = (await measure(['node', '-e', '0'])).rss * 1024;
  const lwRss = Math.max(...res[0].rsss) * 1024;
  const lwFailed = [...res[0].codes].some((c) => c !== 0 && c !== 1);
  out.push('');
  if (lwFailed)
    out.push('Memory check (leakwatch analyze): leakwatch failed, see the exit column.');
  else
    out.push(
      `Memory check (leakwatch analyze): peak ${mb(lwRss)} MB = ${(lwRss / size).toFixed(2)}x the ${mb(size)} MB input` +
        `; an empty \`node -e 0\` peaks at ${mb(base)} MB, so above that baseline: ${((lwRss - base) / size).toFixed(2)}x ` +
        (size >= 100e6
          ? `(target <= 2x above the baseline: ${lwRss - base <= 2 * size ? 'met' : 'NOT met'}).`
          : '(the 2x target is for dumps of 100 MB and more: see the memory table).'),
    );

  if (opt.startup) out.push('', await startupCheck(Math.max(3, Number(opt.startup))));
  if (opt.mem && !lwFailed)
    out.push('', await memCheck(file, opt.mem.split(',').map(Number), goroutines, base));

  const section = out.join('\n');
  console.log(section);
  if (opt.write) writeResults(basename(opt.input), section);
}

// Memory check: the dump concatenated until >= each asked size, one leakwatch run each. The
// target is peak RSS above an empty Node's at most 2x the file. Concatenation multiplies the
// goroutines too (ids repeat, so leakwatch warns of several dumps), so the RSS per goroutine is
// shown next to the text each goroutine takes. Then identical goroutines: the same record
// repeated (testdata/scripts/hostile.mjs records), at two counts, to show what each one costs.
async function memCheck(file, sizesMB, goroutines, base) {
  const big = join(WORK, 'mem-concat.txt');
  const cleanup = () => rmSync(big, { force: true });
  process.once('SIGINT', () => (cleanup(), process.exit(130)));
  const lines = [
    '| input | size | goroutines | wall | peak RSS | RSS above `node -e 0` | that / size | exit |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const row = (what, size, n, x) => {
    const rss = x.rss * 1024;
    lines.push(
      `| ${what} | ${mb(size)} MB | ${n} | ${x.wall.toFixed(1)} s | ${mb(rss)} MB | ${mb(rss - base)} MB | ${((rss - base) / size).toFixed(2)}x | ${x.code}${x.err && x.code !== 1 ? ` (${x.err.slice(0, 80)})` : ''} |`,
    );
  };
  try {
    const data = readFileSync(file);
    for (const target of sizesMB) {
      const fd = openSync(big, 'w');
      let copies = 0;
      for (; copies * data.length < target * 1e6; copies++) writeSync(fd, data);
      closeSync(fd);
      const size = statSync(big).size;
      await countGoroutines(big); // warms the page cache
      const x = await measure([...LW, 'analyze', big]);
      row(`${basename(file)} x ${copies}`, size, copies * goroutines, x);
    }
    for (const n of [1_000_000, 4_000_000]) {
      const gz = join(WORK, `identical-${n}.txt.gz`);
      if (!existsSync(gz))
        spawnSync('node', [join(ROOT, 'testdata/scripts/hostile.mjs'), 'records', String(n), gz]);
      await pipeline(createReadStream(gz), createGunzip(), createWriteStream(big));
      const size = statSync(big).size;
      await countGoroutines(big);
      const x = await measure([...LW, 'analyze', big]);
      row(`identical goroutines (hostile.mjs records ${n})`, size, n, x);
    }
  } finally {
    cleanup();
  }
  return ['Memory check (leakwatch analyze, one run each):', '', ...lines].join('\n');
}

// Startup: a command's fixed cost. Interleaved runs, median wall, against an empty Node.
async function startupCheck(runs) {
  const tiny = join(ROOT, 'testdata/dumps/panic.txt');
  const cmds = [
    ['node -e 0', ['node', '-e', '0']],
    ['leakwatch --version', [...LW, '--version']],
    ['leakwatch analyze (tiny dump)', [...LW, 'analyze', tiny]],
    ['leakwatch analyze --json (tiny dump)', [...LW, 'analyze', '--json', tiny]],
  ];
  const walls = cmds.map(() => []);
  for (let r = 0; r < runs; r++)
    for (const [i, [, argv]] of cmds.entries()) walls[i].push((await measure(argv)).wall);
  const base = median(walls[0]);
  const lines = [
    `Startup (${runs} interleaved runs each, median wall; tiny dump: testdata/dumps/panic.txt, ${statSync(tiny).size} bytes):`,
    '',
    '| command | median wall | vs `node -e 0` |',
    '| --- | ---: | ---: |',
  ];
  for (const [i, [name]] of cmds.entries())
    lines.push(
      `| ${name} | ${(median(walls[i]) * 1000).toFixed(0)} ms | ${(median(walls[i]) / base).toFixed(2)}x |`,
    );
  return lines.join('\n');
}

// bench/RESULTS.md: a fixed header, then one section per input file, replaced when re-run.
function writeResults(key, section) {
  const header = [
    '# leakwatch analyze: benchmark results',
    '',
    'Made by `node bench/analyze-bench.mjs --input FILE --write` (see the comments at the top of that script).',
    'Each section: the same plain-text goroutine dump given to every tool (a .gz is gunzipped first), output to',
    '/dev/null, N runs each in round-robin order; wall time is the median, measured around the process spawn;',
    'peak RSS is the maximum over the runs (GNU time %M). MB = 10^6 bytes. Peers are Go binaries installed by',
    'the script at the pinned versions into bench/work/bin. Each section names the machine it ran on.',
    '',
  ].join('\n');
  let text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : header;
  const begin = `<!-- bench:${key} -->`;
  const end = `<!-- /bench:${key} -->`;
  const block = `${begin}\n${section}\n${end}`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  text =
    i >= 0 && j > i
      ? text.slice(0, i) + block + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(RESULTS, text);
  console.error(`wrote ${RESULTS}`);
}

await main();
