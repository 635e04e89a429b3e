/**
 * The shapes `leakwatch watch` passes between its parts. Storage, target discovery and alert
 * delivery sit behind the narrow interfaces here, so a fleet can swap SQLite for PostgreSQL,
 * a config file for Kubernetes discovery, and the built-in sinks for Alertmanager alone.
 */

import type { BlockKind } from '../analysis/blocking.js';
import type { FrameOwner } from '../analysis/frames.js';
import type { linkJson } from '../link/render.js';
import type { Frame } from '../model/frame.js';
import type { WaitCounts } from './waits.js';

/** A service to watch. */
export interface Target {
  /** Unique, stable name (history is keyed on it). */
  name: string;
  /** Base URL of its net/http/pprof (`http://host:6060`); paths are added by the scraper. */
  url: string;
  labels: Record<string, string>;
  intervalMs: number;
  /** Credentials, taken from environment variables at load; never logged. */
  auth?: { kind: 'bearer'; token: string } | { kind: 'basic'; user: string; password: string };
  tls?: { insecureSkipVerify?: boolean; caFile?: string };
}

/** One stack group as a scrape saw it. */
export interface GroupCount {
  /** The group identity (analysis/group.ts: groupId(identityKey(frames))), as analyze prints it. */
  id: string;
  count: number;
  /** The runtime proved these leaked (goroutineleak profile). */
  leaked: number;
}

/** What the watcher knows about a group, beyond its count: stored once per group. */
export interface GroupInfo {
  id: string;
  /** The stack below the runtime's own frames on top, innermost first. */
  frames: Frame[];
  /** The frame that holds it: the first of the user's code, else a library's, else stdlib. */
  holder?: Frame;
  /** Whose code `holder` is. */
  holderOwner?: FrameOwner;
  /** The most common creation site (known from debug=2 dumps, not from protobuf). */
  createdBy?: Frame;
  blockedOn: BlockKind;
  /** Idle by design (runtime, servers...), with the reason. */
  idle?: string;
}

/** Bytes in use at one allocation site (the first frame outside the runtime). */
interface HeapSite {
  frame: Frame;
  bytes: number;
}

/** One successful scrape of one target. */
export interface Scrape {
  target: string;
  /** Milliseconds since the epoch, by the watcher's clock (never the target's). */
  at: number;
  total: number;
  groups: GroupCount[];
  /** Groups seen for the first time (or with better info, e.g. a creator from debug=2). */
  infos: GroupInfo[];
  durationMs: number;
  /** Which form was fetched: `proto`, `debug2`, `leak-proto`... */
  source: string;
  /** Longest wait per group in whole minutes, when a debug=2 dump was read this round. */
  waits?: Map<string, number>;
  /**
   * Per group, its goroutines per wait bucket (watch/waits.ts WAIT_BUCKETS, by index), when a
   * debug=2 dump was read this round; set (maybe empty) marks the scrape as one with a dump.
   */
  waitBuckets?: Map<string, number[]>;
  /** The heap profile, when it was scraped this round. */
  heap?: { inuse: number; sites: HeapSite[] };
}

/** One stored scrape's groups: when it was taken, its total, its groups with their info. */
export interface ScrapeGroups {
  at: number;
  total: number;
  groups: (GroupCount & { info?: GroupInfo })[];
}

/** A point of a series. */
export interface Point {
  at: number;
  value: number;
}

/** What the peak detector learnt about a target; kept so a restart does not relearn it. */
export interface Baseline {
  /** Start of the current life of the target (first scrape, or its last restart). */
  since: number;
  /** The normal peak, once the baseline window has passed. */
  normalPeak?: number;
}

/**
 * Where history lives. The embedded default is SQLite (store/sqlite.ts); a fleet's is
 * PostgreSQL. Every method is async so either can sit behind it; every write is one
 * transaction: a crash loses at most the scrape in flight. test/store-conformance.ts pins the
 * contract: every store must pass it.
 */
