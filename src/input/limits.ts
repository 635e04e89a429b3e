/**
 * Caps every reader enforces while it reads, so that no input, however hostile (a gzip bomb, a
 * profile of millions of samples, a stack a million frames deep), ends in an out-of-memory abort.
 * Past a cap the read stops with a `LimitError`: one line naming the input, the cap and the flag
 * that raises it; the CLI exits 2 as for any bad input.
 */
import { UserError } from '../errors.js';

export interface Limits {
  /** Bytes read after decompression. */
  maxBytes: number;
  /** Goroutine records: goroutines of a traceback, records of a debug=1 profile. */
  maxGoroutines: number;
  /** Distinct protobuf samples (identical samples are merged as they stream, and count once). */
  maxSamples: number;
  /** Frames of one goroutine, record or sample (ancestors' frames included). */
  maxFrames: number;
}

/**
 * Generous: well above what any real service writes (the runtime prints at most 100 frames of a
 * stack, a protobuf sample at most 128 locations; a million goroutines make about 200 MB of dump),
 * and low enough that reading up to them fits in Node's default heap.
 */
export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxBytes: 4 * 2 ** 30,
  maxGoroutines: 5_000_000,
  maxSamples: 1_000_000,
  maxFrames: 10_000,
};

/** The CLI flag that raises each cap (analyze and diff take them all). */
const FLAGS: Record<keyof Limits, string> = {
  maxBytes: '--max-bytes',
  maxGoroutines: '--max-goroutines',
  maxSamples: '--max-samples',
  maxFrames: '--max-frames',
};

const WHAT: Record<keyof Limits, string> = {
  maxBytes: 'bytes (after decompression)',
  maxGoroutines: 'goroutine records',
  maxSamples: 'distinct samples',
  maxFrames: 'frames in one stack',
};

/** An input went past one of the caps. */
export class LimitError extends UserError {
  constructor(
    readonly input: string,
    readonly limit: keyof Limits,
    readonly value: number,
    /** What was counted, when not the cap's own unit (protobuf table entries, under maxSamples). */
    what = WHAT[limit],
  ) {
    super(
      `${input}: more than ${value} ${what}, the limit; raise it with ${FLAGS[limit]} if the input is genuine`,
    );
  }
}

/** The caps to apply: the defaults, overridden by what the caller gave. */
export function resolveLimits(given: Partial<Limits> | undefined): Limits {
  const out = { ...DEFAULT_LIMITS };
  if (given === undefined) return out;
  for (const k of Object.keys(out) as (keyof Limits)[]) {
    const v = given[k];
    if (v !== undefined && v > 0) out[k] = v;
  }
  return out;
}
