/**
 * What a command needs from the CLI around it: where to write, and how to report its exit
 * code. Every command module exports `register(program, cli)`: it declares its own options,
 * turns commander's loose option bag into its typed config, and loads its heavy modules only
 * when it runs.
 */
import { InvalidArgumentError, type Command } from 'commander';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

export interface Cli {
  io: Io;
  version: string;
  /** The arguments commander will parse; a command may rewrite its own (`test` takes go test's). */
  args: string[];
  /** The process exit code, set by the command that ran. */
  exit(code: number): void;
}

/** A command's registration, loaded on demand by src/cli/main.ts. */
export type Register = (program: Command, cli: Cli) => void;

/** Parser for an option that takes a whole number >= 0. */
export function wholeNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a whole number >= 0, got "${v}"`);
    return n;
  };
}

/** Parser for a repeatable option. */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** The options every command that reads a dump or a URL shares. */
export function fetchOptions(c: Command): Command {
  return c
    .option('--timeout <seconds>', 'HTTP timeout for live URLs', wholeNumber('--timeout'), 30)
    .option(
      '--max-bytes <n>',
      'largest response accepted from a live URL',
      wholeNumber('--max-bytes'),
      1 << 30,
    );
}
