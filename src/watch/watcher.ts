/**
 * The watch loop: each target on its own timer (with jitter), scrapes bounded by a concurrency
 * limit, failures backed off and always visible, history to the store, detectors after every
 * scrape, and alerts with hysteresis to the dispatcher. One slow or dead target never delays
 * another: each has its own timer and its own timeout.
 */
import {
  DEFAULT_DETECTORS,
  evaluate,
  type Condition,
  type DetectorOptions,
  type TargetHistory,
} from './detectors.js';
import { newTargetState, scrape, type ScrapeOptions, type TargetState } from './scrape.js';
import type { AlertEvent, Point, Store, Target } from './types.js';
import { messageOf } from '../errors.js';

export interface WatchOptions {
  store: Store;
  publish: (e: AlertEvent) => void;
  detectors?: Partial<DetectorOptions>;
  scrape: ScrapeOptions;
  /** Scrapes in flight at once, across targets. */
  concurrency: number;
  /** Ask for the goroutineleak profile every N scrapes (when served). */
  leakEvery: number;
  /** Ask for the heap profile every N scrapes (0: never). */
  heapEvery?: number;
  /** The debug=2 dump stops the world: at most this often per target, and only under the cap. */
  debug2IntervalMs: number;
  debug2MaxGoroutines: number;
  log: (line: string) => void;
  now?: () => number;
}

export interface TargetStatus {
  name: string;
  url: string;
  state: 'pending' | 'ok' | 'failing';
  lastAt?: number;
  lastTotal?: number;
  lastDurationMs?: number;
  lastError?: string;
  failures: number;
  scrapes: number;
  firing: string[];
  /** Goroutines per minute over the growth window, for the status view. */
  trendPerMin?: number;
}

interface AlertState {
  holds: number;
  clears: number;
  firing: boolean;
  last?: Condition;
}

interface Running {
  target: Target;
  state: TargetState;
  status: TargetStatus;
  history: TargetHistory;
  alerts: Map<string, AlertState>;
  timer?: NodeJS.Timeout;
  busy: boolean;
}

