/**
 * Reader for the protobuf goroutine profiles: `/debug/pprof/goroutine` (debug=0) and
 * `/debug/pprof/goroutineleak`, gzip already removed by the input layer. Unlike debug=1, the
 * protobuf form keeps the runtime frames (gopark, chansend1, selectgo), so the blocking call can
 * be classified.
 *
 * The decoder is our own and streams: the Profile message is read field by field as chunks
 * arrive, and samples with the same locations and labels are merged on the spot (their counts
 * added), so a small gzip of millions of identical samples is read in memory that grows with
 * distinct stacks only. Only the fields a goroutine profile needs are decoded (profile.proto:
 * sample_type 1, sample 2, location 4, function 5, string_table 6, time_nanos 9).
 */
import { StackInterner } from '../model/intern.js';
import type { Frame } from '../model/frame.js';
import type { Goroutine, ProfileKind, Snapshot } from '../model/snapshot.js';
import { UserError } from '../errors.js';
import { LimitError, type Limits } from '../input/limits.js';

/** No field of a goroutine profile comes near this; one that does is not one. */
const MAX_FIELD = 64 * 2 ** 20;

/**
 * Entries allowed in the string, location and function tables: a floor, plus so many per allowed
 * distinct sample. A real goroutine profile holds a few per distinct frame.
 */
const TABLE_FLOOR = 1 << 16;
const TABLE_PER_SAMPLE = 4;

class Malformed extends Error {}

/** Where the last `varint` call stopped; module-level so that decoding allocates nothing. */
let at = 0;

/** The varint at `i` (up to 64 bits, as a Number: exact to 2^53), or -1 when cut off at `end`. */
function varint(b: Uint8Array, i: number, end: number): number {
  let v = 0;
  let mul = 1;
  for (let n = 0; n < 10; n++) {
    if (i >= end) return -1;
    const c = b[i++]!;
    v += (c & 0x7f) * mul;
    if (c < 0x80) {
      at = i;
      return v;
    }
    mul *= 128;
  }
  throw new Malformed('varint longer than 10 bytes');
}

/** Calls `f(field, wire, start, end, value)` for each field of the message in b[start, end). */
function eachField(
  b: Buffer,
  start: number,
  end: number,
  f: (field: number, wire: number, s: number, e: number, v: number) => void,
): void {
  let i = start;
  while (i < end) {
    const tag = varint(b, i, end);
    if (tag < 0) throw new Malformed('cut-off field');
    i = at;
    const wire = tag & 7;
    const field = Math.floor(tag / 8);
    // `at` is read before `f` runs: `f` decodes nested messages, which move it.
    if (wire === 0) {
      const v = varint(b, i, end);
      if (v < 0) throw new Malformed('cut-off varint');
      const next = at;
      f(field, 0, i, next, v);
      i = next;
    } else if (wire === 2) {
      const len = varint(b, i, end);
      const s = at;
      if (len < 0 || s + len > end) throw new Malformed('field runs past its message');
      f(field, 2, s, s + len, 0);
      i = s + len;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (i + n > end) throw new Malformed('cut-off fixed field');
      f(field, wire, i, i + n, 0);
      i += n;
    } else throw new Malformed(`wire type ${wire}`);
  }
}

/** Each varint of a packed field (wire 2) or the one varint of an unpacked one. */
function eachVarint(
  b: Buffer,
  wire: number,
  s: number,
  e: number,
  v: number,
  f: (x: number) => void,
): void {
  if (wire === 0) {
    f(v);
    return;
  }
  if (wire !== 2) throw new Malformed('bad wire type for a number');
  let i = s;
  while (i < e) {
    const x = varint(b, i, e);
    if (x < 0) throw new Malformed('cut-off packed varint');
    f(x);
    i = at;
  }
}

interface MergedSample {
  count: number;
  locations: number[];
  /** [key, str, num] string-table indices and number, per label. */
  labels: [number, number, number][];
}

/** The Profile fields a goroutine profile needs, filled as the stream is decoded. */
class ProfileDecoder {
  readonly sampleTypes: number[] = [];
  readonly samples = new Map<string, MergedSample>();
  /** Location id → [function id, line] per Line (inlined callees first), and the address. */
  readonly locations = new Map<number, { lines: number[]; address: number }>();
  readonly functions = new Map<number, { name: number; file: number }>();
  readonly strings: string[] = [];
  timeNanos = 0;
  sampleMessages = 0;
  badCounts = 0;
  private tableEntries = 0;

  constructor(
    private readonly source: string,
    private readonly limits: Limits,
  ) {}

