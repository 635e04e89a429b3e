/**
 * The command line. Every failure a user can cause ends here as one line on stderr and exit 2;
 * anything else is a bug in leakwatch and says so. Commands register themselves (each module
 * in commands/ exports `register`); only the one being run is loaded, so `analyze` never pays
 * for SQLite or tree-sitter and `--version` pays for nothing.
 */
import { Command, CommanderError } from 'commander';
import { messageOf, UserError } from '../errors.js';
import { printable } from '../render/escape.js';
import type { Cli, Io, Register } from './context.js';

const VERSION = '0.1.0';

/** Exit codes, for CI: suspects found is not an error, but it is not a pass either. */
const EXIT = { ok: 0, suspects: 1, usage: 2, bug: 3 } as const;

/** Every command, in the order `--help` lists them. */
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  analyze: () => import('./commands/analyze.js'),
  diff: () => import('./commands/diff.js'),
  lint: () => import('../lint/cli.js'),
  test: () => import('./commands/test.js'),
  watch: () => import('./commands/watch.js'),
  serve: () => import('./commands/serve.js'),
  rules: () => import('./commands/rules.js'),
  demo: () => import('./commands/demo.js'),
};

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
  const cli: Cli = { io, version: VERSION, args: argv, exit: (c) => (code = c) };

  try {
    const sub = argv[0];
    const only = sub !== undefined ? COMMANDS[sub] : undefined;
    if (only) (await only()).register(program, cli);
    else if (sub !== '--version' && sub !== '-V')
      for (const load of Object.values(COMMANDS)) (await load()).register(program, cli);
    await program.parseAsync(cli.args, { from: 'user' });
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
      // The message may quote an input (a target's status text, a name from a dump): one line.
      io.stderr.write(`leakwatch: ${printable(err.message)}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`leakwatch: internal error (please report): ${printable(messageOf(err))}\n`);
    if (process.env.LEAKWATCH_DEBUG) io.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return EXIT.bug;
  }
}
