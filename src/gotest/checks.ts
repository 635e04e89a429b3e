/**
 * Reading what one test binary run left in its LEAKWATCH_OUT directory: the dump at start, one
 * line per check in `<key>.checks` (check number, -count iteration, exit code, dumped?, the
 * tests of that m.Run call), the dump of each check that found goroutines left over, and the
 * final dump. Each check's leaks are the groups that grew since the previous dump, so a leak is
 * charged to the test that left it even when earlier leaks are still alive. A binary that died
 * (timeout panic, SIGQUIT, the runtime's deadlock error) has its goroutine dump read from its
 * output: the goroutines of the package under test that were not left by earlier tests are the
 * deadlock, charged to the tests that were running.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, type Report, type Suspect } from '../analysis/suspects.js';
import type { Frame } from '../model/frame.js';
import { readSnapshot } from '../readers/index.js';

export interface AnalyzeFilters {
  ignoreTop: string[];
  ignoreCreatedBy: string[];
}

export interface Deadlock {
  /** timeout: go test's -timeout panic; hang: --hang-after's SIGQUIT; asleep: the runtime's own. */
  cause: 'timeout' | 'hang' | 'asleep';
  /** The first line the binary printed about it, e.g. "panic: test timed out after 2s". */
  message: string;
  /** The stuck goroutines of the package under test, in the analyze suspect shape. */
  suspects: Suspect[];
}

/** One m.Run call of the per-test driver and what it left. */
interface Check {
  n: number;
  iteration: number;
  code: number;
  /** The tests of the call: one, or a t.Parallel group. */
  tests: string[];
  /** Groups that grew during the call, with the growth as their count. */
  leaks: Suspect[];
}

export interface RunResult {
  /** The per-test driver ran (a checks file exists). */
  perTest: boolean;
  checks: Check[];
  /** Group ids (and counts) alive before the first test. */
  start: Map<string, number>;
  /** Creation sites (`func file:line`) of the goroutines alive before the first test. */
  startCreators: Set<string>;
  /** The final dump, when the binary reached its end. */
  final?: Report;
  /** The runtime's goroutineleak profile was available for the final verdicts. */
  leakProfile: boolean;
  /** Group counts after the last dump read (start, checks, final). */
  last: Map<string, number>;
  deadlock?: { deadlock: Deadlock; running: string[] };
}

export function siteKey(f: Frame): string {
  return `${f.func} ${f.file}:${f.line}`;
}

/** A suspect with its count replaced: the goroutines one test left of a group. */
export function withCount(s: Suspect, count: number): Suspect {
  return count === s.group.count ? s : { ...s, group: { ...s.group, count } };
}

async function readReport(file: string, f: AnalyzeFilters, leakProfile: boolean): Promise<Report> {
  const snapshot = await readSnapshot(file);
  return analyze(
    { ...snapshot, leakDetection: leakProfile },
    { mode: 'test', minCount: 1, ignoreTop: f.ignoreTop, ignoreCreatedBy: f.ignoreCreatedBy },
  );
}

function counts(r: Report): Map<string, number> {
  return new Map(r.groups.map((g) => [g.id, g.count]));
}

/** Suspects of `r` that grew over `before`, with the growth as their count. */
function grown(r: Report, before: Map<string, number>): Suspect[] {
  const out: Suspect[] = [];
  for (const s of r.suspects) {
    const d = s.group.count - (before.get(s.group.id) ?? 0);
    if (d > 0) out.push(withCount(s, d));
  }
  return out;
}

/**
 * Reads a run's directory. `crash` is what the binary printed from its dump on (gorun's
 * CRASH_START), `running` the tests it was running as test2json saw them, `pkg` the import path.
 */
