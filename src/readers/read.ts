/**
 * The readers chosen by content: protobuf magic, then a debug=1 header, else a traceback (dumps
 * hide inside longer logs). Node-free: `readSnapshot` (index.ts) opens files, stdin and URLs for
 * it, and the dashboard's browser bundle hands it a dropped file.
 */
import { UserError } from '../errors.js';
import type { Limits } from '../input/limits.js';
import type { ByteSource } from '../input/source.js';
import type { Snapshot } from '../model/snapshot.js';
import { isDebug1, readDebug1 } from './debug1.js';
import { looksLikeProto } from './detect.js';
import { TracebackParser, tracebackSnapshot } from './traceback.js';

/**
 * Reads an opened byte source (its first bytes peeked) with the reader its content calls for.
 * Node-free, so the dashboard's browser bundle reads a dropped file with it too.
 */
export async function readSource(src: ByteSource, limits: Limits): Promise<Snapshot> {
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
