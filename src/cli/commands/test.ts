import { writeFileSync } from 'node:fs';
import { UserError } from '../../errors.js';
import { loadTestConfig } from '../../gotest/config.js';
import { Interrupted } from '../../gotest/procs.js';
import { DEFAULT_JOBS, goDurationMs, packageLeaked, runTests } from '../../gotest/run.js';
import { renderJunit } from '../../render/junit.js';
import { renderTestJson } from '../../render/test-json.js';
import { renderTestText } from '../../render/test-text.js';
import { styleFor } from '../../render/style.js';
import { InvalidArgumentError, type Command } from 'commander';
import { collect, wholeNumber, type Cli, type Io } from '../context.js';

interface TestFlags {
  json?: boolean;
  junit?: string;
  attribute: boolean;
  leakProfile: boolean;
  retries: number;
  maxDelay: number;
  ignoreTop: string[];
  ignoreCreatedBy: string[];
  jobs: number;
  hangAfter?: string;
  repeat?: number;
  repeatFor?: string;
  cwd?: string;
  config?: string;
}

/** A Go duration option (--hang-after, --repeat-for), checked here so a typo is one line. */
function duration(name: string) {
  return (v: string): string => {
    const ms = goDurationMs(v);
    if (ms === undefined || ms <= 0)
      throw new InvalidArgumentError(`${name} must be a duration such as 30s or 2m, got "${v}"`);
    return v;
  };
}

async function runTestCommand(goArgs: string[], f: TestFlags, io: Io): Promise<number> {
  // In --json mode stdout is leakwatch's JSON alone; go test's text goes to stderr.
  const goOut = f.json ? io.stderr : io.stdout;
  const cwd = f.cwd ?? process.cwd();
  const config = loadTestConfig(cwd, f.config);
  let report;
  try {
    report = await runTests({
      cwd,
      goArgs,
      settle: { retries: f.retries, maxDelayMs: f.maxDelay },
      leakProfile: f.leakProfile,
      attribute: f.attribute,
      ignoreTop: [...config.ignoreTop, ...f.ignoreTop],
      ignoreCreatedBy: [...config.ignoreCreatedBy, ...f.ignoreCreatedBy],
      jobs: f.jobs || DEFAULT_JOBS,
      hangAfter: f.hangAfter,
      repeat: f.repeat || undefined,
      repeatForMs: f.repeatFor ? goDurationMs(f.repeatFor) : undefined,
      onOutput: (t) => goOut.write(t),
      onNote: (t) => io.stderr.write(`leakwatch: ${t}\n`),
    });
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
    io.stderr.write(
      `leakwatch: ${err.message}: stopped go test and the test binaries, removed the temporary files\n`,
    );
    return 130;
  }
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
  const leaked = report.packages.some(packageLeaked);
  const failed = report.goExitCode !== 0;
  return leaked || failed ? 1 : 0;
}

/** leakwatch's own `test` options that take a value. */
const TEST_VALUE_OPTIONS = new Set([
  '--config',
  '--junit',
  '--retries',
  '--max-delay',
  '--ignore-top',
  '--ignore-created-by',
  '--jobs',
  '--hang-after',
  '--repeat',
  '--repeat-for',
  '--dir',
  '-C',
]);
const TEST_FLAG_OPTIONS = new Set([
  '--json',
  '--no-attribute',
  '--no-leak-profile',
  '--help',
  '-h',
]);

/** Separates `leakwatch test` options (all --long) from go test's flags and packages. */
function splitTestArgs(args: string[]): { ours: string[]; go: string[] } {
  const ours: string[] = [];
  const go: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      go.push(...args.slice(i + 1));
      break;
    }
    const name = a.split('=')[0]!;
    if (TEST_FLAG_OPTIONS.has(a)) ours.push(a);
    else if (TEST_VALUE_OPTIONS.has(name)) {
      ours.push(a);
      if (!a.includes('=') && i + 1 < args.length) ours.push(args[++i]!);
    } else if (a.startsWith('--'))
      ours.push(a); // unknown --option: let commander say so
    else go.push(a);
  }
  return { ours, go };
}

export function register(program: Command, cli: Cli): void {
  // go test's flags pass through as they are (single dash: -run, -v, -race); ours are all
  // --long. Split them before commander sees go test's.
  let goArgs: string[] = [];
  if (cli.args[0] === 'test') {
    const split = splitTestArgs(cli.args.slice(1));
    goArgs = split.go;
    cli.args = ['test', ...split.ours];
  }
  program
    .command('test')
    .description(
      'run go test and report every goroutine a test leaves behind (no change to your code)',
    )
    .usage('[options] [go test flags] [packages]')
    .option('--json', 'print the report as JSON (go test output goes to stderr)')
    .option('--junit <file>', 'also write JUnit XML (one failure per leaking test)')
    .option('--no-attribute', 'do not re-run tests one at a time to name the leaking ones')
    .option('--no-leak-profile', "do not build with Go's goroutineleak profile")
    .option(
      '--retries <n>',
      'tries to let goroutines finish before the dump',
      wholeNumber('--retries'),
      20,
    )
    .option('--max-delay <ms>', 'longest pause between tries (ms)', wholeNumber('--max-delay'), 100)
    .option('--ignore-top <func>', 'expected goroutine: its top function (repeatable)', collect, [])
    .option(
      '--ignore-created-by <func>',
      'expected goroutines: started by this function (repeatable)',
      collect,
      [],
    )
    .option(
      '--jobs <n>',
      'parallel test processes for re-runs and --repeat (default: CPU count)',
      wholeNumber('--jobs'),
      0,
    )
    .option(
      '--hang-after <duration>',
      'SIGQUIT a test binary where no test finished for this long and every goroutine is blocked, and report the deadlock (default: wait for -timeout)',
      duration('--hang-after'),
    )
    .option(
      '--repeat <n>',
      "then run each package's tests n more times (fresh process, shuffled order) and count the runs that leak",
      wholeNumber('--repeat'),
    )
    .option(
      '--repeat-for <duration>',
      'repeat the tests until this much time has passed (with --repeat: whichever ends first)',
      duration('--repeat-for'),
    )
    .option('-C, --dir <dir>', 'run in this directory')
    .option('--config <file>', 'config file (default: .leakwatch.json in the directory)')
    .action(async (opts: TestFlags & { dir?: string }) => {
      cli.exit(await runTestCommand(goArgs, { ...opts, cwd: opts.dir }, cli.io));
    });
}
