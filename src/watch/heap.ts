/**
 * The heap profile (`/debug/pprof/heap`, protobuf): bytes in use now, and by allocation site,
 * so a growing heap can be shown beside the goroutine groups that grow with it. An allocation
 * site is the first frame outside the runtime of the sample's stack.
 */
import { Profile } from 'pprof-format';
import { UserError } from '../errors.js';
import { openSource, type OpenOptions } from '../input/source.js';

export interface HeapSample {
  /** inuse_space, bytes. */
  inuse: number;
  /** Bytes in use by allocation site (`func file:line`), largest first, at most `top`. */
  sites: { site: string; bytes: number }[];
}

export async function fetchHeap(url: string, opts: OpenOptions, top = 20): Promise<HeapSample> {
  const src = await openSource(url, opts);
  const parts: Buffer[] = [];
  for await (const c of src.chunks) parts.push(c);
  let p: Profile;
  try {
    p = Profile.decode(Buffer.concat(parts));
  } catch (err) {
    throw new UserError(`${url}: not a heap profile (${(err as Error).message})`);
  }
  const str = (i: number | bigint): string => p.stringTable.strings[Number(i)] ?? '';
  const idx = p.sampleType.findIndex((t) => str(t.type) === 'inuse_space');
  if (idx < 0) throw new UserError(`${url}: no inuse_space in this profile`);
  const fns = new Map(p.function.map((f) => [String(f.id), f]));
  const siteOf = new Map<string, string>();
  for (const loc of p.location) {
    // Lines are inlined callees first: the innermost non-runtime function allocated.
    for (const ln of loc.line) {
      const f = fns.get(String(ln.functionId));
      const name = f ? str(f.name) : '';
      if (name && !name.startsWith('runtime.')) {
        siteOf.set(String(loc.id), `${name} ${f ? str(f.filename) : ''}:${ln.line}`);
        break;
      }
    }
  }
  let inuse = 0;
  const bySite = new Map<string, number>();
  for (const s of p.sample) {
    const v = Number(s.value[idx] ?? 0);
    inuse += v;
    let site = '(runtime)';
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
    .map(([site, bytes]) => ({ site, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
  return { inuse, sites };
}
