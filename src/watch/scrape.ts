/**
 * One scrape of one target, through the analyze readers and grouping (never the whole report):
 * the protobuf goroutine profile every time (cheap), the goroutineleak profile now and then
 * when the target serves it, the debug=2 dump on demand (it stops the world) to learn creators
 * and wait times, and the heap profile every few scrapes.
 *
 * Groups carry the one identity (analysis/group.ts): the protobuf form and the debug=2 dump
 * agree on it, and so do `analyze --json` and `test --json`. Every read is bounded (bytes, and
 * the readers' caps); a target that breaks a cap fails its own scrape, nobody else's.
 */
import { countedOf, groupCounted } from '../analysis/group.js';
import type { Snapshot } from '../model/snapshot.js';
import { readHeap, type HeapSample } from '../readers/heap.js';
import { readSnapshot } from '../readers/index.js';
import { UserError } from '../errors.js';
import { LimitError } from '../input/limits.js';
import type { GroupCount, GroupInfo, Scrape, Target } from './types.js';
import { WAIT_BUCKETS, waitBucket } from './waits.js';

export interface ScrapeOptions {
  timeoutMs: number;
  /** Bytes of one response after decompression (a gzip bomb stops here). */
  maxBytes: number;
  /** Goroutines a target may report (a profile of millions of samples stops here). */
  maxGoroutines: number;
  /** Aborts every request in flight (shutdown). */
  signal?: AbortSignal;
}

function headers(t: Target): Record<string, string> {
  if (!t.auth) return {};
  if (t.auth.kind === 'bearer') return { authorization: `Bearer ${t.auth.token}` };
  return {
    authorization: `Basic ${Buffer.from(`${t.auth.user}:${t.auth.password}`).toString('base64')}`,
  };
}

function urlOf(t: Target, path: string): string {
  return new URL(path, t.url.endsWith('/') ? t.url : `${t.url}/`).href;
}

async function fetchSnapshot(t: Target, path: string, o: ScrapeOptions): Promise<Snapshot> {
  const url = urlOf(t, path);
  const s = await readSnapshot(url, {
    timeoutMs: o.timeoutMs,
    maxBytes: o.maxBytes,
    limits: { maxBytes: o.maxBytes, maxGoroutines: o.maxGoroutines },
    headers: headers(t),
    signal: o.signal,
  });
  // A counted profile can claim any number of goroutines in a few bytes: past the cap the
  // target is broken or hostile, and its history would be nonsense.
  if (s.total > o.maxGoroutines)
    throw new LimitError(url, 'maxGoroutines', o.maxGoroutines, 'goroutines');
  return s;
}

interface Grouped {
  total: number;
  groups: GroupCount[];
  infos: GroupInfo[];
  /** Per group: the longest wait, in minutes, when the form carries it. */
  waits: Map<string, number>;
  /** Per group: goroutines per wait bucket (tracebacks only: profiles carry no waits). */
  buckets?: Map<string, number[]>;
}

/** Counts, infos and waits of a snapshot, by group identity. */
function groupForWatch(s: Snapshot): Grouped {
  const groups: GroupCount[] = [];
  const infos: GroupInfo[] = [];
  const waits = new Map<string, number>();
  const counted = countedOf(s);
  const { groups: grouped, groupOf } = groupCounted(counted);
  for (const g of grouped) {
    groups.push({ id: g.id, count: g.count, leaked: g.leaked });
    let i = 0;
    const fr = g.stack.frames;
    while (i < fr.length - 1 && fr[i]!.pkg === 'runtime') i++;
    const info: GroupInfo = { id: g.id, frames: fr.slice(i), blockedOn: g.blockedOn };
    if (g.holder) {
      info.holder = g.holder.frame;
      info.holderOwner = g.holder.owner;
    }
    const site = g.creators[0]?.site;
    if (site) info.createdBy = site;
    if (g.idle) info.idle = g.idle;
    infos.push(info);
    if (g.waitMinutes) waits.set(g.id, g.waitMinutes.max);
  }
  if (s.format !== 'traceback') return { total: s.total, groups, infos, waits };
  // A counted record is one (stack, header) pair: its goroutines share one printed wait.
  const buckets = new Map<string, number[]>();
  counted.records.forEach((r, i) => {
    const id = groupOf[i]!.id;
    let b = buckets.get(id);
    if (!b) buckets.set(id, (b = WAIT_BUCKETS.map(() => 0)));
    b[waitBucket(r.waitMinutes)]! += r.count;
  });
  return { total: s.total, groups, infos, waits, buckets };
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

interface ScrapePlan {
  /** Ask for the goroutineleak profile this time. */
  leak: boolean;
  /** Ask for the heap profile this time. */
  heap?: boolean;
  /** Ask for the debug=2 dump this time... */
  debug2: boolean;
  /** ...unless this scrape counted more goroutines than this (the dump stops the world). */
  debug2Max?: number;
}

const isNotFound = (err: unknown): boolean =>
  err instanceof UserError && /answered 404/.test(err.message);

export async function scrape(
  t: Target,
  state: TargetState,
  plan: ScrapePlan,
  o: ScrapeOptions,
  now: () => number = Date.now,
): Promise<Scrape> {
  // Time is the watcher's: a target whose clock is days off must not skew history or retention.
  const started = now();
  const base = groupForWatch(await fetchSnapshot(t, 'debug/pprof/goroutine', o));
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
      if (isNotFound(err)) state.noLeakProfile = true;
      else throw err;
    }
  }

  let waits: Map<string, number> | undefined;
  let waitBuckets: Map<string, number[]> | undefined;
  // The cap is judged on this scrape's own count, so it holds from the very first scrape.
  if (plan.debug2 && base.total <= (plan.debug2Max ?? Infinity)) {
    // Rationed by the caller; marked before the fetch so a failing dump is not retried at once.
    state.lastDebug2 = now();
    const d2 = groupForWatch(await fetchSnapshot(t, 'debug/pprof/goroutine?debug=2', o));
    const infos = new Map(base.infos.map((i) => [i.id, i]));
    for (const i of d2.infos) {
      const have = infos.get(i.id);
      if (have && i.createdBy) have.createdBy = i.createdBy;
    }
    waits = d2.waits;
    waitBuckets = d2.buckets ?? new Map();
    sources.push('debug2');
  }
  let heap: HeapSample | undefined;
  if (plan.heap && !state.noHeap) {
    try {
      heap = await readHeap(urlOf(t, 'debug/pprof/heap'), {
        timeoutMs: o.timeoutMs,
        maxBytes: o.maxBytes,
        headers: headers(t),
        signal: o.signal,
      });
      sources.push('heap');
    } catch (err) {
      // The heap is extra evidence: its absence must not fail the goroutine scrape.
      if (isNotFound(err)) state.noHeap = true;
    }
  }
  const s: Scrape = {
    target: t.name,
    at: started,
    total: base.total,
    groups: base.groups,
    infos: base.infos,
    durationMs: now() - started,
    source: sources.join('+'),
  };
  if (waits) s.waits = waits;
  if (waitBuckets) s.waitBuckets = waitBuckets;
  if (heap) s.heap = heap;
  return s;
}
