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
import { WriteSpool, type StoreHealth } from './spool.js';
import type { AlertEvent, GroupInfo, Point, Scrape, Store, Target } from './types.js';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../errors.js';
import { frameText } from '../model/frame.js';

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
  /** Most store writes kept in memory while the store refuses them (disk full). */
  spoolMax?: number;
  /** Links an alert's group to the source (`--source`), filling `e.link`, before it is sent. */
  link?: (e: AlertEvent, info: GroupInfo) => Promise<void>;
  /**
   * A fleet's decision (fleet.ts): records the event in the shared store and says whether this
   * watcher sends it. Without it, events are written through the spool and always sent.
   */
  decide?: (e: AlertEvent) => Promise<boolean>;
  /** The open alerts of a target just taken on, as read from the store (for the dispatcher). */
  restore?: (open: AlertEvent[]) => void;
  /** A target no longer watched here (reload, or a fleet handing it to another replica). */
  dropped?: (target: string) => void;
}

export interface TargetStatus {
  name: string;
  url: string;
  /** The target's labels (discovery's namespace, pod, job...), for the API and /metrics. */
  labels?: Record<string, string>;
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
  /**
   * The target's labels when the alert fired: its resolution carries the same ones even if the
   * target's changed meanwhile (a pod back under the same name, a new `instance`), because
   * Alertmanager tells alerts apart by their labels.
   */
  labels?: Record<string, string>;
}

interface Running {
  target: Target;
  state: TargetState;
  status: TargetStatus;
  history: TargetHistory;
  alerts: Map<string, AlertState>;
  timer?: NodeJS.Timeout;
  busy: boolean;
  /** History and open alerts loaded from the store; the first scrape waits for it. */
  ready: Promise<void>;
  /** Alert events of this target go out one after the other (a fleet's decision may wait). */
  emitting: Promise<void>;
}

export class Watcher {
  private readonly running = new Map<string, Running>();
  private readonly detectors: DetectorOptions;
  private readonly now: () => number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private stopped = false;
  /** Aborts every request in flight on stop(). */
  private readonly abort = new AbortController();
  private readonly spool: WriteSpool;
  /** Alerts that were firing when the last watcher on this store stopped, by key. */
  private restored?: Promise<Map<string, AlertEvent>>;
  /** setTargets ran once: targets added later read the open alerts afresh. */
  private begun = false;

  constructor(private readonly o: WatchOptions) {
    this.detectors = { ...DEFAULT_DETECTORS, ...o.detectors };
    this.now = o.now ?? Date.now;
    this.spool = new WriteSpool(o.log, o.spoolMax);
    // Every scrape in flight and every backoff sleep listens on this one signal; their number
    // is bounded by the concurrency limit and the target count, not a listener leak, so
    // Node's warning past 10 listeners would only be noise in the log.
    setMaxListeners(0, this.abort.signal);
  }

  /** The store's writes: failures, losses and what waits in memory. */
  storeHealth(): StoreHealth {
    return this.spool.health();
  }

  /**
   * Alerts still open in the store, from a watcher that stopped (or was killed) while they
   * fired. Each is taken back into its target's hysteresis state: still true, it is not sent
   * again; clear for `resolveAfter` evaluations, its `resolved` is sent.
   */
  private openAlerts(): Promise<Map<string, AlertEvent>> {
    this.restored ??= this.o.store.openAlerts().then(
      (open) => new Map(open.map((e) => [e.key, e])),
      (err: unknown) => {
        this.o.log(`store: cannot read open alerts (${messageOf(err)}); they may be sent again`);
        return new Map<string, AlertEvent>();
      },
    );
    return this.restored;
  }

  /** The open alerts restored from the store (for the dispatcher's dedupe and re-send). */
  async restoredAlerts(): Promise<AlertEvent[]> {
    return [...(await this.openAlerts()).values()];
  }

