/**
 * The byte-stream steps every input goes through, whatever it came from (a file, stdin, HTTP in
 * Node; a dropped file in the dashboard's browser bundle): the first bytes peeked for format
 * detection, and a cap on what is read. Nothing here needs Node's own modules.
 */
import { LimitError } from './limits.js';

/** Bytes kept for format detection. */
export const HEAD_BYTES = 64 * 1024;

/** Stops the read past `max` bytes: a gzip bomb or an endless stream ends in a one-line error. */
export async function* capBytes(
  name: string,
  s: AsyncIterable<Buffer>,
  max: number,
): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const c of s) {
    n += c.length;
    if (n > max) throw new LimitError(name, 'maxBytes', max);
    yield c;
  }
}

/**
 * Reads at least `n` bytes (or to the end) and returns them with an iterable that replays
 * them followed by the rest of the stream.
 */
export async function peek(
  src: AsyncIterable<Buffer>,
  n: number,
): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = src[Symbol.asyncIterator]();
  const got: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    got.push(b);
    len += b.length;
  }
  const head = Buffer.concat(got);
  async function* rest(): AsyncGenerator<Buffer> {
    let finished = done;
    try {
      if (head.length > 0) yield head;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) {
          finished = true;
          return;
        }
        yield r.value;
      }
    } finally {
      // Stopped early (a cap, an error, a reader that had enough): close the source, so an
      // HTTP body is aborted and its timeout cleared.
      if (!finished) await it.return?.();
    }
  }
  return { head: head.subarray(0, Math.max(n, HEAD_BYTES)), rest: rest() };
}
