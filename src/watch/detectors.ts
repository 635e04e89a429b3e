/**
 * Detectors: from a target's recent history, which conditions hold now. The engine turns
 * conditions into alerts and resolutions with hysteresis, so nothing flaps.
 *
 * - peak: total goroutines above `peakFactor` (1.5, the seed's rule) times the normal peak,
 *   learnt over a baseline window that starts after a warm-up (the minutes after a restart).
 * - growth: one group keeps growing: a robust slope (Theil-Sen, the median of pairwise slopes,
 *   which one jump cannot drag) over a window, with most steps up, and a projection.
 * - stuck: goroutines blocked on a channel or a lock for longer than a threshold (from debug=2).
 * - leaked: the runtime's goroutineleak verdict. Certain.
 */
import { isStuck } from '../analysis/stuck.js';
import { frameShort } from '../analysis/frames.js';
import type { Frame } from '../model/frame.js';
import type { GroupCount, GroupInfo, Point } from './types.js';

export interface DetectorOptions {
  peakFactor: number;
  /** The peak is learnt over this window of history, after the warm-up. */
  baselineMs: number;
  /** Ignore this long after the first scrape or a restart (a sharp drop in total). */
  warmupMs: number;
  growthWindowMs: number;
  /** Smallest increase over the window that can alert (goroutines). */
  growthMin: number;
  /** Fewest samples in the window before the slope is trusted. */
  growthSamples: number;
  stuckMinutes: number;
  /** Smallest heap in-use rise over the growth window that alerts (bytes). */
  heapMinBytes: number;
  /** Consecutive evaluations a condition must hold before it alerts. */
  fireAfter: number;
  /** Consecutive evaluations a condition must be clear before it resolves. */
  resolveAfter: number;
}

export const DEFAULT_DETECTORS: DetectorOptions = {
  peakFactor: 1.5,
  baselineMs: 60 * 60_000,
  warmupMs: 2 * 60_000,
  growthWindowMs: 30 * 60_000,
  growthMin: 50,
  growthSamples: 6,
  stuckMinutes: 30,
  heapMinBytes: 64 * 1024 * 1024,
  fireAfter: 2,
  resolveAfter: 3,
};

/** Median of pairwise slopes, per millisecond. */
export function theilSen(points: readonly Point[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dt = points[j]!.at - points[i]!.at;
      if (dt > 0) slopes.push((points[j]!.value - points[i]!.value) / dt);
    }
  }
  if (slopes.length === 0) return 0;
  slopes.sort((a, b) => a - b);
  const m = slopes.length >> 1;
  return slopes.length % 2 ? slopes[m]! : (slopes[m - 1]! + slopes[m]!) / 2;
}

/** A condition that holds now, with what an alert would say. */
export interface Condition {
  detector: 'peak' | 'growth' | 'stuck' | 'leaked' | 'heap';
  group?: string;
  summary: string;
  evidence: Record<string, unknown>;
}

