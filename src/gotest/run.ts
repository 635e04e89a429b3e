/**
 * `leakwatch test`: run the user's `go test` with the per-test check installed through an
 * overlay, read what each test binary left behind (a check after every top-level test, and the
 * goroutine dump of a binary that timed out or hung), re-run alone only the tests one check
 * could not tell apart (a t.Parallel group, or a package checked once), and with --repeat run
 * the tests again and again to catch leaks that only happen sometimes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Report, Suspect } from '../analysis/suspects.js';
import {
  readRun,
  siteKey,
  testOfSuspect,
  withCount,
  type AnalyzeFilters,
  type Deadlock,
  type RunResult,
} from './checks.js';
import { CRASH_MAX, CRASH_START, runGoTest, type PackageRun } from './gorun.js';
import { buildOverlay, type PackageSetup, type SettleOptions } from './overlay.js';
import { listPackages } from './packages.js';
import { Procs } from './procs.js';

interface TestOptions extends AnalyzeFilters {
  cwd: string;
  /** go test arguments as the user gave them, packages included. */
  goArgs: string[];
  settle: SettleOptions;
  /** Build with the goroutineleak profile (Go 1.26: GOEXPERIMENT), for certain verdicts. */
  leakProfile: boolean;
  /** Re-run tests alone where one check covered several (t.Parallel groups, -cover runs). */
  attribute: boolean;
  /** Parallel processes for re-runs and repeats. */
  jobs: number;
  /** --hang-after: SIGQUIT a binary where no test finished for this long and all is blocked. */
  hangAfter?: string;
  /** --repeat N: runs per package. */
  repeat?: number;
  /** --repeat-for: wall-time budget for the repeats, in ms. */
  repeatForMs?: number;
  /** go test's own output, as it comes. */
  onOutput: (text: string) => void;
  /** Progress notes (stderr). */
  onNote: (text: string) => void;
}

interface RepeatFirst {
  /** 1-based number of the run, in the order runs started. */
  run: number;
  seed: string;
  /** The tests of that run, in the order they ran. */
  order: string[];
  /** A go test command that runs the same tests in the same order. */
  replay: string;
}

interface RepeatStats {
  test: string;
  runs: number;
  leaked: number;
  deadlocked: number;
  first?: RepeatFirst;
}

export interface TestLeaks {
  test: string;
  leaks: Suspect[];
  /** The test failed (in go test's run, or in the re-run that named it). */
  failed: boolean;
  /** -count iterations (1-based) in which it leaked. */
  iterations: number[];
  /** The test deadlocked or hung: what the binary's goroutine dump showed stuck. */
  deadlock?: Deadlock;
  /** How it was named: its own check, a re-run alone, or --repeat. */
  via: 'check' | 'rerun' | 'repeat';
  /** --repeat: how often it leaked. */
  repeat?: RepeatStats;
}

interface Unattributed {
  id: string;
  count: number;
  reason: string;
}

export interface PackageReport {
  package: string;
  dir: string;
  result: PackageRun['result'];
  failedTests: string[];
  install: PackageSetup['install'];
  note?: string;
  /** Dumps were written and read: the package's leaks below are known. */
  checked: boolean;
  /** Checked after every top-level test (else once, at the end). */
  perTest: boolean;
  /** The runtime's goroutineleak profile was available for the verdicts. */
  leakProfile: boolean;
  /** What was left when the binary ended (or, if it died, what its tests' checks found). */
  leaks: Suspect[];
  report?: Report;
  tests: TestLeaks[];
  /** Leaked goroutines no test could be named for, and why. */
  unattributed: Unattributed[];
  /** --repeat: runs of this package and per-test counts. */
  repeat?: { runs: number; tests: RepeatStats[] };
}

export interface TestReport {
  packages: PackageReport[];
  goExitCode: number;
  buildFailed: boolean;
  buildErrors: string[];
  durationMs: number;
}

/** Did this package leak or deadlock (in the run, its re-runs, or its repeats)? */
export function packageLeaked(p: PackageReport): boolean {
  return p.leaks.length > 0 || p.tests.some((t) => t.leaks.length > 0 || t.deadlock);
}

