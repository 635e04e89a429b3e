/**
 * The heap profile (`/debug/pprof/heap`, protobuf): bytes in use now, and by allocation site,
 * so a growing heap can be shown beside the goroutine groups that grow with it. An allocation
 * site is the first frame outside the runtime of the sample's stack.
 *
 * Bounded: the bytes are capped while they stream in (`maxBytes`), and the samples are counted
 * by a walk over the top-level protobuf fields before anything is decoded, so a small gzip that
 * unpacks to millions of samples is refused instead of decoded.
 */
import { Profile } from 'pprof-format';
import { UserError } from '../errors.js';
import { openSource, type OpenOptions } from '../input/source.js';
import { packageOf, type Frame } from '../model/frame.js';

export interface HeapSample {
  /** inuse_space, bytes. */
  inuse: number;
  /** Bytes in use by allocation site, largest first, at most `top`. */
  sites: { frame: Frame; bytes: number }[];
}

interface HeapOptions extends OpenOptions {
  /** Most samples decoded (default 1,000,000). */
  maxSamples?: number;
}

const DEFAULT_MAX_SAMPLES = 1_000_000;

export async function readHeap(url: string, opts: HeapOptions, top = 20): Promise<HeapSample> {
  const src = await openSource(url, opts);
  const parts: Buffer[] = [];
  let size = 0;
  const maxBytes = opts.maxBytes ?? Infinity;
  for await (const c of src.chunks) {
    size += c.length;
    if (size > maxBytes)
      throw new UserError(
        `${url}: heap profile larger than ${maxBytes} bytes unpacked (--max-bytes)`,
      );
    parts.push(c);
  }
  const buf = Buffer.concat(parts);
  const maxSamples = opts.maxSamples ?? DEFAULT_MAX_SAMPLES;
  const n = countField(buf, 2, maxSamples + 1, url);
  if (n > maxSamples)
    throw new UserError(`${url}: heap profile has more than ${maxSamples} samples (the cap)`);
  let p: Profile;
  try {
    p = Profile.decode(buf);
  } catch (err) {
    throw new UserError(`${url}: not a heap profile (${(err as Error).message})`);
  }
  const str = (i: number | bigint): string => p.stringTable.strings[Number(i)] ?? '';
  const idx = p.sampleType.findIndex((t) => str(t.type) === 'inuse_space');
  if (idx < 0) throw new UserError(`${url}: no inuse_space in this profile`);
  const fns = new Map(p.function.map((f) => [String(f.id), f]));
  const siteOf = new Map<string, Frame>();
  for (const loc of p.location) {
    // Lines are inlined callees first: the innermost non-runtime function allocated.
    for (const ln of loc.line) {
      const f = fns.get(String(ln.functionId));
      const name = f ? str(f.name) : '';
      if (name && !name.startsWith('runtime.')) {
        siteOf.set(String(loc.id), {
          func: name,
          pkg: packageOf(name),
          file: f ? str(f.filename) : '',
          line: Number(ln.line),
        });
        break;
      }
    }
  }
  const RUNTIME: Frame = { func: '(runtime)', pkg: 'runtime', file: '', line: 0 };
  let inuse = 0;
  const bySite = new Map<Frame, number>();
  for (const s of p.sample) {
    const v = Number(s.value[idx] ?? 0);
    inuse += v;
    let site = RUNTIME;
    for (const id of s.locationId) {
      const found = siteOf.get(String(id));
      if (found) {
        site = found;
        break;
      }
    }
    bySite.set(site, (bySite.get(site) ?? 0) + v);
  }
  const sites = [...bySite.entries()]
    .map(([frame, bytes]) => ({ frame, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
  return { inuse, sites };
}

/**
 * Counts occurrences of one top-level field of a protobuf message without decoding it, up to
 * `stop`. Malformed input is a UserError naming the input.
 */
function countField(buf: Buffer, field: number, stop: number, name: string): number {
  let i = 0;
  let n = 0;
  const bad = (): never => {
    throw new UserError(`${name}: not a heap profile (malformed protobuf)`);
  };
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 10; k++) {
      if (i >= buf.length) bad();
      const b = buf[i++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    return bad();
  };
  while (i < buf.length) {
    const tag = varint();
    const wire = tag % 8;
    if (Math.floor(tag / 8) === field && ++n >= stop) return n;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 2) {
      const len = varint();
      i += len;
    } else if (wire === 5) i += 4;
    else bad();
    if (i > buf.length) bad();
  }
  return n;
}