  /** Starts watching these targets; replaces the set on reload, keeping history of the rest. */
  setTargets(targets: Target[]): void {
    const names = new Set(targets.map((t) => t.name));
    for (const [name, r] of this.running) {
      if (!names.has(name)) {
        clearTimeout(r.timer);
        this.running.delete(name);
        this.o.dropped?.(name);
      }
    }
    // Targets taken on after the first set read the open alerts again: another watcher of a
    // fleet (or the one before a reload) may have opened or resolved some since the first read.
    let open: Promise<Map<string, AlertEvent>> | undefined;
    const openNow = (): Promise<Map<string, AlertEvent>> => {
      if (!this.begun) return this.openAlerts();
      open ??= this.o.store.openAlerts().then(
        (list) => new Map(list.map((e) => [e.key, e])),
        (err: unknown) => {
          this.o.log(`store: cannot read open alerts (${messageOf(err)}); they may be sent again`);
          return new Map<string, AlertEvent>();
        },
      );
      return open;
    };
    for (const t of targets) {
      const have = this.running.get(t.name);
      if (have) {
        // A pod that came back under the same name: new URL and labels, same history.
        if (!sameLabels(have.target.labels, t.labels)) this.saveLabels(t);
        have.target = t;
        have.status.url = t.url;
        have.status.labels = t.labels;
        continue;
      }
      const r: Running = {
        target: t,
        state: newTargetState(),
        status: {
          name: t.name,
          url: t.url,
          labels: t.labels,
          state: 'pending',
          failures: 0,
          scrapes: 0,
          firing: [],
        },
        history: emptyHistory(this.now()),
        alerts: new Map(),
        busy: false,
        ready: Promise.resolve(),
        emitting: Promise.resolve(),
      };
      r.ready = this.resume(r, openNow());
      this.running.set(t.name, r);
      if (Object.keys(t.labels).length > 0) this.saveLabels(t);
      // Spread first scrapes over the interval so 1,000 targets do not start at once.
      this.schedule(r, Math.random() * Math.min(t.intervalMs, 1000));
    }
    this.begun = true;
  }

