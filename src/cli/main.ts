/**
 * The command line. Every failure a user can cause ends here as one line on stderr and exit 2;
 * anything else is a bug in leakwatch and says so.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { messageOf, UserError } from '../errors.js';

export const VERSION = '0.1.0';

/** Exit codes, for CI: suspects found is not an error, but it is not a pass either. */
export const EXIT = { ok: 0, suspects: 1, usage: 2, bug: 3 } as const;

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a whole number >= 0, got "${v}"`);
    return n;
  };
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
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

/** Separates `leakwatch test` options from go test's flags and packages. */
export function splitTestArgs(args: string[]): { ours: string[]; go: string[] } {
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

export async function main(argv: string[], io: Io = process): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('leakwatch')
    .description('Find goroutine leaks in Go services.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`leakwatch: ${s.replace(/^error: /, '')}`),
    });

  const fetchOptions = (c: Command) =>
    c
      .option('--timeout <seconds>', 'HTTP timeout for live URLs', positiveInt('--timeout'), 30)
      .option(
        '--max-bytes <n>',
        'largest response accepted from a live URL',
        positiveInt('--max-bytes'),
        1 << 30,
      );

  fetchOptions(
    program
      .command('analyze')
      .description(
        'read a goroutine dump or profile (file, "-" for stdin, or http://host:port) and name the leaks',
      )
      .argument('<input>', 'dump or profile: path, -, or a net/http/pprof URL')
      .option('--json', 'print the report as JSON (docs/json-schema.md)')
      .option('--top <n>', 'suspects shown in full', positiveInt('--top'), 10)
      .option('--frames <n>', 'frames shown per stack (0: all)', positiveInt('--frames'), 12)
      .option(
        '--min-count <n>',
        'smallest group waiting for work, started per request or connection, that is suspect on its size',
        positiveInt('--min-count'),
        10,
      )
      .option(
        '--stuck-minutes <n>',
        'minutes in a receive, select or Cond.Wait in your code, its starter gone, that make one goroutine suspect',
        positiveInt('--stuck-minutes'),
        10,
      ),
  ).action(async (input: string, opts) => {
    // Each command loads its own modules: analyze must not pay for SQLite or tree-sitter.
    const { runAnalyze } = await import('./commands/analyze.js');
    code = await runAnalyze(input, opts, io);
  });

  fetchOptions(
    program
      .command('diff')
      .description('compare two dumps or profiles: groups that appeared, grew, shrank or vanished')
      .argument('<before>', 'the earlier dump or profile')
      .argument('<after>', 'the later dump or profile')
      .option('--json', 'print the changes as JSON')
      .option(
        '--fail-on-growth <n>',
        'exit 1 when any group grew by at least n goroutines',
        positiveInt('--fail-on-growth'),
      ),
  ).action(async (before: string, after: string, opts) => {
    const { runDiff } = await import('./commands/diff.js');
    code = await runDiff(before, after, opts, io);
  });

  // lint's registration lists its rules, which loads tree-sitter: only when it can be needed.
  const sub = argv[0];
  if (sub === undefined || sub === 'lint' || sub === 'help' || sub.startsWith('-')) {
    const { registerLint } = await import('../lint/cli.js');
    registerLint(program, io, (c) => (code = c));
  }

  program
    .command('watch')
    .description(
      'scrape live services (net/http/pprof), keep history, alert on leaks (docs/watch.md)',
    )
    .argument('[urls...]', 'targets: base URLs of net/http/pprof (http://host:port)')
    .option('--config <file>', 'targets file (JSON; docs/watch.md); SIGHUP reloads it')
    .option('--db <file>', 'SQLite history', './leakwatch.db')
    .option('--interval <duration>', 'scrape interval', '15s')
    .option('--listen <host:port>', 'serve /metrics and the JSON API (127.0.0.1 unless --token)')
    .option('--token <token>', 'API token (or LEAKWATCH_TOKEN); required off loopback')
    .option('--json', 'alert events as JSON lines on stdout')
    .option('--webhook <url>', 'POST alert events as JSON here')
    .option('--slack <url>', 'Slack-compatible incoming webhook')
    .option('--alertmanager <url>', 'Alertmanager base URL (API v2)')
    .option('--timeout <duration>', 'per-request timeout', '10s')
    .option(
      '--max-bytes <n>',
      'largest response accepted',
      positiveInt('--max-bytes'),
      256 * 1024 * 1024,
    )
    .option('--concurrency <n>', 'scrapes in flight at once', positiveInt('--concurrency'), 32)
    .option(
      '--leak-every <n>',
      'goroutineleak profile every N scrapes, when served',
      positiveInt('--leak-every'),
      20,
    )
    .option(
      '--heap-every <n>',
      'heap profile every N scrapes (0: never)',
      positiveInt('--heap-every'),
      4,
    )
    .option(
      '--heap-min-mb <n>',
      'smallest heap rise over the growth window that alerts',
      positiveInt('--heap-min-mb'),
      64,
    )
    .option('--debug2-interval <duration>', 'at most one debug=2 dump per target this often', '10m')
    .option(
      '--debug2-max <n>',
      'no debug=2 dump above this many goroutines',
      positiveInt('--debug2-max'),
      20_000,
    )
    .option('--peak-factor <x>', 'alert above x times the normal peak', '1.5')
    .option('--baseline <duration>', 'history the normal peak is learnt from', '1h')
    .option('--warmup <duration>', 'ignored after the first scrape or a restart', '2m')
    .option('--growth-window <duration>', 'window for the growth slope', '30m')
    .option(
      '--growth-min <n>',
      'smallest rise over the window that alerts',
      positiveInt('--growth-min'),
      50,
    )
    .option(
      '--stuck-minutes <n>',
      'blocked this long on a channel or lock alerts',
      positiveInt('--stuck-minutes'),
      30,
    )
    .option(
      '--fire-after <n>',
      'evaluations in a row before an alert fires',
      positiveInt('--fire-after'),
      2,
    )
    .option(
      '--resolve-after <n>',
      'clear evaluations in a row before it resolves',
      positiveInt('--resolve-after'),
      3,
    )
    .option('--duration <duration>', 'stop after this long (default: until SIGINT/SIGTERM)')
    .option('--no-view', 'no live status view on a terminal')
    .action(async (urls: string[], opts) => {
      const { runWatch } = await import('./commands/watch.js');
      code = await runWatch(urls, opts, io);
    });

  program
    .command('demo')
    .description(
      "the seed's incident on this machine: a leaky and a fixed notification service under load, watched live",
    )
    .option('--duration <duration>', 'how long to run', '60s')
    .option('--db <file>', 'keep the history here (default: a temporary file)')
    .option('--json', 'alert events as JSON lines on stdout')
    .option('--no-view', 'no live status view on a terminal')
    .action(async (opts) => {
      const { runDemo } = await import('./commands/demo.js');
      code = await runDemo(opts, io);
    });

  // `leakwatch test` takes go test's flags as they are (single dash: -run, -v, -race); ours
  // are all --long. Split them before commander sees go test's.
  let goArgs: string[] = [];
  if (argv[0] === 'test') {
    const split = splitTestArgs(argv.slice(1));
    goArgs = split.go;
    argv = ['test', ...split.ours];
  }
  const collect = (v: string, prev: string[]) => [...prev, v];
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
      positiveInt('--retries'),
      20,
    )
    .option('--max-delay <ms>', 'longest pause between tries (ms)', positiveInt('--max-delay'), 100)
    .option('--ignore-top <func>', 'expected goroutine: its top function (repeatable)', collect, [])
    .option(
      '--ignore-created-by <func>',
      'expected goroutines: started by this function (repeatable)',
      collect,
      [],
    )
    .option(
      '--jobs <n>',
      'parallel test runs for attribution (default: CPU count)',
      positiveInt('--jobs'),
      0,
    )
    .option('-C, --dir <dir>', 'run in this directory')
    .option('--config <file>', 'config file (default: .leakwatch.json in the directory)')
    .action(async (opts) => {
      const { runTestCommand } = await import('./commands/test.js');
      code = await runTestCommand(goArgs, { ...opts, cwd: opts.dir }, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof UserError) {
      io.stderr.write(`leakwatch: ${err.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`leakwatch: internal error (please report): ${messageOf(err)}\n`);
    if (process.env.LEAKWATCH_DEBUG) io.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return EXIT.bug;
  }
}