export interface Store {
  /** Records a scrape: totals, group counts, new infos, waits (longest, per bucket), heap sites. */
  addScrape(s: Scrape): Promise<void>;
  /** Records a failed scrape, so failures are visible in history and the API. */
  addError(target: string, at: number, error: string): Promise<void>;
  errors(target: string, from: number, to: number): Promise<{ at: number; error: string }[]>;
  /** Total goroutines of a target over [from, to]. */
  totals(target: string, from: number, to: number): Promise<Point[]>;
  /** Count of one group of a target over [from, to]. */
  groupSeries(target: string, group: string, from: number, to: number): Promise<Point[]>;
  /** The groups of a target's latest scrape, largest first, with their info. */
  latestGroups(target: string, limit: number): Promise<(GroupCount & { info?: GroupInfo })[]>;
  /**
   * The groups of the target's scrape nearest to `at` (the earlier one on a tie), largest
   * first, with their info: the dashboard's compare and flame view of a past moment.
   */
  groupsAt(target: string, at: number, limit: number): Promise<ScrapeGroups | undefined>;
  groupInfo(id: string): Promise<GroupInfo | undefined>;
  /** The waits of the target's latest scrape that carried them (group id → minutes). */
  latestWaits(target: string): Promise<{ at: number; waits: Map<string, number> } | undefined>;
  /**
   * One group's goroutines per wait bucket at the first and at the last scrape of the target in
   * [from, to] that read a debug=2 dump (the same scrape twice when there is one); counts all 0
   * when the group was not in that dump. Undefined when no scrape in the range read a dump.
   */
  groupWaits(
    target: string,
    group: string,
    from: number,
    to: number,
  ): Promise<{ first: WaitCounts; last: WaitCounts } | undefined>;
  /** Heap in use over [from, to]. */
  heapSeries(target: string, from: number, to: number): Promise<Point[]>;
  /** Bytes per allocation site over [from, to], by site. */
  heapSites(target: string, from: number, to: number): Promise<{ frame: Frame; points: Point[] }[]>;
  baseline(target: string): Promise<Baseline | undefined>;
  setBaseline(target: string, b: Baseline): Promise<void>;
  /** Targets with history, the time of their last scrape, and their labels as last set. */
  targets(): Promise<
    { name: string; lastAt: number; lastTotal: number; labels: Record<string, string> }[]
  >;
  /**
   * A target's labels (namespace, pod, team...), replacing those set before: kept with its
   * history, so the API and dashboard can say which service a name is after its pod is gone.
   */
  setTargetLabels(target: string, labels: Record<string, string>): Promise<void>;
  /** Open and resolved alerts, newest first. */
  alerts(limit: number): Promise<AlertEvent[]>;
  /** Alerts still firing: the newest event of their key is an `alert`. */
  openAlerts(): Promise<AlertEvent[]>;
  addAlert(e: AlertEvent): Promise<void>;
  /** Drops detail older than the retention window (downsampling what it keeps); true once caught up. */
  prune(now: number): Promise<boolean>;
  close(): Promise<void>;
}

/** An alert or its resolution, as every sink receives it. */
export interface AlertEvent {
  type: 'alert' | 'resolved';
  /** Same for an alert and its resolution: target + detector + group. Sinks dedupe on it. */
  key: string;
  target: string;
  /** `peak` (1.5x normal peak), `growth` (one group keeps growing), `stuck`, `leaked`, `heap`. */
  detector: string;
  /** ISO time. */
  at: string;
  /** One line a human can act on: what, where, how fast. */
  summary: string;
  group?: {
    id: string;
    /** The frame that holds the group (first of the user's code, else a library's). */
    holder?: Frame;
    createdBy?: Frame;
    blockedOn: string;
    count: number;
  };
  /** The numbers behind it: counts over time, slope, threshold, projection. */
  evidence: Record<string, unknown>;
  /** With `watch --source`: the group's source lines and the lint findings that explain it. */
  link?: ReturnType<typeof linkJson>;
  labels: Record<string, string>;
}

/** Where alerts go. A failing sink is retried and logged; it never stops the watching. */
export interface AlertSink {
  readonly name: string;
  send(e: AlertEvent): Promise<void>;
}

/** What a replica says of itself at each heartbeat. */
export interface ReplicaBeat {
  id: string;
  /** This process's incarnation (random at start). */
  token: string;
  host: string;
  pid: number;
  /** Targets it owns now (shown by /api/fleet). */
  owned: number;
}

/** A live replica of a fleet (fleet.ts), as the database sees it (ms since the epoch, its clock). */
export interface Replica {
  id: string;
  host: string;
  pid: number;
  owned: number;
  started: number;
  lastSeen: number;
}
