import { writeFileSync } from 'node:fs';
import { UserError } from '../../errors.js';
import { loadTestConfig } from '../../gotest/config.js';
import { DEFAULT_JOBS, runTests } from '../../gotest/run.js';
import { renderJunit } from '../../render/junit.js';
import { renderTestJson } from '../../render/test-json.js';
import { renderTestText } from '../../render/test-text.js';
import { styleFor } from '../../render/style.js';
import type { Io } from '../main.js';

export interface TestFlags {
  json?: boolean;
  junit?: string;
  attribute: boolean;
  leakProfile: boolean;
  retries: number;
  maxDelay: number;
  ignoreTop: string[];
  ignoreCreatedBy: string[];
  jobs: number;
  cwd?: string;
  config?: string;
}

export async function runTestCommand(goArgs: string[], f: TestFlags, io: Io): Promise<number> {
  // In --json mode stdout is leakwatch's JSON alone; go test's text goes to stderr.
  const goOut = f.json ? io.stderr : io.stdout;
  const cwd = f.cwd ?? process.cwd();
  const config = loadTestConfig(cwd, f.config);
  const report = await runTests({
    cwd,
    goArgs,
    settle: { retries: f.retries, maxDelayMs: f.maxDelay },
    leakProfile: f.leakProfile,
    attribute: f.attribute,
    ignoreTop: [...config.ignoreTop, ...f.ignoreTop],
    ignoreCreatedBy: [...config.ignoreCreatedBy, ...f.ignoreCreatedBy],
    jobs: f.jobs || DEFAULT_JOBS,
    onOutput: (t) => goOut.write(t),
    onNote: (t) => io.stderr.write(`leakwatch: ${t}\n`),
  });
  if (
    report.buildFailed ||
    (report.packages.length > 0 &&
      report.packages.every((p) => p.result === 'unknown') &&
      report.goExitCode !== 0)
  ) {
    const first =
      report.buildErrors.find((l) => /\.go:\d+/.test(l)) ??
      report.buildErrors[0] ??
      'go test failed to build';
    throw new UserError(`build failed: ${first}`);
  }
  if (f.junit) {
    try {
      writeFileSync(f.junit, renderJunit(report));
    } catch (err) {
      throw new UserError(`--junit ${f.junit}: cannot write (${(err as Error).message})`);
    }
  }
  io.stdout.write(f.json ? renderTestJson(report) : renderTestText(report, styleFor(io.stdout)));
  const leaked = report.packages.some((p) => p.leaks.length > 0);
  const failed = report.goExitCode !== 0;
  return leaked || failed ? 1 : 0;
}
