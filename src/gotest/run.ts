/**
 * `leakwatch test`: run the user's `go test` with the check installed through an overlay, read
 * what each test binary left behind, and find which tests leak by running the leaking
 * packages' tests one at a time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { analyze, type Report, type Suspect } from '../analysis/suspects.js';
import { readSnapshot } from '../readers/index.js';
import { runGoTest, type PackageRun } from './gorun.js';
import { buildOverlay, type PackageSetup, type SettleOptions } from './overlay.js';
import { listPackages } from './packages.js';

export interface TestOptions {
  cwd: string;
  /** go test arguments as the user gave them, packages included. */
  goArgs: string[];
  settle: SettleOptions;
  /** Build with the goroutineleak profile (Go 1.26: GOEXPERIMENT), for certain verdicts. */
  leakProfile: boolean;
  /** Re-run each leaking package's tests one at a time to name the leaking tests. */
  attribute: boolean;
  ignoreTop: string[];
  ignoreCreatedBy: string[];
  /** Parallel processes for attribution. */
  jobs: number;
  /** go test's own output, as it comes. */
  onOutput: (text: string) => void;
  /** Progress notes (stderr). */
  onNote: (text: string) => void;
}

export interface TestLeaks {
  test: string;
  leaks: Suspect[];
  /** The test failed when run alone (reported, never confused with a leak). */
  failed: boolean;
}

export interface PackageReport {
  package: string;
  dir: string;
  result: PackageRun['result'];
  failedTests: string[];
  install: PackageSetup['install'];
  note?: string;
  /** A dump was written and read: the package's leaks below are known. */
  checked: boolean;
  /** The runtime's goroutineleak profile was available for the verdicts. */
  leakProfile: boolean;
  leaks: Suspect[];
  report?: Report;
  tests: TestLeaks[];
}

export interface TestReport {
  packages: PackageReport[];
  goExitCode: number;
  buildFailed: boolean;
  buildErrors: string[];
  durationMs: number;
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

/** Flags that change how the test binary is built; attribution builds with the same ones. */
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

export interface SplitArgs {
  flags: string[];
  packages: string[];
  buildFlags: string[];
  hasCount: boolean;
  verbose: boolean;
}

export function splitGoArgs(args: string[]): SplitArgs {
  const flags: string[] = [];
  const packages: string[] = [];
  const buildFlags: string[] = [];
  let hasCount = false;
  let verbose = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) {
      packages.push(a);
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
    if (name === '-count') hasCount = true;
    if (name === '-v' && !a.endsWith('=false')) verbose = true;
    const takesValue = VALUE_FLAGS.has(name) && !a.includes('=');
    const group = takesValue && i + 1 < args.length ? [a, args[++i]!] : [a];
    flags.push(...group);
    if (BUILD_FLAGS.has(name)) buildFlags.push(...group);
  }
  return {
    flags,
    packages: packages.length > 0 ? packages : ['./...'],
    buildFlags,
    hasCount,
    verbose,
  };
}