/** go test flags that take a value as the next argument (so that value is not a package). */
const VALUE_FLAGS = new Set(
  (
    'run skip count timeout bench benchtime cpu parallel tags coverprofile o exec p covermode ' +
    'coverpkg shuffle fuzz fuzztime fuzzminimizetime list memprofile memprofilerate blockprofile ' +
    'blockprofilerate cpuprofile mutexprofile mutexprofilefraction outputdir trace vet ldflags ' +
    'gcflags asmflags mod modfile pkgdir toolexec C compiler gccgoflags installsuffix buildmode ' +
    'overlay pgo'
  )
    .split(' ')
    .map((f) => `-${f}`),
);

/** Flags that change how the test binary is built; re-runs build with the same ones. */
const BUILD_FLAGS = new Set([
  '-tags',
  '-race',
  '-msan',
  '-asan',
  '-gcflags',
  '-ldflags',
  '-mod',
  '-modfile',
  '-trimpath',
  '-cover',
  '-covermode',
  '-coverpkg',
  '-pgo',
]);

/** go test flags that re-runs pass to the test binary (as -test.<name>). */
const BINARY_FLAGS = new Set(['-run', '-skip', '-short', '-parallel', '-cpu']);

interface SplitArgs {
  flags: string[];
  packages: string[];
  buildFlags: string[];
  /** Test-binary flags for re-runs and repeats (-test.run=..., ...). */
  binaryFlags: string[];
  hasCount: boolean;
  verbose: boolean;
  /** -run as given, for replay commands. */
  run?: string;
  /** -timeout as given (a Go duration), if any. */
  timeout?: string;
}

export function splitGoArgs(args: string[]): SplitArgs {
  const out: SplitArgs = {
    flags: [],
    packages: [],
    buildFlags: [],
    binaryFlags: [],
    hasCount: false,
    verbose: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) {
      out.packages.push(a);
      continue;
    }
    const name = a.replace(/^--?/, '-').split('=')[0]!;
    if (name === '-json')
      throw new UserError(
        "leakwatch test runs go test -json itself; use --json for leakwatch's own JSON report",
      );
    if (name === '-overlay')
      throw new UserError(
        'leakwatch test uses -overlay itself; combining overlays is not supported',
      );
    if (name === '-c' || name === '-i')
      throw new UserError(`${a}: leakwatch test needs the tests to run`);
    if (name === '-count') out.hasCount = true;
    if (name === '-v' && !a.endsWith('=false')) out.verbose = true;
    const takesValue = VALUE_FLAGS.has(name) && !a.includes('=');
    const group = takesValue && i + 1 < args.length ? [a, args[++i]!] : [a];
    out.flags.push(...group);
    if (BUILD_FLAGS.has(name)) out.buildFlags.push(...group);
    const value =
      group.length === 2 ? group[1]! : a.includes('=') ? a.slice(a.indexOf('=') + 1) : undefined;
    if (BINARY_FLAGS.has(name))
      out.binaryFlags.push(
        value === undefined ? `-test.${name.slice(1)}` : `-test.${name.slice(1)}=${value}`,
      );
    if (name === '-run') out.run = value;
    if (name === '-timeout' && value !== undefined) {
      if (goDurationMs(value) === undefined)
        throw new UserError(`-timeout ${value}: expected a Go duration such as 30s or 5m`);
      out.timeout = value;
    }
  }
  if (out.packages.length === 0) out.packages.push('./...');
  return out;
}

/** Milliseconds of a Go duration ("1m30s", "250ms", "0"); undefined when it is not one. */
export function goDurationMs(s: string): number | undefined {
  if (s === '0') return 0;
  const units: Record<string, number> = {
    h: 3.6e6,
    m: 6e4,
    s: 1e3,
    ms: 1,
    us: 1e-3,
    µs: 1e-3,
    ns: 1e-6,
  };
  const re = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)/y;
  let ms = 0;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return undefined;
    ms += Number(m[1]) * units[m[2]!]!;
    i = re.lastIndex;
  }
  return i > 0 ? ms : undefined;
}

