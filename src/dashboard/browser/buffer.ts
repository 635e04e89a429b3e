/**
 * Node's `Buffer`, as much of it as leakwatch's readers use, for the dashboard's browser bundle
 * (build/browser.mjs injects it wherever the readers name the global `Buffer`). A Uint8Array
 * underneath, as Node's is, so the readers' byte loops run unchanged: `from` (bytes, latin1 or
 * UTF-8 text), `concat`, `alloc`, `toString` (latin1, UTF-8) over a range, `compare` over ranges,
 * and `slice` as a view (Node's meaning, not Uint8Array's copy). Anything else the readers
 * start to use fails loudly in test/dashboard-compare.test.ts, which reads every format here.
 */

type Encoding = 'latin1' | 'binary' | 'utf8' | 'utf-8' | 'ascii';

const utf8 = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/** The instances: Node's methods over a Uint8Array. */
class Bytes extends Uint8Array {
  override toString(enc: Encoding = 'utf8', start = 0, end = this.length): string {
    const s = Math.max(0, start);
    const e = Math.min(this.length, end);
    if (e <= s) return '';
    if (enc === 'utf8' || enc === 'utf-8') return utf8.decode(this.subarray(s, e));
    // latin1 by hand: a browser's TextDecoder('latin1') is windows-1252, which remaps 0x80-0x9f.
    let out = '';
    for (let i = s; i < e; i += 8192) {
      const part = this.subarray(i, Math.min(e, i + 8192));
      out += String.fromCharCode.apply(null, part as unknown as number[]);
    }
    return enc === 'ascii'
      ? out.replace(/[\u0080-\u00ff]/g, (c) => String.fromCharCode(c.charCodeAt(0) & 0x7f))
      : out;
  }

  /** Node's order of arguments: this[sourceStart, sourceEnd) against target[targetStart, targetEnd). */
  compare(
    target: Uint8Array,
    targetStart = 0,
    targetEnd = target.length,
    sourceStart = 0,
    sourceEnd = this.length,
  ): number {
    const n = Math.min(targetEnd - targetStart, sourceEnd - sourceStart);
    for (let i = 0; i < n; i++) {
      const d = this[sourceStart + i]! - target[targetStart + i]!;
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    const a = sourceEnd - sourceStart;
    const b = targetEnd - targetStart;
    return a === b ? 0 : a < b ? -1 : 1;
  }

  equals(other: Uint8Array): boolean {
    return this.compare(other) === 0;
  }

  /** A view, as in Node (Uint8Array's own slice copies). */
  override slice(start?: number, end?: number): Bytes {
    return this.subarray(start, end) as Bytes;
  }
}

function from(
  x: string | ArrayLike<number> | ArrayBuffer,
  encOrOffset?: Encoding | number,
  length?: number,
): Bytes {
  if (typeof x === 'string') {
    if (encOrOffset === 'latin1' || encOrOffset === 'binary' || encOrOffset === 'ascii') {
      const b = new Bytes(x.length);
      for (let i = 0; i < x.length; i++) b[i] = x.charCodeAt(i) & 0xff;
      return b;
    }
    const bytes = encoder.encode(x);
    return new Bytes(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  if (x instanceof ArrayBuffer)
    return new Bytes(x, typeof encOrOffset === 'number' ? encOrOffset : 0, length);
  // A copy, as Node's Buffer.from(buffer) is.
  const b = new Bytes(x.length);
  b.set(x);
  return b;
}

function concat(list: readonly Uint8Array[], total?: number): Bytes {
  const n = total ?? list.reduce((a, b) => a + b.length, 0);
  const out = new Bytes(n);
  let at = 0;
  for (const b of list) {
    if (at >= n) break;
    out.set(b.subarray(0, n - at), at);
    at += Math.min(b.length, n - at);
  }
  return out;
}

/** What the bundle sees as the global `Buffer`. */
export const Buffer = {
  from,
  concat,
  alloc: (n: number): Bytes => new Bytes(n),
  allocUnsafe: (n: number): Bytes => new Bytes(n),
};