  /**
   * History from the store, so a restart keeps its series, baseline, waits, heap and open
   * alerts. A store that cannot be read costs the history, never the watching.
   */
  private async resume(r: Running, open: Promise<Map<string, AlertEvent>>): Promise<void> {
    const name = r.target.name;
    const now = this.now();
    const d = this.detectors;
    const st = this.o.store;
    const h = r.history;
    try {
      const from = now - Math.max(d.baselineMs + d.warmupMs, d.growthWindowMs) * 2;
      const growthFrom = now - d.growthWindowMs * 2;
      h.totals = await st.totals(name, from, now);
      const latest = await st.latestGroups(name, 200);
      for (const g of latest) {
        h.groups.set(g.id, await st.groupSeries(name, g.id, growthFrom, now));
        if (g.info) h.infos.set(g.id, g.info);
      }
      h.latest = latest.map(({ id, count, leaked }) => ({ id, count, leaked }));
      const b = await st.baseline(name);
      h.since = b?.since ?? h.totals[0]?.at ?? now;
      if (b?.normalPeak !== undefined) h.normalPeak = b.normalPeak;
      const w = await st.latestWaits(name);
      if (w) h.waits = w.waits;
      const heap = await st.heapSeries(name, growthFrom, now);
      if (heap.length > 0) {
        h.heap = heap;
        h.heapSites = new Map(
          (await st.heapSites(name, growthFrom, now)).map((x) => [frameText(x.frame), x]),
        );
      }
    } catch (err) {
      this.o.log(`${name}: history not loaded from the store (${messageOf(err)})`);
    }
    const mine: AlertEvent[] = [];
    for (const [key, e] of await open) {
      if (e.target !== name) continue;
      mine.push(e);
      const c: Condition = {
        detector: e.detector as Condition['detector'],
        summary: e.summary,
        evidence: e.evidence,
      };
      if (e.group) c.group = e.group.id;
      r.alerts.set(key, {
        holds: this.detectors.fireAfter,
        clears: 0,
        firing: true,
        last: c,
        labels: e.labels,
      });
    }
    if (mine.length > 0) this.o.restore?.(mine);
    r.status.firing = firingOf(r);
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
    await r.ready;
    await this.acquire();
    try {
      if (this.stopped) return;
      const now = this.now();
      const hasSuspects = r.history.latest.some(
        (g) => !r.history.infos.get(g.id)?.idle && g.count >= this.detectors.growthMin / 5,
      );
      const plan = {
        leak: r.state.scrapes % this.o.leakEvery === 0,
        heap: (this.o.heapEvery ?? 0) > 0 && r.state.scrapes % this.o.heapEvery! === 0,
        debug2: hasSuspects && now - r.state.lastDebug2 >= this.o.debug2IntervalMs,
        debug2Max: this.o.debug2MaxGoroutines,
      };
      const s = await scrape(
        t,
        r.state,
        plan,
        { ...this.o.scrape, signal: this.abort.signal },
        this.now,
      );
      // Stopped while it ran: the store may be closing; the scrape is dropped, not written.
      if (this.stopped) return;
      // The store needs a group's info once, and again only when it changes (a creator learnt
      // from debug=2, another wait): sending every info on every scrape rewrote every group's
      // row per scrape, the same hot rows for all replicas of a service in a fleet.
      const fresh = {
        ...s,
        infos: s.infos.filter((i) => changedInfo(r.history.infos.get(i.id), i)),
      };
      await this.spool.write(`scrape of ${t.name}`, () => this.o.store.addScrape(fresh));
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
      if (this.stopped) return;
      await this.spool.write(`error of ${t.name}`, () => this.o.store.addError(t.name, at, msg));
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

  private remember(r: Running, s: Scrape): void {
    const h = r.history;
    const prev = h.totals[h.totals.length - 1];
    const before = { since: h.since, peak: h.normalPeak };
    // A sharp drop is a restart: baselines start over after the warm-up.
    if (prev && s.total < prev.value * 0.5 && prev.value - s.total > 20) {
      h.since = s.at;
      h.normalPeak = undefined;
      h.groups.clear();
    }
    if (h.totals.length === 0 && h.normalPeak === undefined) h.since = s.at;
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
    if (s.heap) {
      const cut = s.at - this.detectors.growthWindowMs * 2;
      h.heap = [...(h.heap ?? []).filter((p) => p.at >= cut), { at: s.at, value: s.heap.inuse }];
      const sites =
        h.heapSites ?? new Map<string, { frame: GroupInfo['frames'][number]; points: Point[] }>();
      for (const x of s.heap.sites) {
        const k = frameText(x.frame);
        const have = sites.get(k);
        sites.set(k, {
          frame: x.frame,
          points: [
            ...(have?.points ?? []).filter((p) => p.at >= cut),
            { at: s.at, value: x.bytes },
          ],
        });
      }
      h.heapSites = sites;
    }
    if (s.waits) h.waits = s.waits;
    if (h.since !== before.since || h.normalPeak !== before.peak) this.saveBaseline(r);
  }

  private saveLabels(t: Target): void {
    void this.spool.write(`labels of ${t.name}`, () =>
      this.o.store.setTargetLabels(t.name, t.labels),
    );
  }

  private saveBaseline(r: Running): void {
    const b: { since: number; normalPeak?: number } = { since: r.history.since };
    if (r.history.normalPeak !== undefined) b.normalPeak = r.history.normalPeak;
    void this.spool.write(`baseline of ${r.target.name}`, () =>
      this.o.store.setBaseline(r.target.name, b),
    );
  }

  /** Conditions → alerts and resolutions, with hysteresis. */
  private judge(r: Running, at: number): void {
    const peakBefore = r.history.normalPeak;
    const conditions = evaluate(r.history, at, this.detectors);
    if (r.history.normalPeak !== peakBefore) this.saveBaseline(r);
    const present = new Map<string, Condition>();
    for (const c of conditions) present.set(`${r.target.name}|${c.detector}|${c.group ?? ''}`, c);
    for (const [key, c] of present) {
      const st = r.alerts.get(key) ?? { holds: 0, clears: 0, firing: false };
      st.holds++;
      st.clears = 0;
      st.last = c;
      if (!st.firing && st.holds >= this.detectors.fireAfter) {
        st.firing = true;
        const e = this.event('alert', key, r, c, at);
        st.labels = e.labels;
        this.emit(e, r);
      }
      r.alerts.set(key, st);
    }
    for (const [key, st] of r.alerts) {
      if (present.has(key)) continue;
      st.holds = 0;
      st.clears++;
      if (st.firing && st.clears >= this.detectors.resolveAfter && st.last) {
        st.firing = false;
        const e = this.event('resolved', key, r, st.last, at);
        if (st.labels) e.labels = st.labels;
        this.emit(e, r);
      }
      if (!st.firing && st.clears >= this.detectors.resolveAfter) r.alerts.delete(key);
    }
    r.status.firing = firingOf(r);
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
      if (info?.holder) e.group.holder = info.holder;
      if (info?.createdBy) e.group.createdBy = info.createdBy;
    }
    return e;
  }

  /** Stores and publishes an event; an alert about a group is first linked to the source. */
  private emit(e: AlertEvent, r: Running): void {
    const out = (): void => {
      if (this.o.decide) {
        r.emitting = r.emitting.then(() => this.decided(e, r));
        return;
      }
      void this.spool.write(`alert ${e.key}`, () => this.o.store.addAlert(e));
      this.o.publish(e);
    };
    const info = e.group ? r.history.infos.get(e.group.id) : undefined;
    if (!this.o.link || e.type !== 'alert' || !info) return out();
    this.o.link(e, info).then(out, (err: unknown) => {
      this.o.log(`source link for ${e.key}: ${messageOf(err)}`);
      out();
    });
  }

  /**
   * A fleet's event: published once the shared store says this watcher is the one to send it.
   * While the store cannot decide, retried with backoff for as long as this watcher still
   * watches the target; once it moved to another replica, that one decides.
   */
  private async decided(e: AlertEvent, r: Running): Promise<void> {
    for (let wait = 500, tries = 1; ; wait = Math.min(wait * 2, 30_000), tries++) {
      if (this.stopped || this.running.get(r.target.name) !== r) {
        this.o.log(`${e.type} ${e.key} left to the fleet: this replica no longer watches it`);
        return;
      }
      try {
        if (await this.o.decide!(e)) this.o.publish(e);
        return;
      } catch (err) {
        if (tries === 1 || tries % 10 === 0)
          this.o.log(`${e.type} ${e.key} not sent yet (${messageOf(err)}); retrying`);
      }
      await sleep(wait, undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
  }

  status(): TargetStatus[] {
    return [...this.running.values()].map((r) => r.status);
  }

  /** Latest groups of a target, largest first (for the API and the live view). */
  history(name: string): TargetHistory | undefined {
    return this.running.get(name)?.history;
  }

  /** Stops scheduling and aborts every request in flight. */
  stop(): void {
    this.stopped = true;
    for (const r of this.running.values()) clearTimeout(r.timer);
    this.abort.abort();
    for (const w of this.waiting.splice(0)) w();
  }

  /** Writes still waiting in memory are tried once more (before the store closes). */
  async flush(): Promise<void> {
    await this.spool.flush();
  }
}

function emptyHistory(now: number): TargetHistory {
  return {
    totals: [],
    groups: new Map(),
    latest: [],
    infos: new Map(),
    waits: new Map(),
    since: now,
  };
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function firingOf(r: Running): string[] {
  return [...r.alerts.entries()]
    .filter(([, s]) => s.firing)
    .map(([k]) => k.split('|').slice(1).join(' '));
}

/** Whether `i` tells the store something `have` (what it was last given) does not. */
function changedInfo(have: GroupInfo | undefined, i: GroupInfo): boolean {
  if (!have) return true;
  const same = (a: GroupInfo['holder'], b: GroupInfo['holder']): boolean =>
    a === b || (a !== undefined && b !== undefined && frameText(a) === frameText(b));
  return (
    have.blockedOn !== i.blockedOn ||
    have.idle !== i.idle ||
    have.holderOwner !== i.holderOwner ||
    !same(have.holder, i.holder) ||
    (i.createdBy !== undefined && !same(have.createdBy, i.createdBy)) ||
    have.frames.length !== i.frames.length
  );
}
