/**
 * The command line. Every failure a user can cause ends here as one line on stderr and exit 2;
 * anything else is a bug in leakwatch and says so.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { messageOf, UserError } from '../errors.js';
import { runAnalyze } from './commands/analyze.js';
import { runDiff } from './commands/diff.js';

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
        'smallest group that is suspect on its size alone',
        positiveInt('--min-count'),
        10,
      )
      .option(
        '--stuck-minutes <n>',
        'minutes on a send or lock after which one goroutine is suspect',
        positiveInt('--stuck-minutes'),
        10,
      ),
  ).action(async (input: string, opts) => {
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
    code = await runDiff(before, after, opts, io);
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
