/**
 * `leakwatch test --json`: per package, its leaks in the analyze suspect shape, the tests that
 * leak (with the -count iterations they leaked in) or deadlocked (the stuck goroutines, also in
 * the suspect shape), what no test could be named for and why, and --repeat's counts.
 * Documented in docs/json-schema.md.
 */
import { packageLeaked, type TestReport } from '../gotest/run.js';
import { SCHEMA_VERSION, suspectJson } from './json.js';

export function renderTestJson(r: TestReport): string {
  return (
    JSON.stringify(
      {
        schemaVersion: SCHEMA_VERSION,
        leaked: r.packages.some(packageLeaked),
        testsFailed: r.packages.some((p) => p.result === 'fail' || p.failedTests.length > 0),
        buildFailed: r.buildFailed,
        goExitCode: r.goExitCode,
        durationMs: r.durationMs,
        packages: r.packages.map((p) => ({
          package: p.package,
          result: p.result,
          failedTests: p.failedTests,
          install: p.install,
          note: p.note ?? null,
          checked: p.checked,
          perTest: p.perTest,
          leakProfile: p.leakProfile,
          leaks: p.leaks.map(suspectJson),
          tests: p.tests.map((t) => ({
            test: t.test,
            failed: t.failed,
            via: t.via,
            iterations: t.iterations,
            leaks: t.leaks.map(suspectJson),
            deadlock: t.deadlock
              ? {
                  cause: t.deadlock.cause,
                  message: t.deadlock.message,
                  suspects: t.deadlock.suspects.map(suspectJson),
                }
              : null,
            repeat: t.repeat ?? null,
          })),
          unattributed: p.unattributed,
          repeat: p.repeat ?? null,
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
