/**
 * The shapes `leakwatch watch` passes between its parts. Storage, target discovery and alert
 * delivery sit behind the narrow interfaces here, so a fleet can swap SQLite for PostgreSQL,
 * a config file for Kubernetes discovery, and the built-in sinks for Alertmanager alone.
 */

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
  /** Stable id of the stack signature (analysis/group.ts groupId). */
  id: string;
  count: number;
  /** The runtime proved these leaked (goroutineleak profile). */
  leaked: number;
}

/** What the watcher knows about a group, beyond its count: stored once per group. */
export interface GroupInfo {
  id: string;
  /** Innermost frame of user code: `func file:line`. */
  userFrame?: string;
  /** Creation site: `func file:line` (known from debug=2 dumps, not from protobuf). */
  createdBy?: string;
  blockedOn: string;
  /** The whole stack, one `func file:line` per line, innermost first. */
  stack: string;
  /** Idle by design (runtime, servers...), with the reason. */
  idle?: string;
}

/** One successful scrape of one target. */
export interface Scrape {
  target: string;
  /** Milliseconds since the epoch. */
  at: number;
  total: number;
  groups: GroupCount[];
  /** Groups seen for the first time (or with better info, e.g. a creator from debug=2). */
  infos: GroupInfo[];
  durationMs: number;
  /** Which form was fetched: `proto`, `debug2`, `leak-proto`... */
  source: string;
  /** Heap in-use bytes, when the heap profile was scraped this round. */
  heapInuse?: number;
}

/** A point of a series. */
export interface Point {
  at: number;
  value: number;
}

/**
 * Where history lives. The embedded default is SQLite (store/sqlite.ts); a fleet's would be
 * PostgreSQL. Every write is one transaction: a crash loses at most the scrape in flight.
 */
export interface Store {
  /** Records a scrape: its totals, per-group counts, and any new group infos. */
  addScrape(s: Scrape): void;
  /** Records a failed scrape, so failures are visible in history and the API. */
  addError(target: string, at: number, error: string): void;
  /** Total goroutines of a target over [from, to]. */
  totals(target: string, from: number, to: number): Point[];
  /** Count of one group of a target over [from, to]. */
  groupSeries(target: string, group: string, from: number, to: number): Point[];
  /** The groups of a target's latest scrape, largest first, with their info. */
  latestGroups(target: string, limit: number): (GroupCount & { info?: GroupInfo })[];
  groupInfo(id: string): GroupInfo | undefined;
  /** Targets with history, and the time of their last scrape. */
  targets(): { name: string; lastAt: number; lastTotal: number }[];
  /** Open and resolved alerts, newest first. */
  alerts(limit: number): AlertEvent[];
  addAlert(e: AlertEvent): void;
  /** Drops detail older than the retention window (downsampling what it keeps). */
  prune(now: number): void;
  close(): void;
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
    userFrame?: string;
    createdBy?: string;
    blockedOn: string;
    count: number;
  };
  /** The numbers behind it: counts over time, slope, threshold, projection. */
  evidence: Record<string, unknown>;
  labels: Record<string, string>;
}

/** Where alerts go. A failing sink is retried and logged; it never stops the watching. */
export interface AlertSink {
  readonly name: string;
  send(e: AlertEvent): Promise<void>;
}