/** The minor version of the Go toolchain, e.g. 26 for go1.26.8. */
function goMinor(cwd: string, env: NodeJS.ProcessEnv): number {
  const r = spawnSync('go', ['env', 'GOVERSION'], { cwd, env, encoding: 'utf8' });
  if (r.error)
    throw new UserError(`cannot run go: ${r.error.message} (is Go installed and on PATH?)`);
  const m = /go1\.(\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : 0;
}

export async function runTests(o: TestOptions): Promise<TestReport> {
  const started = Date.now();
  const args = splitGoArgs(o.goArgs);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (o.leakProfile) {
    const minor = goMinor(o.cwd, env);
    // Go 1.26 has the leak profile behind an experiment; 1.27 has it always.
    if (minor === 26) {
      const exp = env.GOEXPERIMENT
        ? `${env.GOEXPERIMENT},goroutineleakprofile`
        : 'goroutineleakprofile';
      env.GOEXPERIMENT = exp;
    }
  }
  const tagsIdx = args.flags.findIndex((f) => f === '-tags' || f.startsWith('-tags='));
  const listFlags =
    tagsIdx >= 0
      ? args.flags.slice(tagsIdx, args.flags[tagsIdx]!.includes('=') ? tagsIdx + 1 : tagsIdx + 2)
      : [];
  const pkgs = listPackages([...listFlags, ...args.packages], o.cwd, env);

  const work = mkdtempSync(join(tmpdir(), 'leakwatch-test-'));
  try {
    const overlay = buildOverlay(pkgs, join(work, 'overlay'), o.settle);
    const out = join(work, 'out');
    mkdirSync(out);
    // Cached results mean no test binary runs and no dump: always run.
    const countFlag = args.hasCount ? [] : ['-count=1'];
    const run = await runGoTest(
      ['-overlay', overlay.file, ...countFlag, ...args.flags, ...args.packages],
      o.cwd,
      { ...env, LEAKWATCH_OUT: out },
      o.onOutput,
      args.verbose,
    );
    const buildFailed = [...run.packages.values()].some((p) => p.result === 'build-fail');

    const packages: PackageReport[] = [];
    for (const s of overlay.setups) {
      const r = run.packages.get(s.pkg.importPath) ?? {
        result: 'unknown',
        failedTests: [],
        tests: [],
      };
      const pr: PackageReport = {
        package: s.pkg.importPath,
        dir: s.pkg.dir,
        result: r.result,
        failedTests: r.failedTests,
        install: s.install,
        note: s.note,
        checked: false,
        leakProfile: false,
        leaks: [],
        tests: [],
      };
      const read = await readLeaks(out, s.key, o);
      if (read) Object.assign(pr, read);
      packages.push(pr);
    }

    if (o.attribute) {
      const leaking = packages.filter((p) => p.leaks.length > 0);
      await attribute(leaking, overlay.setups, run.packages, args.buildFlags, work, env, o);
    }
    return {
      packages,
      goExitCode: run.exitCode,
      buildFailed,
      buildErrors: run.buildErrors,
      durationMs: Date.now() - started,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Reads and analyzes the dump a test binary wrote; undefined when it wrote none. */
async function readLeaks(
  dir: string,
  key: string,
  o: TestOptions,
): Promise<Pick<PackageReport, 'checked' | 'leakProfile' | 'leaks' | 'report'> | undefined> {
  const leakFile = join(dir, `${key}.leak.txt`);
  const plain = join(dir, `${key}.txt`);
  // The leak profile at debug=2 lists every goroutine with the runtime's verdicts: prefer it.
  const file = existsSync(leakFile) ? leakFile : existsSync(plain) ? plain : undefined;
  if (!file) return undefined;
  const snapshot = await readSnapshot(file);
  const report = analyze(
    { ...snapshot, leakDetection: file === leakFile },
    { mode: 'test', minCount: 1, ignoreTop: o.ignoreTop, ignoreCreatedBy: o.ignoreCreatedBy },
  );
  return { checked: true, leakProfile: file === leakFile, leaks: report.suspects, report };
}

/** Escapes a test name for -test.run, part by part (subtests are split on '/'). */
function runPattern(name: string): string {
  return name
    .split('/')
    .map((p) => `^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
    .join('/');
}

async function attribute(
  leaking: PackageReport[],
  setups: PackageSetup[],
  runs: Map<string, PackageRun>,
  buildFlags: string[],
  work: string,
  env: NodeJS.ProcessEnv,
  o: TestOptions,
): Promise<void> {
  if (leaking.length === 0) return;
  const overlayFile = join(work, 'overlay', 'overlay.json');
  const jobs: (() => Promise<void>)[] = [];
  for (const pr of leaking) {
    const setup = setups.find((s) => s.pkg.importPath === pr.package)!;
    const bin = join(work, 'bin', `${setup.key}.test`);
    o.onNote(`${pr.package}: leaks found; running its tests one at a time to see which leak`);
    const b = spawnSync(
      'go',
      ['test', '-c', '-o', bin, '-overlay', overlayFile, ...buildFlags, pr.package],
      {
        cwd: o.cwd,
        env,
        encoding: 'utf8',
      },
    );
    if (b.status !== 0) {
      o.onNote(
        `${pr.package}: could not build the test binary for attribution: ${b.stderr.trim().split('\n')[0]}`,
      );
      continue;
    }
    const all = runs.get(pr.package)?.tests ?? [];
    const top = all.filter((t) => !t.includes('/'));
    for (const test of top) {
      jobs.push(async () => {
        const res = await runOne(bin, pr, setup.key, test, work, env, o);
        if (!res) return;
        // A leaking test with subtests: find the subtests that leak, one level down.
        const subs = all.filter(
          (t) => t.startsWith(`${test}/`) && !t.slice(test.length + 1).includes('/'),
        );
        if (res.leaks.length > 0 && subs.length > 0) {
          const subResults: TestLeaks[] = [];
          for (const sub of subs) {
            const r = await runOne(bin, pr, setup.key, sub, work, env, o);
            if (r && r.leaks.length > 0) subResults.push(r);
          }
          // Name the subtests when they explain the leak; else the test as a whole leaks.
          if (subResults.length > 0) {
            pr.tests.push(...subResults);
            return;
          }
        }
        if (res.leaks.length > 0) pr.tests.push(res);
      });
    }
  }
  await pool(jobs, o.jobs);
  for (const pr of leaking) pr.tests.sort((a, b) => a.test.localeCompare(b.test));
}

async function runOne(
  bin: string,
  pr: PackageReport,
  key: string,
  test: string,
  work: string,
  env: NodeJS.ProcessEnv,
  o: TestOptions,
): Promise<TestLeaks | undefined> {
  const out = mkdtempSync(join(work, 'one-'));
  const code = await new Promise<number>((resolve) => {
    // The race detector sleeps a second at exit by default; with dozens of runs that adds up.
    const race = env.GORACE ? {} : { GORACE: 'atexit_sleep_ms=0' };
    const p = spawn(bin, [`-test.run=${runPattern(test)}`, '-test.count=1'], {
      cwd: pr.dir,
      env: { ...env, ...race, LEAKWATCH_OUT: out },
      stdio: 'ignore',
    });
    p.on('error', () => resolve(-1));
    p.on('close', (c) => resolve(c ?? -1));
  });
  const read = await readLeaks(out, key, o);
  rmSync(out, { recursive: true, force: true });
  if (!read) return undefined;
  return { test, leaks: read.leaks, failed: code !== 0 };
}

async function pool(jobs: (() => Promise<void>)[], n: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, jobs.length)) }, worker));
}

export const DEFAULT_JOBS = Math.max(1, cpus().length);
