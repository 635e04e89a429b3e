/**
 * Turns what the user named (a path, `-` for stdin, an http(s) URL) into a stream of bytes,
 * transparently gunzipped, with its first bytes available for format detection.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import { fetchPprof, type FetchOptions } from './http.js';
import { resolveLimits, type Limits } from './limits.js';
import { capBytes, HEAD_BYTES, peek } from './peek.js';

export interface ByteSource {
  /** The input as the user named it, for messages. */
  readonly name: string;
  /** The first bytes (up to HEAD_BYTES), already decompressed. */
  readonly head: Buffer;
  /** All bytes including `head`, decompressed. Consume once. */
  readonly chunks: AsyncIterable<Buffer>;
  /** When the data was taken, when the source says (HTTP Date). */
  readonly takenAt?: Date;
  /** The URL path it was fetched from, e.g. /debug/pprof/goroutineleak: hints the profile. */
  readonly fetchedPath?: string;
}

export interface OpenOptions extends FetchOptions {
  /** Stream to read for `-` (tests pass their own). */
  stdin?: NodeJS.ReadableStream;
  /** Caps on what is read (defaults: DEFAULT_LIMITS); the byte cap is applied here. */
  limits?: Partial<Limits>;
}

export async function openSource(spec: string, opts: OpenOptions = {}): Promise<ByteSource> {
  const maxBytes = resolveLimits(opts.limits).maxBytes;
  if (/^https?:\/\//i.test(spec)) {
    const r = await fetchPprof(spec, opts);
    const src = await wrap(spec, r.body, maxBytes, { takenAt: r.takenAt, fetchedPath: r.path });
    if (!opts.signal) return src;
    // The body may be in hand already while unpacking and parsing go on: stop those too.
    return { ...src, chunks: abortable(spec, src.chunks, opts.signal) };
  }
  if (spec === '-') {
    return wrap('stdin', (opts.stdin ?? process.stdin) as AsyncIterable<Buffer>, maxBytes, {});
  }
  let size: number;
  let regular: boolean;
  try {
    const st = statSync(spec);
    if (st.isDirectory())
      throw new UserError(`${spec}: is a directory, expected a goroutine dump or profile file`);
    size = st.size;
    regular = st.isFile();
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${spec}: no such file`);
    if (code === 'EACCES') throw new UserError(`${spec}: permission denied`);
    throw new UserError(`${spec}: cannot read (${code ?? String(err)})`);
  }
  // Pipes and FIFOs (`leakwatch diff <(curl ...) <(curl ...)`) have no size: they are streamed,
  // and an empty one is caught as empty input once read.
  if (!regular) {
    const stream = createReadStream(spec, { highWaterMark: FILE_CHUNK });
    return wrap(spec, guardStream(spec, stream), maxBytes, {});
  }
  if (size === 0)
    throw new UserError(`${spec}: file is empty, expected a goroutine dump or profile`);
  return wrap(spec, readFileChunks(spec), maxBytes, {});
}

/** A read error on a pipe or device as one line naming the input. */
async function* abortable(
  name: string,
  s: AsyncIterable<Buffer>,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  for await (const c of s) {
    if (signal.aborted) throw new UserError(`${name}: cancelled (shutting down)`);
    yield c;
  }
}

async function* guardStream(name: string, s: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* s;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${name}: cannot read (${code ?? (err as Error).message})`);
  }
}

/** Chunk size for files: large enough that per-chunk overhead vanishes, small enough to stream. */
const FILE_CHUNK = 1 << 18;

/**
 * Reads a file in 1 MiB chunks with synchronous reads: for one local file this beats a stream
 * (no thread-pool round trip per chunk) and still never holds more than one chunk.
 */
async function* readFileChunks(path: string): AsyncGenerator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(FILE_CHUNK);
      const n = readSync(fd, buf, 0, FILE_CHUNK, null);
      if (n === 0) return;
      yield n < FILE_CHUNK ? buf.subarray(0, n) : buf;
    }
  } finally {
    closeSync(fd);
  }
}

async function wrap(
  name: string,
  raw: AsyncIterable<Buffer>,
  maxBytes: number,
  extra: { takenAt?: Date; fetchedPath?: string },
): Promise<ByteSource> {
  let { head, rest } = await peek(raw, 2);
  if (head.length === 0)
    throw new UserError(`${name}: input is empty, expected a goroutine dump or profile`);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    // Loaded here: a plain dump (and every command's startup) does without zlib.
    const { createGunzip } = await import('node:zlib');
    const gunzip = createGunzip();
    const compressed = Readable.from(rest);
    compressed.on('error', (e) => gunzip.destroy(e));
    // A reader that stops early (a cap) destroys gunzip: let that reach the source too, so an
    // HTTP body is aborted and its timer cleared instead of lingering until the timeout.
    gunzip.on('close', () => compressed.destroy());
    compressed.pipe(gunzip);
    const inflated = capBytes(name, guardGunzip(name, gunzip), maxBytes);
    ({ head, rest } = await peek(inflated, HEAD_BYTES));
    if (head.length === 0) throw new UserError(`${name}: gzip data decompresses to nothing`);
  } else {
    ({ head, rest } = await peek(capBytes(name, rest, maxBytes), HEAD_BYTES));
  }
  return { name, head, chunks: rest, ...extra };
}

/** Re-throws gunzip's errors as a one-line message naming the input. */
async function* guardGunzip(name: string, s: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* s;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(String(err))) {
      throw new UserError(`${name}: gzip data is truncated (unexpected end of file)`);
    }
    if (err instanceof UserError) throw err;
    throw new UserError(`${name}: gzip data is corrupt (${(err as Error).message})`);
  }
}
