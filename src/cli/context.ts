/**
 * What a command needs from the CLI around it: where to write, and how to report its exit
 * code. Every command module exports `register(program, cli)`: it declares its own options,
 * turns commander's loose option bag into its typed config, and loads its heavy modules only
 * when it runs.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_LIMITS } from '../input/limits.js';

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

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  kb: 1e3,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gib: 2 ** 30,
};

/** Parser for a size in bytes: `1000000`, `512MiB`, `4GiB`, `100MB`. */
function byteSize(name: string) {
  return (v: string): number => {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
    const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
    const n = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
    if (!(n > 0))
      throw new InvalidArgumentError(
        `${name} must be a size such as 500000000, 512MiB or 4GiB, got "${v}"`,
      );
    return n;
  };
}

/** Flags of the options below, as commander hands them over. */
export interface ReadFlags {
  timeout: number;
  maxBytes: number;
  maxGoroutines: number;
  maxSamples: number;
  maxFrames: number;
}

/**
 * The options every command that reads a dump or a URL shares: the HTTP timeout and the caps
 * the readers enforce (src/input/limits.ts; the defaults are DEFAULT_LIMITS there).
 */
export function fetchOptions(c: Command): Command {
  const positive = (name: string) => (v: string) => {
    const n = wholeNumber(name)(v);
    if (n === 0) throw new InvalidArgumentError(`${name} must be at least 1`);
    return n;
  };
  return c
    .option('--timeout <seconds>', 'HTTP timeout for live URLs', wholeNumber('--timeout'), 30)
    .option(
      '--max-bytes <size>',
      'largest input accepted, after decompression (e.g. 8GiB)',
      byteSize('--max-bytes'),
      DEFAULT_LIMITS.maxBytes,
    )
    .option(
      '--max-goroutines <n>',
      'most goroutine records read from one input',
      positive('--max-goroutines'),
      DEFAULT_LIMITS.maxGoroutines,
    )
    .option(
      '--max-samples <n>',
      'most distinct samples read from one protobuf profile',
      positive('--max-samples'),
      DEFAULT_LIMITS.maxSamples,
    )
    .option(
      '--max-frames <n>',
      'most frames in one stack',
      positive('--max-frames'),
      DEFAULT_LIMITS.maxFrames,
    );
}

/** What the readers take from the flags above. */
export function readOptions(f: ReadFlags, io: Io) {
  return {
    // On first use: process.stdin builds a stream (and loads Node's stream and readline modules),
    // which only `-` needs.
    get stdin() {
      return io.stdin;
    },
    timeoutMs: f.timeout * 1000,
    maxBytes: f.maxBytes,
    limits: {
      maxBytes: f.maxBytes,
      maxGoroutines: f.maxGoroutines,
      maxSamples: f.maxSamples,
      maxFrames: f.maxFrames,
    },
  };
}