  field(b: Buffer, field: number, wire: number, s: number, e: number, v: number): void {
    switch (field) {
      case 1:
        if (wire !== 2) throw new Malformed('sample_type');
        eachField(b, s, e, (f, w, _s, _e, x) => {
          if (f === 1 && w === 0) this.sampleTypes.push(x);
        });
        return;
      case 2:
        if (wire !== 2) throw new Malformed('sample');
        this.sample(b, s, e);
        return;
      case 4:
        if (wire !== 2) throw new Malformed('location');
        this.location(b, s, e);
        return;
      case 5:
        if (wire !== 2) throw new Malformed('function');
        this.function(b, s, e);
        return;
      case 6:
        if (wire !== 2) throw new Malformed('string_table');
        this.table();
        this.strings.push(b.toString('utf8', s, e));
        return;
      case 9:
        if (wire === 0) this.timeNanos = v;
        return;
      default:
        // mapping, drop/keep_frames, duration, period, comments: not needed for goroutines.
        return;
    }
  }

  private table(): void {
    const max = TABLE_FLOOR + this.limits.maxSamples * TABLE_PER_SAMPLE;
    if (++this.tableEntries > max)
      throw new LimitError(
        this.source,
        'maxSamples',
        max,
        `string, location and function table entries (${TABLE_PER_SAMPLE} per allowed sample)`,
      );
  }

  /** The previous sample's bytes and record: runs of identical samples skip decoding. */
  private lastBytes: Buffer | undefined;
  private last: MergedSample | undefined;
  private lastCount = 0;

  private sample(b: Buffer, s: number, e: number): void {
    this.sampleMessages++;
    const lb = this.lastBytes;
    if (lb !== undefined && lb.length === e - s && b.compare(lb, 0, lb.length, s, e) === 0) {
      this.last!.count += this.lastCount;
      return;
    }
    // The key is the raw bytes of the location ids and labels: identical samples share it.
    let key = '';
    let count = -1;
    eachField(b, s, e, (f, w, fs, fe, x) => {
      if (f === 1 || f === 3)
        key += `${f}:${b.toString('latin1', fs, fe)}\u0000${w === 0 ? x : ''};`;
      else if (f === 2 && count < 0)
        eachVarint(b, w, fs, fe, x, (c) => {
          if (count < 0) count = c;
        });
    });
    // A count is int64; a negative one reads as a 10-byte varint near 2^64.
    if (count <= 0 || !Number.isSafeInteger(count)) {
      this.badCounts++;
      return;
    }
    const had = this.samples.get(key);
    if (had !== undefined) {
      had.count += count;
      this.remember(b, s, e, had, count);
      return;
    }
    if (this.samples.size >= this.limits.maxSamples)
      throw new LimitError(this.source, 'maxSamples', this.limits.maxSamples);
    const m: MergedSample = { count, locations: [], labels: [] };
    eachField(b, s, e, (f, w, fs, fe, x) => {
      if (f === 1) {
        eachVarint(b, w, fs, fe, x, (id) => m.locations.push(id));
        if (m.locations.length > this.limits.maxFrames)
          throw new LimitError(this.source, 'maxFrames', this.limits.maxFrames);
      } else if (f === 3 && w === 2) {
        const l: [number, number, number] = [0, 0, 0];
        eachField(b, fs, fe, (lf, lw, _s, _e, lx) => {
          if (lw === 0 && lf >= 1 && lf <= 3) l[lf - 1] = lx;
        });
        m.labels.push(l);
      }
    });
    this.samples.set(key, m);
    this.remember(b, s, e, m, count);
  }

  private remember(b: Buffer, s: number, e: number, m: MergedSample, count: number): void {
    if (e - s > 4096) return;
    this.lastBytes = Buffer.from(b.subarray(s, e));
    this.last = m;
    this.lastCount = count;
  }

  private location(b: Buffer, s: number, e: number): void {
    this.table();
    let id = 0;
    let address = 0;
    const lines: number[] = [];
    eachField(b, s, e, (f, w, fs, fe, x) => {
      if (f === 1 && w === 0) id = x;
      else if (f === 3 && w === 0) address = x;
      else if (f === 4 && w === 2) {
        let fn = 0;
        let line = 0;
        eachField(b, fs, fe, (lf, lw, _s, _e, lx) => {
          if (lw !== 0) return;
          if (lf === 1) fn = lx;
          else if (lf === 2) line = lx;
        });
        lines.push(fn, line);
      }
    });
    this.locations.set(id, { lines, address });
  }

  private function(b: Buffer, s: number, e: number): void {
    this.table();
    let id = 0;
    let name = 0;
    let file = 0;
    eachField(b, s, e, (f, w, _s, _e, x) => {
      if (w !== 0) return;
      if (f === 1) id = x;
      else if (f === 2) name = x;
      else if (f === 4) file = x;
    });
    this.functions.set(id, { name, file });
  }
}

/**
 * Feeds each complete top-level field of the stream to `d`. A field cut by a chunk boundary waits
 * (its parts kept, concatenated once) until enough bytes have come.
 */