export class Watcher {
  private readonly running = new Map<string, Running>();
  private readonly detectors: DetectorOptions;
  private readonly now: () => number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly o: WatchOptions) {
    this.detectors = { ...DEFAULT_DETECTORS, ...o.detectors };
    this.now = o.now ?? Date.now;
  }

  /** Starts watching these targets; replaces the set on reload, keeping history of the rest. */
  setTargets(targets: Target[]): void {
    const names = new Set(targets.map((t) => t.name));
    for (const [name, r] of this.running) {
      if (!names.has(name)) {
        clearTimeout(r.timer);
        this.running.delete(name);
      }
    }
    for (const t of targets) {
      const have = this.running.get(t.name);
      if (have) {
        have.target = t;
        have.status.url = t.url;
        continue;
      }
      const r: Running = {
        target: t,
        state: newTargetState(),
        status: { name: t.name, url: t.url, state: 'pending', failures: 0, scrapes: 0, firing: [] },
        history: this.resume(t.name),
        alerts: new Map(),
        busy: false,
      };
      this.running.set(t.name, r);
      // Spread first scrapes over the interval so 1,000 targets do not start at once.
      this.schedule(r, Math.random() * Math.min(t.intervalMs, 1000));
    }
  }

  /** History from the store, so a restart keeps baselines and series. */
  private resume(name: string): TargetHistory {
    const now = this.now();
    const d = this.detectors;
    const from = now - Math.max(d.baselineMs + d.warmupMs, d.growthWindowMs) * 2;
    const totals = this.o.store.totals(name, from, now);
    const groups = new Map<string, Point[]>();
    const latest = this.o.store.latestGroups(name, 200);
    const infos = new Map();
    for (const g of latest) {
      groups.set(g.id, this.o.store.groupSeries(name, g.id, now - d.growthWindowMs * 2, now));
      if (g.info) infos.set(g.id, g.info);
    }
    return {
      totals,
      groups,
      latest: latest.map(({ id, count, leaked }) => ({ id, count, leaked })),
      infos,
      waits: new Map(),
      since: totals[0]?.at ?? now,
    };
  }

  private schedule(r: Running, delay: number): void {
    if (this.stopped) return;
    clearTimeout(r.timer);
    // Referenced on purpose: the timers are what keeps a watching process alive.
    r.timer = setTimeout(() => void this.tick(r), delay);
  }

  private async acquire(): Promise<void> {
    if (this.inFlight < this.o.concurrency) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((res) => this.waiting.push(res));
    this.inFlight++;
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  private async tick(r: Running): Promise<void> {
    if (r.busy || this.stopped) return;
    r.busy = true;
    const t = r.target;
    let next = t.intervalMs;
    await this.acquire();
    try {
      const now = this.now();
      const hasSuspects = r.history.latest.some(
        (g) => !r.history.infos.get(g.id)?.idle && g.count >= this.detectors.growthMin / 5,
      );
      const plan = {
        leak: r.state.scrapes % this.o.leakEvery === 0,
        heap: (this.o.heapEvery ?? 0) > 0 && r.state.scrapes % this.o.heapEvery! === 0,
        debug2:
          hasSuspects &&
          now - r.state.lastDebug2 >= this.o.debug2IntervalMs &&
          (r.status.lastTotal ?? 0) <= this.o.debug2MaxGoroutines,
      };
      const s = await scrape(t, r.state, plan, this.o.scrape, this.now);
      this.o.store.addScrape(s);
      this.remember(r, s);
      r.status.state = 'ok';
      r.status.lastAt = s.at;
      r.status.lastTotal = s.total;
      r.status.lastDurationMs = s.durationMs;
      r.status.lastError = undefined;
      r.status.failures = 0;
      r.status.scrapes++;
      this.judge(r, s.at);
    } catch (err) {
      const msg = messageOf(err);
      const at = this.now();
      r.status.state = 'failing';
      r.status.failures++;
      r.status.lastError = msg;
      try {
        this.o.store.addError(t.name, at, msg);
      } catch (e) {
        this.o.log(`store: ${messageOf(e)}`);
      }
      // Log a failure streak once, then every tenth, so a dead target is visible, not noisy.
      if (r.status.failures === 1 || r.status.failures % 10 === 0) {
        this.o.log(`${t.name}: scrape failed (${r.status.failures}x): ${msg}`);
      }
      next = Math.min(t.intervalMs * 2 ** Math.min(r.status.failures, 4), t.intervalMs * 10);
    } finally {
      this.release();
      r.busy = false;
    }
    // ±10% jitter keeps targets from synchronising.
    this.schedule(r, next * (0.9 + Math.random() * 0.2));
  }

  private remember(r: Running, s: Awaited<ReturnType<typeof scrape>>): void {
    const h = r.history;
    const prev = h.totals[h.totals.length - 1];
    // A sharp drop is a restart: baselines start over after the warm-up.
    if (prev && s.total < prev.value * 0.5 && prev.value - s.total > 20) {
      h.since = s.at;
      h.normalPeak = undefined;
      h.groups.clear();
    }
    if (h.totals.length === 0) h.since = s.at;
    h.totals.push({ at: s.at, value: s.total });
    // Keep the growth window, and the baseline window until its peak is learnt.
    const d = this.detectors;
    const keep = h.normalPeak === undefined ? h.since : s.at - d.growthWindowMs * 2;
    while (h.totals.length > 0 && h.totals[0]!.at < keep) h.totals.shift();
    const seen = new Set<string>();
    for (const g of s.groups) {
      seen.add(g.id);
      const series = h.groups.get(g.id) ?? [];
      series.push({ at: s.at, value: g.count });
      while (series.length > 0 && series[0]!.at < s.at - this.detectors.growthWindowMs * 2)
        series.shift();
      h.groups.set(g.id, series);
    }
    // Groups that vanished: a zero point, so a shrinking group does not look frozen.
    for (const [id, series] of h.groups) {
      if (!seen.has(id)) {
        series.push({ at: s.at, value: 0 });
        if (series.every((p) => p.value === 0)) h.groups.delete(id);
      }
    }
    for (const i of s.infos) {
      const have = h.infos.get(i.id);
      h.infos.set(i.id, have ? { ...have, ...i, createdBy: i.createdBy ?? have.createdBy } : i);
    }
    h.latest = s.groups;
    if (s.heapInuse !== undefined) {
      const cut = s.at - this.detectors.growthWindowMs * 2;
      h.heap = [...(h.heap ?? []).filter((p) => p.at >= cut), { at: s.at, value: s.heapInuse }];
      const sites = h.heapSites ?? new Map<string, Point[]>();
      for (const x of s.heapSites ?? []) {
        sites.set(x.site, [
          ...(sites.get(x.site) ?? []).filter((p) => p.at >= cut),
          { at: s.at, value: x.bytes },
        ]);
      }
      h.heapSites = sites;
    }
    if (s.waits.size > 0) h.waits = s.waits;
  }

  /** Conditions → alerts and resolutions, with hysteresis. */
  private judge(r: Running, at: number): void {
    const conditions = evaluate(r.history, at, this.detectors);
    const present = new Map<string, Condition>();
    for (const c of conditions) present.set(`${r.target.name}|${c.detector}|${c.group ?? ''}`, c);
    for (const [key, c] of present) {
      const st = r.alerts.get(key) ?? { holds: 0, clears: 0, firing: false };
      st.holds++;
      st.clears = 0;
      st.last = c;
      if (!st.firing && st.holds >= this.detectors.fireAfter) {
        st.firing = true;
        this.o.publish(this.event('alert', key, r, c, at));
      }
      r.alerts.set(key, st);
    }
    for (const [key, st] of r.alerts) {
      if (present.has(key)) continue;
      st.holds = 0;
      st.clears++;
      if (st.firing && st.clears >= this.detectors.resolveAfter && st.last) {
        st.firing = false;
        this.o.publish(this.event('resolved', key, r, st.last, at));
      }
      if (!st.firing && st.clears >= this.detectors.resolveAfter) r.alerts.delete(key);
    }
    r.status.firing = [...r.alerts.entries()]
      .filter(([, s]) => s.firing)
      .map(([k]) => k.split('|').slice(1).join(' '));
    const g = r.history.totals;
    const first = g.find((p) => p.at >= at - this.detectors.growthWindowMs);
    const last = g[g.length - 1];
    if (first && last && last.at > first.at)
      r.status.trendPerMin = ((last.value - first.value) / (last.at - first.at)) * 60_000;
  }

  private event(
    type: AlertEvent['type'],
    key: string,
    r: Running,
    c: Condition,
    at: number,
  ): AlertEvent {
    const info = c.group ? r.history.infos.get(c.group) : undefined;
    const count = c.group
      ? (r.history.latest.find((g) => g.id === c.group)?.count ?? 0)
      : undefined;
    const e: AlertEvent = {
      type,
      key,
      target: r.target.name,
      detector: c.detector,
      at: new Date(at).toISOString(),
      summary: c.summary,
      evidence: c.evidence,
      labels: r.target.labels,
    };
    if (c.group) {
      e.group = { id: c.group, blockedOn: info?.blockedOn ?? 'unknown', count: count ?? 0 };
      if (info?.userFrame) e.group.userFrame = info.userFrame;
      if (info?.createdBy) e.group.createdBy = info.createdBy;
    }
    try {
      this.o.store.addAlert(e);
    } catch (err) {
      this.o.log(`store: ${messageOf(err)}`);
    }
    return e;
  }

  status(): TargetStatus[] {
    return [...this.running.values()].map((r) => r.status);
  }

  /** Latest groups of a target, largest first (for the API and the live view). */
  history(name: string): TargetHistory | undefined {
    return this.running.get(name)?.history;
  }

  stop(): void {
    this.stopped = true;
    for (const r of this.running.values()) clearTimeout(r.timer);
  }
}
