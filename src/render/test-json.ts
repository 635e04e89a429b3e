/**
 * `leakwatch test --json`: per package, its leaks in the analyze suspect shape, and the tests
 * that leak. Documented in docs/json-schema.md.
 */
import type { Suspect } from '../analysis/suspects.js';
import type { TestReport } from '../gotest/run.js';
import { SCHEMA_VERSION, suspectJson } from './json.js';

/** `link` (src/link): fields added to each leak, such as `source` and `findings`. */
export function renderTestJson(r: TestReport, link?: (l: Suspect) => object): string {
  const leak = (l: Suspect) => (link ? { ...suspectJson(l), ...link(l) } : suspectJson(l));
  return (
    JSON.stringify(
      {
        schemaVersion: SCHEMA_VERSION,
        leaked: r.packages.some((p) => p.leaks.length > 0),
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
          leakProfile: p.leakProfile,
          leaks: p.leaks.map(leak),
          tests: p.tests.map((t) => ({
            test: t.test,
            failed: t.failed,
            leaks: t.leaks.map(leak),
          })),
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
