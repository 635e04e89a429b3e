/**
 * Format detection, in one place and by content only (never by file name): each reader says
 * whether it recognises the first bytes; the traceback reader takes any other text, since dumps
 * hide inside longer logs.
 */
import { UserError } from '../errors.js';
import { openSource, type OpenOptions } from '../input/source.js';
import type { Snapshot } from '../model/snapshot.js';
import { isDebug1, readDebug1 } from './debug1.js';
import { looksLikeProto } from './detect.js';
import { TracebackParser, tracebackSnapshot } from './traceback.js';
import { resolveLimits } from '../input/limits.js';

/** Where to read from and the caps to read under (`limits`, defaults: DEFAULT_LIMITS). */
export type ReadOptions = OpenOptions;

/** Reads any goroutine dump or profile Go writes, from a path, `-`, or an http(s) URL. */
export async function readSnapshot(spec: string, opts: ReadOptions = {}): Promise<Snapshot> {
  const limits = resolveLimits(opts.limits);
  const src = await openSource(spec, opts);
  const name = src.name;
  if (looksLikeProto(src.head)) {
    // Loaded on demand: the protobuf decoder is the heaviest module and dumps do not need it.
    const { readProto } = await import('./proto.js');
    return readProto(name, src.chunks, limits);
  }
  if (isBinary(src.head)) {
    throw new UserError(
      `${name}: binary data that is not a protobuf profile; expected a goroutine dump (debug=2), a debug=1 profile, or a protobuf profile`,
    );
  }
  const headText = src.head.toString('utf8', 0, Math.min(src.head.length, 4096));
  if (/^\s*(<!doctype html|<html)/i.test(headText)) {
    throw new UserError(`${name}: an HTML page, expected a goroutine dump or profile`);
  }
  if (isDebug1(headText)) return readDebug1(name, src.chunks, limits, src.takenAt);

  const parser = new TracebackParser(name, limits);
  for await (const chunk of src.chunks) parser.feed(chunk);
  const result = parser.finish();
  if (result.total === 0) {
    const empty = headText.trim().length === 0;
    throw new UserError(
      `${name}: ${empty ? 'only blank text' : 'no goroutine found'}; expected a goroutine dump (lines like "goroutine 1 [running]:"), a debug=1 profile, or a protobuf profile`,
    );
  }
  // The goroutineleak profile at debug=2 is a plain dump; its writer's frames give it away.
  const profile =
    result.sawLeakProfile || src.fetchedPath?.includes('goroutineleak')
      ? 'goroutineleak'
      : 'goroutine';
  return tracebackSnapshot(name, result, profile, src.takenAt);
}

/** NUL bytes or mostly non-text bytes in the head: not something Go printed. */
function isBinary(head: Buffer): boolean {
  const n = Math.min(head.length, 8192);
  let odd = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i]!;
    if (b === 0) return true;
    if (b < 9 || (b > 13 && b < 32)) odd++;
  }
  return odd > n / 10;
}
