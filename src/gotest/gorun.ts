/**
 * Running `go test -json` and keeping what it says: which tests passed and failed, what the
 * compiler said when a build failed, and the output exactly as go test would have printed it.
 */
import type { Procs } from './procs.js';

/** One line of `go test -json` (test2json's TestEvent). */
interface TestEvent {
  Action: string;
  Package?: string;
  Test?: string;
  Output?: string;
  Elapsed?: number;
  ImportPath?: string;
}

export interface PackageRun {
  /** pass / fail / skip as go test reported the package; `build-fail` when it did not compile. */
  result: 'pass' | 'fail' | 'skip' | 'build-fail' | 'unknown';
  failedTests: string[];
  /** Every test and subtest that ran, in order. */
  tests: string[];
  elapsed?: number;
  /**
   * What the binary printed from a timeout panic, a SIGQUIT or the runtime's deadlock error on:
   * the goroutine dump to read (bounded by CRASH_MAX).
   */
  crash?: string;
  /** Tests that started and never ended (the binary died under them). */
  running: string[];
}

/** Lines that start the goroutine dump of a binary that did not finish. */
export const CRASH_START =
  /^(panic: test timed out after |SIGQUIT: quit|fatal error: all goroutines are asleep|leakwatch: no test finished for )/;
/** Most of a crash dump kept in memory (a dump of 100k goroutines is ~30 MB). */
export const CRASH_MAX = 256 << 20;

interface GoTestRun {
  exitCode: number;
  packages: Map<string, PackageRun>;
  /** Compiler and setup errors (build-output events and stderr). */
  buildErrors: string[];
}

/**
 * Runs `go test -json ...args` in `cwd`. `onOutput` gets go test's own text as it comes, so the
 * user sees the usual output live (and unchanged).
 */
export function runGoTest(
  procs: Procs,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  onOutput: (text: string) => void,
  verbose: boolean,
): Promise<GoTestRun> {
  // -json reports everything as -v would. Without -v, go test shows a test's output only when
  // it fails: keep each test's lines until it ends, and print them if it failed.
  const held = new Map<string, string[]>();
  const failLine = new Set<string>();
  return new Promise((resolve, reject) => {
    const p = procs.spawn('go', ['test', '-json', ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const packages = new Map<string, PackageRun>();
    const buildErrors: string[] = [];
    const pkg = (name: string): PackageRun => {
      let r = packages.get(name);
      if (!r)
        packages.set(name, (r = { result: 'unknown', failedTests: [], tests: [], running: [] }));
      return r;
    };
    let carry = '';
    const onLine = (line: string): void => {
      if (!line.startsWith('{')) {
        // go test prints some failures (setup, vet) outside JSON.
        if (line.trim()) {
          buildErrors.push(line);
          onOutput(line + '\n');
        }
        return;
      }
      let e: TestEvent;
      try {
        e = JSON.parse(line) as TestEvent;
      } catch {
        onOutput(line + '\n');
        return;
      }
      if (e.Action === 'build-output') {
        if (e.Output) {
          buildErrors.push(e.Output.replace(/\n$/, ''));
          onOutput(e.Output);
        }
        return;
      }
      if (e.Action === 'build-fail' && e.ImportPath) {
        pkg(e.ImportPath.split(' ')[0]!).result = 'build-fail';
        return;
      }
      if (!e.Package) return;
      const r = pkg(e.Package);
      if (e.Action === 'output' && e.Output) {
        if (r.crash !== undefined) {
          if (r.crash.length < CRASH_MAX) r.crash += e.Output;
        } else if (CRASH_START.test(e.Output)) r.crash = e.Output;
        // The per-test driver calls m.Run once per test, and each call ends with PASS or
        // FAIL: print that line once, before go test's own result line, as go test does.
        if (!e.Test && (e.Output === 'PASS\n' || e.Output === 'FAIL\n')) {
          if (e.Output === 'FAIL\n') failLine.add(e.Package);
          return;
        }
        if (!e.Test && e.Output.startsWith('FAIL\t') && failLine.delete(e.Package))
          onOutput('FAIL\n');
        if (!e.Test && verbose && e.Output.startsWith('ok ')) onOutput('PASS\n');
        if (verbose) onOutput(e.Output);
        else if (e.Test) {
          const k = `${e.Package} ${e.Test}`;
          held.set(k, [...(held.get(k) ?? []), e.Output]);
        } else onOutput(e.Output);
      } else if (e.Test) {
        const k = `${e.Package} ${e.Test}`;
        if (e.Action === 'run') {
          r.tests.push(e.Test);
          r.running.push(e.Test);
        } else if (e.Action === 'pass' || e.Action === 'fail' || e.Action === 'skip') {
          r.running = r.running.filter((t) => t !== e.Test);
        }
        if (e.Action === 'fail') {
          r.failedTests.push(e.Test);
          // As go test prints a failure: its result line first, then what the test logged.
          const lines = (held.get(k) ?? []).filter((t) => !/^=== (RUN|PAUSE|CONT|NAME)/.test(t));
          for (const t of lines) if (t.startsWith('--- ')) onOutput(t);
          for (const t of lines) if (!t.startsWith('--- ')) onOutput(t);
        }
        if (e.Action === 'pass' || e.Action === 'fail' || e.Action === 'skip') held.delete(k);
      } else if (e.Action === 'pass' || e.Action === 'fail' || e.Action === 'skip') {
        if (r.result !== 'build-fail') r.result = e.Action;
        r.elapsed = e.Elapsed;
        // Tests the binary died under never end: show what they printed (the timeout panic
        // and its goroutine dump among it), as go test does.
        if (!verbose) {
          for (const t of r.running) {
            for (const line of held.get(`${e.Package} ${t}`) ?? []) onOutput(line);
            held.delete(`${e.Package} ${t}`);
          }
        }
      }
    };
    p.stdout!.setEncoding('utf8');
    p.stdout!.on('data', (d: string) => {
      const text = carry + d;
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    });
    let stderr = '';
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (d: string) => {
      stderr += d;
      onOutput(d);
    });
    p.on('error', (err) => reject(err));
    p.on('close', (code) => {
      if (carry) onLine(carry);
      for (const l of stderr.split('\n')) if (l.trim()) buildErrors.push(l);
      resolve({ exitCode: code ?? 1, packages, buildErrors });
    });
  });
}
