/**
 * Reader for the protobuf goroutine profiles: `/debug/pprof/goroutine` (debug=0) and
 * `/debug/pprof/goroutineleak`, gzip already removed by the input layer. Decoding is
 * pprof-format's; this file maps profile.proto onto the model. Unlike debug=1, the protobuf form
 * keeps the runtime frames (gopark, chansend1, selectgo), so the blocking call can be classified.
 */
import { Profile } from 'pprof-format';
import { StackInterner } from '../model/intern.js';
import type { Frame } from '../model/frame.js';
import type { Goroutine, ProfileKind, Snapshot } from '../model/snapshot.js';
import { UserError } from '../errors.js';

/** Largest decompressed profile accepted: goroutine profiles are small; a huge one is not one. */
export const MAX_PROTO_BYTES = 512 * 1024 * 1024;

export async function readProto(source: string, chunks: AsyncIterable<Buffer>): Promise<Snapshot> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of chunks) {
    size += c.length;
    if (size > MAX_PROTO_BYTES) {
      throw new UserError(
        `${source}: protobuf profile larger than ${MAX_PROTO_BYTES} bytes; not a goroutine profile`,
      );
    }
    parts.push(c);
  }
  let p: Profile;
  try {
    p = Profile.decode(Buffer.concat(parts));
  } catch (err) {
    throw new UserError(`${source}: not a valid protobuf profile (${(err as Error).message})`);
  }
  const str = (i: number | bigint): string => p.stringTable.strings[Number(i)] ?? '';
  const sampleTypes = p.sampleType.map((t) => str(t.type));
  let profile: ProfileKind;
  if (sampleTypes[0] === 'goroutine') profile = 'goroutine';
  else if (sampleTypes[0] === 'goroutineleak') profile = 'goroutineleak';
  else {
    throw new UserError(
      `${source}: a ${sampleTypes.join('/') || 'unnamed'} profile, expected a goroutine or goroutineleak profile`,
    );
  }

  const interner = new StackInterner();
  const functions = new Map<string, { name: string; file: string }>();
  for (const f of p.function)
    functions.set(String(f.id), { name: str(f.name), file: str(f.filename) });
  // Each location expands to one frame per Line: inlined callees first, the caller last.
  const locations = new Map<string, Frame[]>();
  for (const loc of p.location) {
    const frames: Frame[] = [];
    for (const ln of loc.line) {
      const fn = functions.get(String(ln.functionId));
      if (fn) frames.push(interner.frame(fn.name, fn.file, Number(ln.line)));
    }
    if (frames.length === 0) frames.push(interner.frame(`0x${loc.address.toString(16)}`, '?', 0));
    locations.set(String(loc.id), frames);
  }

  const goroutines: Goroutine[] = [];
  const warnings: string[] = [];
  let total = 0;
  for (const s of p.sample) {
    const count = Number(s.value[0] ?? 0);
    const frames: Frame[] = [];
    for (const id of s.locationId) {
      const fr = locations.get(String(id));
      if (fr) frames.push(...fr);
      else warnings.push(`sample refers to missing location ${id}`);
    }
    // runtime.goexit is the bottom of every goroutine: not information.
    while (frames.length > 0 && frames[frames.length - 1]!.func === 'runtime.goexit') frames.pop();
    const g: { -readonly [K in keyof Goroutine]: Goroutine[K] } = {
      count,
      state: '',
      leaked: profile === 'goroutineleak',
      lockedToThread: false,
      stackUnavailable: false,
      stack: interner.stack(frames, undefined, 0),
    };
    if (s.label.length > 0) {
      const labels: Record<string, string> = {};
      for (const l of s.label) labels[str(l.key)] = l.str ? str(l.str) : String(l.num);
      g.labels = labels;
    }
    goroutines.push(g);
    total += count;
  }
  const tn = Number(p.timeNanos ?? 0);
  return {
    source,
    format: 'proto',
    profile,
    takenAt: tn > 0 ? new Date(tn / 1e6) : undefined,
    total,
    goroutines,
    leakDetection: profile === 'goroutineleak',
    warnings,
  };
}