async function decodeStream(chunks: AsyncIterable<Buffer>, d: ProfileDecoder): Promise<void> {
  let parts: Buffer[] = [];
  let have = 0;
  let need = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    have += chunk.length;
    if (have < need) continue;
    const b = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
    let i = 0;
    need = 0;
    while (i < b.length) {
      const tag = varint(b, i, b.length);
      if (tag < 0) break;
      let j = at;
      const wire = tag & 7;
      const field = Math.floor(tag / 8);
      if (wire === 0) {
        const v = varint(b, j, b.length);
        if (v < 0) break;
        const next = at;
        d.field(b, field, 0, j, next, v);
        i = next;
        continue;
      }
      let len: number;
      if (wire === 2) {
        len = varint(b, j, b.length);
        if (len < 0) break;
        if (len > MAX_FIELD) throw new Malformed(`a field of ${len} bytes`);
        j = at;
      } else if (wire === 1 || wire === 5) len = wire === 1 ? 8 : 4;
      else throw new Malformed(`wire type ${wire}`);
      if (j + len > b.length) {
        need = j + len - i;
        break;
      }
      d.field(b, field, wire, j, j + len, 0);
      i = j + len;
    }
    // Keep the unfinished field: a copy when small, so the chunk it sits in can be collected.
    const rest = b.length - i;
    parts = rest === 0 ? [] : [rest < 4096 ? Buffer.from(b.subarray(i)) : b.subarray(i)];
    have = rest;
    if (need === 0 && rest > 0) need = rest + 1;
  }
  if (have > 0) throw new Malformed('the last field is cut off (truncated profile?)');
}

export async function readProto(
  source: string,
  chunks: AsyncIterable<Buffer>,
  limits: Limits,
): Promise<Snapshot> {
  const d = new ProfileDecoder(source, limits);
  try {
    await decodeStream(chunks, d);
  } catch (err) {
    if (err instanceof Malformed)
      throw new UserError(`${source}: not a valid protobuf profile (${err.message})`);
    throw err;
  }
  const str = (i: number): string => d.strings[i] ?? '';
  const sampleTypes = d.sampleTypes.map(str);
  let profile: ProfileKind;
  if (sampleTypes[0] === 'goroutine') profile = 'goroutine';
  else if (sampleTypes[0] === 'goroutineleak') profile = 'goroutineleak';
  else {
    throw new UserError(
      `${source}: a ${sampleTypes.join('/') || 'unnamed'} profile, expected a goroutine or goroutineleak profile`,
    );
  }

  const interner = new StackInterner();
  const warnings: string[] = [];
  // Each location expands to one frame per Line: inlined callees first, the caller last.
  const frameCache = new Map<number, Frame[]>();
  const missing = new Set<number>();
  const framesOf = (id: number): Frame[] => {
    let fr = frameCache.get(id);
    if (fr !== undefined) return fr;
    fr = [];
    const loc = d.locations.get(id);
    if (loc === undefined) missing.add(id);
    else {
      for (let k = 0; k < loc.lines.length; k += 2) {
        const fn = d.functions.get(loc.lines[k]!);
        if (fn) fr.push(interner.frame(str(fn.name), str(fn.file), loc.lines[k + 1]!));
      }
      if (fr.length === 0) fr.push(interner.frame(`0x${loc.address.toString(16)}`, '?', 0));
    }
    frameCache.set(id, fr);
    return fr;
  };

  const goroutines: Goroutine[] = [];
  let total = 0;
  for (const s of d.samples.values()) {
    const frames: Frame[] = [];
    for (const id of s.locations) for (const f of framesOf(id)) frames.push(f);
    if (frames.length > limits.maxFrames)
      throw new LimitError(source, 'maxFrames', limits.maxFrames);
    // runtime.goexit is the bottom of every goroutine: not information.
    while (frames.length > 0 && frames[frames.length - 1]!.func === 'runtime.goexit') frames.pop();
    const g: { -readonly [K in keyof Goroutine]: Goroutine[K] } = {
      count: s.count,
      state: '',
      leaked: profile === 'goroutineleak',
      lockedToThread: false,
      stackUnavailable: false,
      stack: interner.stack(frames, undefined, 0),
    };
    if (s.labels.length > 0) {
      const labels: Record<string, string> = {};
      for (const [k, v, n] of s.labels) labels[str(k)] = v ? str(v) : String(n);
      g.labels = labels;
    }
    goroutines.push(g);
    total += s.count;
  }
  if (missing.size > 0)
    warnings.push(`samples refer to ${missing.size} location id(s) the profile does not define`);
  if (d.badCounts > 0)
    warnings.push(`${d.badCounts} sample(s) with a count that is not a positive number, skipped`);
  return {
    source,
    format: 'proto',
    profile,
    takenAt: timeOf(d.timeNanos, warnings),
    total,
    goroutines,
    leakDetection: profile === 'goroutineleak',
    warnings,
  };
}

/** time_nanos as a Date, or undefined (with a warning) when it is outside what a Date holds. */
function timeOf(nanos: number, warnings: string[]): Date | undefined {
  if (nanos <= 0) return undefined;
  const t = new Date(nanos / 1e6);
  if (Number.isNaN(t.getTime()) || t.getUTCFullYear() > 9999) {
    warnings.push(`time_nanos ${nanos} is not a usable time; the snapshot's time is unknown`);
    return undefined;
  }
  return t;
}