export async function readRun(
  dir: string,
  key: string,
  pkg: string,
  f: AnalyzeFilters,
  crash: string | undefined,
  running: string[],
): Promise<RunResult> {
  // The driver's own goroutine (the --hang-after watchdog) is not the tests'.
  f = {
    ignoreTop: f.ignoreTop,
    ignoreCreatedBy: [...f.ignoreCreatedBy, `${pkg}.leakwatchRun`, `${pkg}_test.leakwatchRun`],
  };
  const res: RunResult = {
    perTest: false,
    checks: [],
    start: new Map(),
    startCreators: new Set(),
    leakProfile: false,
    last: new Map(),
  };
  const startFile = join(dir, `${key}.start.txt`);
  if (existsSync(startFile)) {
    const r = await readReport(startFile, f, false);
    res.start = counts(r);
    for (const g of r.groups) for (const c of g.creators) res.startCreators.add(siteKey(c.site));
  }
  let prev = res.start;
  const index = join(dir, `${key}.checks`);
  if (existsSync(index)) {
    res.perTest = true;
    for (const line of readFileSync(index, 'utf8').split('\n')) {
      const [n, iter, code, dumped, names] = line.split('\t');
      if (names === undefined) continue;
      const c: Check = {
        n: Number(n),
        iteration: Number(iter),
        code: Number(code),
        tests: names.split(' ').filter(Boolean),
        leaks: [],
      };
      if (dumped === 'true') {
        const leakFile = join(dir, `${key}.c${n}.leak.txt`);
        const plain = join(dir, `${key}.c${n}.txt`);
        const file = existsSync(leakFile) ? leakFile : existsSync(plain) ? plain : undefined;
        if (file) {
          const r = await readReport(file, f, file === leakFile);
          c.leaks = grown(r, prev);
          prev = counts(r);
        }
      }
      res.checks.push(c);
    }
  }
  const leakFile = join(dir, `${key}.leak.txt`);
  const plain = join(dir, `${key}.txt`);
  const file = existsSync(leakFile) ? leakFile : existsSync(plain) ? plain : undefined;
  if (file) {
    res.final = await readReport(file, f, file === leakFile);
    res.leakProfile = file === leakFile;
  }
  res.last = prev;
  if (crash !== undefined) {
    const d = await readCrash(crash, dir, key, pkg, f, prev);
    if (d) res.deadlock = { deadlock: d, running: runningTests(crash, running) };
  }
  return res;
}

/** The tests the binary was running when it died: the timeout panic lists them. */
function runningTests(crash: string, fromEvents: string[]): string[] {
  const m = /running tests:\n((?:\t\t?\S.*\n?)+)/.exec(crash);
  if (m) {
    const names = m[1]!
      .split('\n')
      .map((l) => l.trim().replace(/ \(\S+\)$/, ''))
      .filter(Boolean);
    if (names.length > 0) return names;
  }
  return fromEvents;
}

function causeOf(first: string): Deadlock['cause'] {
  if (first.startsWith('panic: test timed out')) return 'timeout';
  if (first.startsWith('fatal error: all goroutines are asleep')) return 'asleep';
  return 'hang';
}

/** Does this frame belong to the package under test (or its external test package)? */
function inPackage(fr: Frame | undefined, pkg: string): boolean {
  return fr !== undefined && (fr.pkg === pkg || fr.pkg === `${pkg}_test`);
}

/** leakwatch's own generated functions (the driver, the hang watchdog) are not the user's. */
function isOurs(fr: Frame, pkg: string): boolean {
  return inPackage(fr, pkg) && /\.leakwatch[A-Z]/.test(fr.func);
}

async function readCrash(
  crash: string,
  dir: string,
  key: string,
  pkg: string,
  f: AnalyzeFilters,
  before: Map<string, number>,
): Promise<Deadlock | undefined> {
  const file = join(dir, `${key}.crash.txt`);
  writeFileSync(file, crash);
  let r: Report;
  try {
    r = await readReport(file, f, false);
  } catch {
    return undefined; // no goroutine in it (a cut-off dump): nothing to read
  } finally {
    rmSync(file, { force: true });
  }
  const first = crash.split('\n', 1)[0]!;
  const suspects = grown(r, before).filter((s) => {
    const frames = s.group.stack.frames;
    if (frames.some((fr) => isOurs(fr, pkg))) return false;
    return (
      frames.some((fr) => inPackage(fr, pkg)) ||
      s.group.creators.some((c) => inPackage(c.site, pkg))
    );
  });
  return { cause: causeOf(first), message: first.replace(/^leakwatch: /, ''), suspects };
}

/**
 * The test a stuck goroutine belongs to: the test function on its stack, else its creator's,
 * else undefined (the caller charges it to the running tests).
 */
export function testOfSuspect(s: Suspect, pkg: string): string | undefined {
  const re = /\.(Test[^a-z.]\w*|Test)(?:\.|$)/;
  for (const fr of [...s.group.stack.frames, ...s.group.creators.map((c) => c.site)]) {
    if (!inPackage(fr, pkg)) continue;
    const m = re.exec(fr.func.slice(fr.pkg.length));
    if (m) return m[1];
  }
  return undefined;
}