/** What the detectors see of one target. */
export interface TargetHistory {
  totals: Point[];
  groups: Map<string, Point[]>;
  latest: GroupCount[];
  infos: Map<string, GroupInfo>;
  /** Longest wait per group, minutes, from the last debug=2 dump. */
  waits: Map<string, number>;
  /** Start of the current run of the target (first scrape, or after a restart). */
  since: number;
  /** The normal peak, once the baseline window after the warm-up has been seen. */
  normalPeak?: number;
  /** Heap in-use bytes over time, and by allocation site (when the heap profile is scraped). */
  heap?: Point[];
  /** By allocation site (`frameText`), the site and its bytes over time. */
  heapSites?: Map<string, { frame: Frame; points: Point[] }>;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function where(info: GroupInfo | undefined, id: string): string {
  const u = info?.holder ? frameShort(info.holder) : `group ${id}`;
  return info?.createdBy ? `${u}, created by ${frameShort(info.createdBy)}` : u;
}

/** Time to reach `target` from `now` at `perMs`, as words. */
function eta(current: number, perMs: number, target: number): string {
  if (perMs <= 0 || target <= current) return '';
  const ms = (target - current) / perMs;
  const h = ms / 3_600_000;
  const when =
    h < 1
      ? `${Math.ceil(ms / 60_000)} min`
      : h < 48
        ? `${Math.ceil(h)} h`
        : `${Math.ceil(h / 24)} days`;
  return `${fmt(target)} in ${when}`;
}

export function evaluate(h: TargetHistory, now: number, o: DetectorOptions): Condition[] {
  const out: Condition[] = [];
  const last = h.totals[h.totals.length - 1];

  // peak: the normal peak from the baseline window that follows the warm-up.
  const learnFrom = h.since + o.warmupMs;
  const learnTo = learnFrom + o.baselineMs;
  if (last && now >= learnTo) {
    if (h.normalPeak === undefined) {
      let peak = 0;
      for (const p of h.totals)
        if (p.at >= learnFrom && p.at <= learnTo && p.value > peak) peak = p.value;
      if (peak > 0) h.normalPeak = peak;
    }
    const peak = h.normalPeak ?? 0;
    if (peak > 0 && last.value > o.peakFactor * peak) {
      out.push({
        detector: 'peak',
        summary: `${fmt(last.value)} goroutines, ${(last.value / peak).toFixed(1)}x the normal peak of ${fmt(peak)}`,
        evidence: {
          total: last.value,
          normalPeak: peak,
          factor: o.peakFactor,
          threshold: o.peakFactor * peak,
        },
      });
    }
  }

  // growth, per group, over the window.
  const from = now - o.growthWindowMs;
  for (const [id, series] of h.groups) {
    const info = h.infos.get(id);
    if (info?.idle) continue;
    const pts = series.filter((p) => p.at >= from && p.at >= h.since);
    if (pts.length < o.growthSamples) continue;
    const first = pts[0]!;
    const end = pts[pts.length - 1]!;
    const rise = end.value - first.value;
    let ups = 0;
    let downs = 0;
    for (let i = 1; i < pts.length; i++) {
      if (pts[i]!.value > pts[i - 1]!.value) ups++;
      else if (pts[i]!.value < pts[i - 1]!.value) downs++;
    }
    const slope = theilSen(pts);
    // Sustained: it went up several times and hardly ever down (leaks come in steps when the
    // scrapes are frequent), the robust slope is positive, and the rise is material.
    if (rise >= o.growthMin && slope > 0 && ups >= 3 && downs <= (pts.length - 1) / 4) {
      const perMin = slope * 60_000;
      const next = Math.max(50_000, 10 ** Math.ceil(Math.log10(end.value + 1)));
      const proj = eta(end.value, slope, next);
      out.push({
        detector: 'growth',
        group: id,
        summary: `${where(info, id)}: ${fmt(end.value)} goroutines, +${perMin.toFixed(1)}/min${proj ? `; at this rate: ${proj}` : ''}`,
        evidence: {
          where: where(info, id),
          count: end.value,
          windowMinutes: Math.round((end.at - first.at) / 60_000),
          rise,
          perMinute: Number(perMin.toFixed(2)),
          stepsUp: ups,
          stepsDown: downs,
          samples: pts.length,
          series: pts.slice(-12).map((p) => [new Date(p.at).toISOString(), p.value]),
          projection: proj || null,
        },
      });
    }
  }

  // heap: in-use bytes that keep growing, with the allocation sites that grew most, shown beside
  // the goroutine groups growing in the same window.
  const heap = (h.heap ?? []).filter((p) => p.at >= from && p.at >= h.since);
  if (heap.length >= 3) {
    const first = heap[0]!;
    const end = heap[heap.length - 1]!;
    let ups = 0;
    let downs = 0;
    for (let i = 1; i < heap.length; i++) {
      if (heap[i]!.value > heap[i - 1]!.value) ups++;
      else if (heap[i]!.value < heap[i - 1]!.value) downs++;
    }
    const rise = end.value - first.value;
    if (
      rise >= o.heapMinBytes &&
      theilSen(heap) > 0 &&
      ups >= 2 &&
      downs <= (heap.length - 1) / 3
    ) {
      const sites = [...(h.heapSites?.values() ?? [])]
        .map(({ frame, points }) => {
          const w = points.filter((p) => p.at >= first.at);
          return { site: frame, rise: w.length ? w[w.length - 1]!.value - w[0]!.value : 0 };
        })
        .filter((x) => x.rise > 0)
        .sort((a, b) => b.rise - a.rise)
        .slice(0, 5);
      const groups = out
        .filter((c) => c.detector === 'growth')
        .map((c) => String(c.evidence.where));
      const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;
      out.push({
        detector: 'heap',
        summary: `heap in use ${mb(end.value)}, +${mb(rise)} in ${Math.round((end.at - first.at) / 60_000)} min${sites[0] ? `; most from ${sites[0].site.func}` : ''}${groups.length ? `; growing with ${groups.join(', ')}` : ''}`,
        evidence: { inuse: end.value, rise, sites, growingGroups: groups },
      });
    }
  }

  // stuck: long waits on channels and locks, known from the last debug=2 dump.
  for (const [id, minutes] of h.waits) {
    const info = h.infos.get(id);
    // The same rule as analyze's (analysis/stuck.ts); receives and selects wait 4x longer.
    if (
      !info ||
      info.idle ||
      !isStuck(info.blockedOn, minutes, { stuckMinutes: o.stuckMinutes, idleFactor: 4 })
    )
      continue;
    const count = h.latest.find((g) => g.id === id)?.count ?? 0;
    if (count === 0) continue;
    out.push({
      detector: 'stuck',
      group: id,
      summary: `${where(info, id)}: ${fmt(count)} goroutines blocked on ${info?.blockedOn} for ${minutes}+ minutes`,
      evidence: { count, minutes, threshold: o.stuckMinutes },
    });
  }

  // leaked: the runtime's own verdict.
  for (const g of h.latest) {
    if (g.leaked <= 0) continue;
    const info = h.infos.get(g.id);
    out.push({
      detector: 'leaked',
      group: g.id,
      summary: `${where(info, g.id)}: the Go runtime proved ${fmt(g.leaked)} goroutines leaked`,
      evidence: { leaked: g.leaked, count: g.count, certain: true },
    });
  }
  return out;
}
