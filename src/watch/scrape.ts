/**
 * One scrape of one target, through the analyze readers: the protobuf goroutine profile every
 * time (cheap), the goroutineleak profile now and then when the target serves it, and the
 * debug=2 dump on demand (it stops the world) to learn creators and wait times.
 *
 * Groups are keyed here by their frames alone, without the runtime's own frames on top and
 * without the creation site: that is the key both the protobuf form (no creators, runtime
 * frames kept) and the debug=2 dump (creators, runtime frames hidden) agree on.
 */
import { groupId } from '../analysis/group.js';
import { analyze } from '../analysis/suspects.js';
import type { Frame } from '../model/frame.js';
import type { Snapshot } from '../model/snapshot.js';
import { readSnapshot } from '../readers/index.js';
import { UserError } from '../errors.js';
import type { GroupCount, GroupInfo, Scrape, Target } from './types.js';
import { fetchHeap, type HeapSample } from './heap.js';

export interface ScrapeOptions {
  timeoutMs: number;
  maxBytes: number;
}

/** The watch key of a stack: frames below the runtime's own, by function and position. */
export function watchKey(frames: readonly Frame[]): string {
  let i = 0;
  while (i < frames.length - 1 && frames[i]!.pkg === 'runtime') i++;
  let k = '';
  for (; i < frames.length; i++) k += `${frames[i]!.func} ${frames[i]!.file}:${frames[i]!.line}\n`;
  return k;
}

const pos = (f: Frame | undefined): string | undefined =>
  f ? `${f.func} ${f.file}:${f.line}` : undefined;

function headers(t: Target): Record<string, string> {
  if (!t.auth) return {};
  if (t.auth.kind === 'bearer') return { authorization: `Bearer ${t.auth.token}` };
  return {
    authorization: `Basic ${Buffer.from(`${t.auth.user}:${t.auth.password}`).toString('base64')}`,
  };
}

async function fetchSnapshot(t: Target, path: string, o: ScrapeOptions): Promise<Snapshot> {
  const url = new URL(path, t.url.endsWith('/') ? t.url : `${t.url}/`).href;
  return readSnapshot(url, { timeoutMs: o.timeoutMs, maxBytes: o.maxBytes, headers: headers(t) });
}

export interface Grouped {
  total: number;
  groups: GroupCount[];
  infos: GroupInfo[];
  /** Per group: the longest wait, in minutes, when the form carries it. */
  waits: Map<string, number>;
}

/** Counts and infos of a snapshot by watch key. */
export function groupForWatch(s: Snapshot): Grouped {
  const report = analyze(s, { minCount: 1 });
  const counts = new Map<string, GroupCount>();
  const infos = new Map<string, GroupInfo & { createdCount: Map<string, number> }>();
  const waits = new Map<string, number>();
  for (const g of report.groups) {
    const id = groupId(watchKey(g.stack.frames));
    const c = counts.get(id) ?? { id, count: 0, leaked: 0 };
    c.count += g.count;
    c.leaked += g.leaked;
    counts.set(id, c);
    let info = infos.get(id);
    if (!info) {
      info = {
        id,
        userFrame: g.holder?.owner === 'user' ? pos(g.holder.frame) : pos(g.holder?.frame),
        blockedOn: g.blockedOn,
        stack: watchKey(g.stack.frames).trimEnd(),
        idle: g.idle,
        createdCount: new Map(),
      };
      infos.set(id, info);
    }
    const site = pos(g.stack.createdBy);
    if (site) info.createdCount.set(site, (info.createdCount.get(site) ?? 0) + g.count);
    if (g.waitMinutes) waits.set(id, Math.max(waits.get(id) ?? 0, g.waitMinutes.max));
  }
  const out: GroupInfo[] = [];
  for (const { createdCount, ...info } of infos.values()) {
    // Several `go` statements can start one stack; name the one that started most of them.
    let best: string | undefined;
    let n = 0;
    for (const [site, c] of createdCount) if (c > n) [best, n] = [site, c];
    out.push(best ? { ...info, createdBy: best } : info);
  }
  return { total: s.total, groups: [...counts.values()], infos: out, waits };
}

/** Per-target memory of what the target serves. */
export interface TargetState {
  /** The goroutineleak profile answered 404: do not ask again. */
  noLeakProfile: boolean;
  /** The heap profile answered 404. */
  noHeap?: boolean;
  scrapes: number;
  lastDebug2: number;
}

export function newTargetState(): TargetState {
  return { noLeakProfile: false, scrapes: 0, lastDebug2: 0 };
}

export interface ScrapePlan {
  /** Ask for the goroutineleak profile this time. */
  leak: boolean;
  /** Ask for the heap profile this time. */
  heap?: boolean;
  /** Ask for the debug=2 dump this time. */
  debug2: boolean;
}

export async function scrape(
  t: Target,
  state: TargetState,
  plan: ScrapePlan,
  o: ScrapeOptions,
  now: () => number = Date.now,
): Promise<Scrape & { waits: Map<string, number>; heapSites?: HeapSample['sites'] }> {
  const started = now();
  const snap = await fetchSnapshot(t, 'debug/pprof/goroutine', o);
  const base = groupForWatch(snap);
  const sources = ['proto'];
  state.scrapes++;

  if (plan.leak && !state.noLeakProfile) {
    try {
      const leak = groupForWatch(await fetchSnapshot(t, 'debug/pprof/goroutineleak', o));
      const byId = new Map(base.groups.map((g) => [g.id, g]));
      for (const g of leak.groups) {
        const b = byId.get(g.id);
        if (b) b.leaked = Math.max(b.leaked, g.count);
      }
      sources.push('leak-proto');
    } catch (err) {
      if (err instanceof UserError && /404/.test(err.message)) state.noLeakProfile = true;
      else throw err;
    }
  }

  let waits = base.waits;
  if (plan.debug2) {
    const d2 = groupForWatch(await fetchSnapshot(t, 'debug/pprof/goroutine?debug=2', o));
    state.lastDebug2 = now();
    const infos = new Map(base.infos.map((i) => [i.id, i]));
    for (const i of d2.infos) {
      const have = infos.get(i.id);
      if (have && i.createdBy) have.createdBy = i.createdBy;
    }
    waits = d2.waits;
    sources.push('debug2');
  }
  let heap: HeapSample | undefined;
  if (plan.heap && !state.noHeap) {
    const url = new URL('debug/pprof/heap', t.url.endsWith('/') ? t.url : `${t.url}/`).href;
    try {
      heap = await fetchHeap(url, {
        timeoutMs: o.timeoutMs,
        maxBytes: o.maxBytes,
        headers: headers(t),
      });
      sources.push('heap');
    } catch (err) {
      // The heap is extra evidence: its absence must not fail the goroutine scrape.
      if (err instanceof UserError && /404/.test(err.message)) state.noHeap = true;
    }
  }
  return {
    heapInuse: heap?.inuse,
    heapSites: heap?.sites,
    target: t.name,
    at: snap.takenAt?.getTime() ?? started,
    total: base.total,
    groups: base.groups,
    infos: base.infos,
    durationMs: now() - started,
    source: sources.join('+'),
    waits,
  };
}