/** The minor version of the Go toolchain, e.g. 26 for go1.26.8. */
function goMinor(cwd: string, env: NodeJS.ProcessEnv): number {
  const r = spawnSync('go', ['env', 'GOVERSION'], { cwd, env, encoding: 'utf8' });
  if (r.error)
    throw new UserError(`cannot run go: ${r.error.message} (is Go installed and on PATH?)`);
  const m = /go1\.(\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : 0;
}

/** go test's default -timeout, which bounds re-runs and repeats when the user gave none. */
const DEFAULT_TIMEOUT = '10m';
/** Extra time a re-run gets over its -timeout before leakwatch stops it itself. */
const KILL_SLACK_MS = 30_000;

interface Ctx {
  o: TestOptions;
  args: SplitArgs;
  env: NodeJS.ProcessEnv;
  work: string;
  procs: Procs;
  overlayFile: string;
  timeout: string;
  /** Test binaries built for re-runs, by import path (undefined: the build failed). */
  bins: Map<string, Promise<string | undefined>>;
  /** Per package: the t.Parallel groups whose check found leaks (for the reasons). */
  groupLeaks: Map<string, { tests: string[]; ids: Set<string> }[]>;
}

export async function runTests(o: TestOptions): Promise<TestReport> {
  const started = Date.now();
  const args = splitGoArgs(o.goArgs);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (o.leakProfile) {
    const minor = goMinor(o.cwd, env);
    // Go 1.26 has the leak profile behind an experiment; 1.27 has it always.
    if (minor === 26) {
      env.GOEXPERIMENT = env.GOEXPERIMENT
        ? `${env.GOEXPERIMENT},goroutineleakprofile`
        : 'goroutineleakprofile';
    }
  }
  if (o.hangAfter) env.LEAKWATCH_HANG_AFTER = o.hangAfter;
  const tagsIdx = args.flags.findIndex((f) => f === '-tags' || f.startsWith('-tags='));
  const listFlags =
    tagsIdx >= 0
      ? args.flags.slice(tagsIdx, args.flags[tagsIdx]!.includes('=') ? tagsIdx + 1 : tagsIdx + 2)
      : [];
  const pkgs = listPackages([...listFlags, ...args.packages], o.cwd, env);

  const work = mkdtempSync(join(tmpdir(), 'leakwatch-test-'));
  const procs = new Procs();
  const untrap = procs.trap(() => {
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
  try {
    const overlay = buildOverlay(pkgs, join(work, 'overlay'), o.settle);
    const out = join(work, 'out');
    mkdirSync(out);
    // Cached results mean no test binary runs and no dump: always run.
    const countFlag = args.hasCount ? [] : ['-count=1'];
    const run = await runGoTest(
      procs,
      ['-overlay', overlay.file, ...countFlag, ...args.flags, ...args.packages],
      o.cwd,
      { ...env, LEAKWATCH_OUT: out, LEAKWATCH_PER_TEST: '1' },
      o.onOutput,
      args.verbose,
    );
    procs.check();
    const buildFailed = [...run.packages.values()].some((p) => p.result === 'build-fail');
    const ctx: Ctx = {
      o,
      args,
      env,
      work,
      procs,
      overlayFile: overlay.file,
      timeout: args.timeout ?? DEFAULT_TIMEOUT,
      bins: new Map(),
      groupLeaks: new Map(),
    };

    const packages: PackageReport[] = [];
    const runs = new Map<string, RunResult>();
    for (const s of overlay.setups) {
      const r = run.packages.get(s.pkg.importPath) ?? {
        result: 'unknown',
        failedTests: [],
        tests: [],
        running: [],
      };
      const pr: PackageReport = {
        package: s.pkg.importPath,
        dir: s.pkg.dir,
        result: r.result,
        failedTests: r.failedTests,
        install: s.install,
        note: s.note,
        checked: false,
        perTest: false,
        leakProfile: false,
        leaks: [],
        tests: [],
        unattributed: [],
      };
      const rr = await readRun(out, s.key, s.pkg.importPath, o, r.crash, r.running);
      runs.set(pr.package, rr);
      fromRun(ctx, pr, rr);
      packages.push(pr);
    }
    procs.check();
    await attribute(ctx, packages, runs, run.packages, overlay.setups);
    procs.check();
    if (o.repeat || o.repeatForMs) await repeat(ctx, packages, overlay.setups);
    procs.check();
    for (const pr of packages) {
      pr.unattributed = unattributed(ctx, pr, runs.get(pr.package)!);
      pr.tests.sort((a, b) => a.test.localeCompare(b.test));
    }
    return {
      packages,
      goExitCode: run.exitCode,
      buildFailed,
      buildErrors: run.buildErrors,
      durationMs: Date.now() - started,
    };
  } finally {
    untrap();
    procs.stopAll();
    rmSync(work, { recursive: true, force: true });
  }
}

function entry(pr: PackageReport, test: string, via: TestLeaks['via']): TestLeaks {
  let t = pr.tests.find((x) => x.test === test);
  if (!t) {
    t = { test, leaks: [], failed: pr.failedTests.includes(test), iterations: [], via };
    pr.tests.push(t);
  }
  return t;
}

/** Adds leaks to a test, one entry per group, counts summed. */
function addLeaks(t: TestLeaks, leaks: Suspect[]): void {
  for (const l of leaks) {
    const i = t.leaks.findIndex((x) => x.group.id === l.group.id);
    if (i < 0) t.leaks.push(l);
    else t.leaks[i] = withCount(l, t.leaks[i]!.group.count + l.group.count);
  }
}

/** The package's report from its go test run: per-test checks, and a deadlock if it died. */
function fromRun(ctx: Ctx, pr: PackageReport, rr: RunResult): void {
  pr.perTest = rr.perTest;
  pr.checked = rr.final !== undefined || rr.checks.length > 0;
  pr.leakProfile = rr.leakProfile;
  const groups: { tests: string[]; ids: Set<string> }[] = [];
  for (const c of rr.checks) {
    if (c.leaks.length === 0) continue;
    if (c.tests.length === 1) {
      const t = entry(pr, c.tests[0]!, 'check');
      addLeaks(t, c.leaks);
      if (!t.iterations.includes(c.iteration)) t.iterations.push(c.iteration);
    } else {
      groups.push({ tests: c.tests, ids: new Set(c.leaks.map((l) => l.group.id)) });
    }
  }
  ctx.groupLeaks.set(pr.package, groups);
  if (rr.final) {
    pr.leaks = rr.final.suspects;
    pr.report = rr.final;
  } else {
    // The binary died: what its checks found is what is known.
    const all: TestLeaks = { test: '', leaks: [], failed: false, iterations: [], via: 'check' };
    for (const c of rr.checks) addLeaks(all, c.leaks);
    pr.leaks = all.leaks;
  }
  if (rr.deadlock) chargeDeadlock(pr, rr.deadlock.deadlock, rr.deadlock.running, 'check');
}

/** Charges each stuck goroutine to the running test it belongs to. */
function chargeDeadlock(
  pr: PackageReport,
  d: Deadlock,
  running: string[],
  via: TestLeaks['via'],
): string[] {
  const byTest = new Map<string, Suspect[]>();
  const topOf = (n: string): string => n.split('/')[0]!;
  // The deepest running test under a top-level name (a subtest when one was running).
  const deepest = (top: string): string | undefined =>
    running
      .filter((r) => topOf(r) === top)
      .sort((a, b) => b.split('/').length - a.split('/').length)[0];
  const fallback = running.find((r) => !r.includes('/')) ?? running[0] ?? '(unknown test)';
  for (const s of d.suspects) {
    const top = testOfSuspect(s, pr.package);
    const name = top ? (deepest(top) ?? top) : (deepest(topOf(fallback)) ?? fallback);
    byTest.set(name, [...(byTest.get(name) ?? []), s]);
  }
  if (byTest.size === 0) byTest.set(deepest(topOf(fallback)) ?? fallback, []);
  for (const [name, suspects] of byTest) {
    const t = entry(pr, name, via);
    t.deadlock = { ...d, suspects };
    t.failed = true;
  }
  return [...byTest.keys()];
}

/** Builds the package's test binary once (with the overlay and the user's build flags). */
function binary(ctx: Ctx, pr: PackageReport, key: string): Promise<string | undefined> {
  let b = ctx.bins.get(pr.package);
  if (!b) {
    const bin = join(ctx.work, 'bin', `${key}.test`);
    b = exec(
      ctx,
      'go',
      ['test', '-c', '-o', bin, '-overlay', ctx.overlayFile, ...ctx.args.buildFlags, pr.package],
      ctx.o.cwd,
      ctx.env,
    ).then((r) => {
      if (r.code === 0) return bin;
      ctx.o.onNote(
        `${pr.package}: could not build the test binary for re-runs: ${r.output.trim().split('\n')[0]}`,
      );
      return undefined;
    });
    ctx.bins.set(pr.package, b);
  }
  return b;
}

interface ExecResult {
  code: number;
  output: string;
  /** Output from a timeout panic / SIGQUIT / deadlock error on. */
  crash?: string;
}

/** Most output kept from a re-run (only the crash dump is read from it). */
const OUTPUT_MAX = 1 << 20;

/** Runs a process through ctx.procs, output captured (bounded), stopped at `deadlineMs`. */
function exec(
  ctx: Ctx,
  cmd: string,
  argv: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  deadlineMs?: number,
): Promise<ExecResult> {
  return new Promise((resolve) => {
    let p;
    try {
      p = ctx.procs.spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }, deadlineMs);
    } catch {
      resolve({ code: -1, output: 'interrupted' });
      return;
    }
    let output = '';
    let crash: string | undefined;
    let carry = '';
    const onData = (d: Buffer): void => {
      const text = d.toString('latin1');
      if (output.length < OUTPUT_MAX) output += text;
      if (crash !== undefined) {
        if (crash.length < CRASH_MAX) crash += text;
        return;
      }
      // Find the start of a dump on a line boundary.
      const lines = (carry + text).split('\n');
      carry = lines.pop() ?? '';
      let at = -1;
      let pos = 0;
      for (const l of lines) {
        if (CRASH_START.test(l)) {
          at = pos;
          break;
        }
        pos += l.length + 1;
      }
      if (at >= 0) {
        crash = (lines.join('\n') + '\n' + carry).slice(at);
        carry = '';
      }
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', onData);
    p.on('error', (err) => resolve({ code: -1, output: err.message }));
    p.on('close', (code) => resolve({ code: code ?? -1, output, crash }));
  });
}

/** Runs a test binary once with a fresh LEAKWATCH_OUT and reads what it left. */
async function runBinary(
  ctx: Ctx,
  bin: string,
  pr: PackageReport,
  key: string,
  flags: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; rr: RunResult }> {
  const out = mkdtempSync(join(ctx.work, 'run-'));
  try {
    // The race detector sleeps a second at exit by default; with many runs that adds up.
    const race = ctx.env.GORACE ? {} : { GORACE: 'atexit_sleep_ms=0' };
    const r = await exec(
      ctx,
      bin,
      [`-test.timeout=${ctx.timeout}`, ...flags],
      pr.dir,
      { ...ctx.env, ...race, ...env, LEAKWATCH_OUT: out },
      (goDurationMs(ctx.timeout) || 0) + KILL_SLACK_MS,
    );
    const rr = await readRun(out, key, pr.package, ctx.o, r.crash, []);
    return { code: r.code, rr };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Escapes a test name for -test.run, part by part (subtests are split on '/'). */
function runPattern(name: string): string {
  return name
    .split('/')
    .map((p) => `^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
    .join('/');
}

/**
 * Re-runs alone the tests one check could not tell apart: the members of a t.Parallel group
 * whose check found leaks, or every test of a package that was checked only once.
 */
async function attribute(
  ctx: Ctx,
  packages: PackageReport[],
  runs: Map<string, RunResult>,
  goRuns: Map<string, PackageRun>,
  setups: PackageSetup[],
): Promise<void> {
  if (!ctx.o.attribute) return;
  const jobs: (() => Promise<void>)[] = [];
  for (const pr of packages) {
    if (pr.leaks.length === 0) continue;
    const rr = runs.get(pr.package)!;
    const all = goRuns.get(pr.package)?.tests ?? [];
    let todo: { test: string; iterations: number[] }[];
    if (rr.perTest) {
      const seen = new Map<string, number[]>();
      for (const c of rr.checks) {
        if (c.tests.length < 2 || c.leaks.length === 0) continue;
        for (const t of c.tests) seen.set(t, [...(seen.get(t) ?? []), c.iteration]);
      }
      todo = [...seen].map(([test, iterations]) => ({ test, iterations }));
    } else {
      todo = all.filter((t) => !t.includes('/')).map((test) => ({ test, iterations: [] }));
    }
    if (todo.length === 0) continue;
    const key = setups.find((s) => s.pkg.importPath === pr.package)!.key;
    ctx.o.onNote(
      `${pr.package}: ${rr.perTest ? 't.Parallel tests leaked together' : 'leaks found'}; running ${todo.length} test${todo.length === 1 ? '' : 's'} alone to see which leak`,
    );
    const one = async (
      test: string,
    ): Promise<{ leaks: Suspect[]; failed: boolean } | undefined> => {
      const bin = await binary(ctx, pr, key);
      if (!bin) return undefined;
      const { code, rr: r } = await runBinary(
        ctx,
        bin,
        pr,
        key,
        [`-test.run=${runPattern(test)}`, '-test.count=1'],
        {},
      );
      if (r.deadlock) chargeDeadlock(pr, r.deadlock.deadlock, r.deadlock.running, 'rerun');
      if (!r.final) return undefined;
      const leaks = r.final.suspects
        .map((s) => withCount(s, s.group.count - (r.start.get(s.group.id) ?? 0)))
        .filter((s) => s.group.count > 0);
      return { leaks, failed: code !== 0 };
    };
    for (const { test, iterations } of todo) {
      jobs.push(async () => {
        const res = await one(test);
        if (!res || res.leaks.length === 0) return;
        // A leaking test with subtests: find the subtests that leak, one level down.
        const subs = all.filter(
          (t) => t.startsWith(`${test}/`) && !t.slice(test.length + 1).includes('/'),
        );
        const named: { test: string; leaks: Suspect[]; failed: boolean }[] = [];
        for (const sub of subs) {
          const r = await one(sub);
          if (r && r.leaks.length > 0) named.push({ test: sub, ...r });
        }
        // Name the subtests when they explain the leak; else the test as a whole leaks.
        if (named.length === 0) named.push({ test, ...res });
        for (const n of named) {
          const t = entry(pr, n.test, 'rerun');
          addLeaks(t, n.leaks);
          t.failed ||= n.failed;
          t.iterations = iterations;
        }
      });
    }
  }
  await pool(jobs, ctx.o.jobs);
}

/**
 * --repeat / --repeat-for: runs each package's selected tests again and again (one process per
 * run, -count=1, a fresh shuffle seed each time, tests one at a time so each is checked on its
 * own), up to `jobs` processes at once, and counts per test how many runs leaked.
 */
async function repeat(ctx: Ctx, packages: PackageReport[], setups: PackageSetup[]): Promise<void> {
  const o = ctx.o;
  const todo = packages.filter((p) => p.result !== 'build-fail' && p.install !== 'skipped');
  if (todo.length === 0) return;
  const deadline = o.repeatForMs ? Date.now() + o.repeatForMs : Infinity;
  const perPackage = o.repeat ?? Infinity;
  o.onNote(
    `repeating the tests of ${todo.length} package${todo.length === 1 ? '' : 's'} (${o.repeat ? `${o.repeat} runs each` : ''}${o.repeat && o.repeatForMs ? ', ' : ''}${o.repeatForMs ? `for ${o.repeatForMs / 1000}s` : ''}, ${o.jobs} at a time)`,
  );
  const started = new Map<string, number>(todo.map((p) => [p.package, 0]));
  const stats = new Map<string, Map<string, RepeatStats>>(todo.map((p) => [p.package, new Map()]));
  const keyOf = (p: PackageReport): string =>
    setups.find((s) => s.pkg.importPath === p.package)!.key;
  let next = 0;
  const pick = (): PackageReport | undefined => {
    if (Date.now() >= deadline || ctx.procs.interrupted) return undefined;
    for (let i = 0; i < todo.length; i++) {
      const p = todo[(next + i) % todo.length]!;
      if (started.get(p.package)! < perPackage) {
        next = (next + i + 1) % todo.length;
        return p;
      }
    }
    return undefined;
  };
  const worker = async (): Promise<void> => {
    for (let pr = pick(); pr; pr = pick()) {
      const runNo = started.get(pr.package)! + 1;
      started.set(pr.package, runNo);
      const key = keyOf(pr);
      const bin = await binary(ctx, pr, key);
      if (!bin) {
        started.set(pr.package, perPackage); // no binary: stop this package
        continue;
      }
      const seed = String(Math.floor(Math.random() * 2 ** 48));
      const { rr } = await runBinary(
        ctx,
        bin,
        pr,
        key,
        ['-test.count=1', `-test.shuffle=${seed}`, ...ctx.args.binaryFlags],
        { LEAKWATCH_PER_TEST: '1', LEAKWATCH_SERIAL: '1' },
      );
      if (ctx.procs.interrupted) return;
      const order = rr.checks.flatMap((c) => c.tests);
      const deadlocked = rr.deadlock
        ? chargeDeadlock(pr, rr.deadlock.deadlock, rr.deadlock.running, 'repeat')
        : [];
      for (const d of deadlocked) if (!order.includes(d)) order.push(d);
      const st = stats.get(pr.package)!;
      const stat = (test: string): RepeatStats => {
        let s = st.get(test);
        if (!s) st.set(test, (s = { test, runs: 0, leaked: 0, deadlocked: 0 }));
        return s;
      };
      const first = (): RepeatFirst => ({
        run: runNo,
        seed,
        order,
        replay: `go test${ctx.args.run !== undefined ? ` -run '${ctx.args.run}'` : ''} -shuffle=${seed} -count=1 ${pr.package}`,
      });
      for (const test of new Set(order)) stat(test).runs++;
      for (const c of rr.checks) {
        if (c.leaks.length === 0) continue;
        for (const test of c.tests) {
          const s = stat(test);
          s.leaked++;
          s.first ??= first();
          const t = entry(pr, test, 'repeat');
          if (t.via === 'repeat' && t.leaks.length === 0) addLeaks(t, c.leaks);
        }
      }
      for (const test of deadlocked) {
        const s = stat(test);
        s.deadlocked++;
        s.first ??= first();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, worker));
  for (const pr of todo) {
    const tests = [...stats.get(pr.package)!.values()].sort((a, b) => a.test.localeCompare(b.test));
    pr.repeat = { runs: started.get(pr.package)!, tests };
    for (const s of tests) {
      const t = pr.tests.find((x) => x.test === s.test);
      if (t) t.repeat = s;
    }
  }
}

/** What the package leaked that no test was named for, and why. */
function unattributed(ctx: Ctx, pr: PackageReport, rr: RunResult): Unattributed[] {
  const out: Unattributed[] = [];
  for (const s of pr.leaks) {
    const id = s.group.id;
    let rest = s.group.count;
    for (const t of pr.tests) {
      if (t.via === 'repeat') continue;
      for (const l of t.leaks) if (l.group.id === id) rest -= l.group.count;
    }
    if (rest <= 0) continue;
    // A goroutine seen at start on another line (it had not blocked yet) has the same creator.
    const fromStart = s.group.creators.some((c) => rr.startCreators.has(siteKey(c.site)));
    const atStart = fromStart ? rest : Math.min(rest, rr.start.get(id) ?? 0);
    if (atStart > 0) {
      out.push({
        id,
        count: atStart,
        reason: 'already running before the first test (package init or TestMain setup)',
      });
      rest -= atStart;
      if (rest <= 0) continue;
    }
    const group = ctx.groupLeaks.get(pr.package)?.find((g) => g.ids.has(id));
    let reason: string;
    if (group && !ctx.o.attribute)
      reason = `left while the t.Parallel tests ${group.tests.join(', ')} ran together; not re-run alone (--no-attribute)`;
    else if (group)
      reason = `left while the t.Parallel tests ${group.tests.join(', ')} ran together; none leaked it when re-run alone (it needs them together, or depends on timing: try --repeat)`;
    else if (rr.perTest)
      reason =
        "no per-test check saw it: it started after its test's check ended, or in TestMain after the tests";
    else if (!ctx.o.attribute)
      reason =
        'checked once for the whole binary (coverage or profile flags) and not re-run test by test (--no-attribute)';
    else
      reason =
        'checked once for the whole binary (coverage or profile flags), and no test leaked it when re-run alone (it depends on the other tests, or on timing: try --repeat)';
    out.push({ id, count: rest, reason });
  }
  return out;
}

async function pool(jobs: (() => Promise<void>)[], n: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, jobs.length)) }, worker));
}

export const DEFAULT_JOBS = Math.max(1, cpus().length);
