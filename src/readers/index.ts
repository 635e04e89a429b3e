/**
 * Format detection, in one place and by content only (never by file name): each reader says
 * whether it recognises the first bytes; the traceback reader takes any other text, since dumps
 * hide inside longer logs.
 */
import { openSource, type OpenOptions } from '../input/source.js';
import type { Snapshot } from '../model/snapshot.js';
import { readSource } from './read.js';
import { resolveLimits } from '../input/limits.js';

/** Where to read from and the caps to read under (`limits`, defaults: DEFAULT_LIMITS). */
export type ReadOptions = OpenOptions;

/** Reads any goroutine dump or profile Go writes, from a path, `-`, or an http(s) URL. */
export async function readSnapshot(spec: string, opts: ReadOptions = {}): Promise<Snapshot> {
  return readSource(await openSource(spec, opts), resolveLimits(opts.limits));
}
