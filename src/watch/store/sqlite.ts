/**
 * The embedded history of `leakwatch watch`: one SQLite file (better-sqlite3, synchronous).
 *
 * - Durability: WAL journal, `synchronous=NORMAL`. Every addScrape is one transaction; a process
 *   killed at any moment (kill -9) loses at most the scrape in flight and never corrupts the
 *   file, because a transaction is in the WAL (the OS's page cache) once COMMIT returns. FULL
 *   would also survive power loss of the last commits, at an fsync per scrape; see
 *   docs/watch-storage.md for the measured cost. `synchronous: 'full'` selects it.
 * - Refusals (UserError, one line naming the file): a path that is not a writable regular file
 *   in a writable directory, a file that is not SQLite, a SQLite file that is not ours, a
 *   leakwatch file from a newer schema.
 * - Schema and migrations: ./schema.ts. One writer per file (caches assume it); readers in other
 *   processes are fine (WAL).
 * - Retention: `prune(now)`, defaults in DEFAULT_RETENTION below and docs/watch-storage.md.
 */
import Database from 'better-sqlite3';
import { accessSync, constants, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserError } from '../../errors.js';
import type { Frame } from '../../model/frame.js';
import type {
  AlertEvent,
  Baseline,
  GroupCount,
  GroupInfo,
  Point,
  Scrape,
  ScrapeGroups,
  Store,
} from '../types.js';
import { alertFromRow, countFromRow, type AlertRowValues, asFrame, infoFromRow } from './rows.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { WAIT_BUCKETS, type WaitCounts } from '../waits.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * What `prune(now)` keeps. Snapshots are kept whole (the total and every group count of one real
 * scrape); downsampling keeps, per target and bucket, the snapshot with the largest total (so
 * the peaks the `peak` detector learns from survive), carrying the bucket's largest heap figure
 * onto it when it has none.
 */
export interface Retention {
  /** Every scrape is kept for this long. Default 24 h. */
  detailMs: number;
  /** After that, one snapshot per this bucket... Default 5 min. */
  mediumBucketMs: number;
  /** ...until this age. Default 30 days. */
  mediumMs: number;
  /** After that, one snapshot per this bucket (a multiple of mediumBucketMs). Default 1 h. */
  coarseBucketMs: number;
  /** Snapshots older than this are deleted. Default 400 days. */
  maxAgeMs: number;
  /**
   * Size cap on the live pages of the file. Default 1 GiB. Over it, prune sacrifices resolution
   * before history, oldest first: full detail is downsampled to the medium bucket, then medium
   * to coarse, then the oldest snapshots are deleted; the last hour (or detailMs, if shorter) is
   * never touched. When the file itself is over the cap, freed pages are returned to the
   * filesystem. Infinity: no cap.
   */
  maxBytes: number;
  /** Scrape errors kept for this long. Default 30 days. */
  errorsMs: number;
  /** Alert events kept for this long, except an alert still open (its key's latest event). Default 400 days. */
  alertsMs: number;
}

const DEFAULT_RETENTION: Readonly<Retention> = Object.freeze({
  detailMs: DAY,
  mediumBucketMs: 5 * MINUTE,
  mediumMs: 30 * DAY,
  coarseBucketMs: HOUR,
  maxAgeMs: 400 * DAY,
  maxBytes: 1024 ** 3,
  errorsMs: 30 * DAY,
  alertsMs: 400 * DAY,
});

export interface SqliteStoreOptions {
  retention?: Partial<Retention>;
  /** `normal` (default): survives kill -9 of the process; `full`: also power loss (fsync per commit). */
  synchronous?: 'normal' | 'full';
  /** How long one prune() call may work (after its first chunk) before it stops, to resume at the next call. Default 100 ms. */
  pruneBudgetMs?: number;
  /**
   * Claim the file for this process (a watcher): a second live claimant is refused with a
   * UserError naming the holder. A claim whose process is gone (same host) or whose heartbeat
   * is older than OWNER_STALE_MS (another host) is taken over.
   */
  exclusive?: boolean;
}

/** A claim not renewed for this long is abandoned (renewed on every prune, every ~15 s). */
const OWNER_STALE_MS = 2 * 60_000;

/** The part of the recent history a stored last_seen may lag behind (see collectGroups). */
const LAST_SEEN_SLACK = HOUR;
/** Size-cap enforcement never touches snapshots this recent. */
const CAP_KEEP_MS = HOUR;
/** prune() works in transactions of about this long each. */
const PRUNE_CHUNK_MS = 20;

interface GroupEntry {
  id: number;
  lastSeen: number;
  /** Fingerprint of the info last written, so a repeated info costs no write. */
  fp?: string;
}

interface GroupRow {
  gid: string;
  user_frame: string | null;
  created_by: string | null;
  blocked_on: string | null;
  stack: string | null;
  idle: string | null;
  holder_owner: string | null;
}

/** An alert row as SQLite keeps it: the frames, evidence and labels as JSON text. */
type AlertRow = Omit<
  AlertRowValues,
  'group_holder' | 'group_created_by' | 'evidence' | 'labels'
> & {
  group_user_frame: string | null;
  group_created_by: string | null;
  evidence: string;
  labels: string;
};

/** Opens (creating or migrating) the leakwatch database at `path`; `:memory:` for a scratch one. */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, opts);
}

export class SqliteStore implements Store {
  readonly path: string;
  readonly retention: Readonly<Retention>;
  private readonly db: Database.Database;
  private readonly targetIds = new Map<string, number>();
  private readonly groups = new Map<string, GroupEntry>();
  private readonly q: ReturnType<typeof prepare>;
  private readonly addTx: (s: Scrape) => void;
  private readonly errorTx: (target: string, at: number, error: string) => void;
  private readonly pruneBudgetMs: number;
  private lastOptimize = 0;
  /** Chunks that found work in the current prune() call: the first one ignores the deadline. */
  private chunks = 0;
  /** Units per prune transaction, adapted to take about PRUNE_CHUNK_MS. */
  private readonly chunkSize = { pairs: 64, rows: 1024 };
  private claimed = false;
  private readonly siteIds = new Map<string, number>();

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    this.path = path;
    const given = Object.entries(opts.retention ?? {}).filter(([, v]) => v !== undefined);
    this.retention = checkRetention({ ...DEFAULT_RETENTION, ...Object.fromEntries(given) });
    this.pruneBudgetMs = opts.pruneBudgetMs ?? 100;
    checkPath(path);
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      open(db, path, opts.synchronous ?? 'normal');
    } catch (err) {
      db?.close();
      throw asUserError(err, path);
    }
    this.db = db;
    this.q = prepare(db);
    if (opts.exclusive) {
      try {
        this.claim();
      } catch (err) {
        db.close();
        throw asUserError(err, path);
      }
      this.claimed = true;
    }
    this.addTx = db.transaction((s: Scrape) => this.write(s)).immediate;
    this.errorTx = db.transaction((target: string, at: number, error: string) => {
      this.q.errorAdd.run(this.targetId(target, true), at, error);
    }).immediate;
  }

  /**
   * Takes the file for this process, in one IMMEDIATE transaction so two watchers starting at
   * once cannot both win.
   */
  private claim(): void {
    const me = { host: hostname(), pid: process.pid };
    this.db
      .transaction(() => {
        const o = this.q.ownerGet.get() as
          { host: string; pid: number; started: number; heartbeat: number } | undefined;
        const now = Date.now();
        if (o && !(o.host === me.host && o.pid === me.pid)) {
          const alive = o.host === me.host ? pidAlive(o.pid) : now - o.heartbeat < OWNER_STALE_MS;
          if (alive)
            throw new UserError(
              `${this.path}: already in use by another leakwatch watch (pid ${o.pid} on ${o.host}, since ${new Date(o.started).toISOString()}); give each watcher its own --db`,
            );
        }
        this.q.ownerPut.run({ ...me, started: now, heartbeat: now });
      })
      .immediate();
  }

  async addScrape(s: Scrape): Promise<void> {
    if (!Number.isFinite(s.at)) throw new Error(`addScrape: bad time ${s.at}`);
    try {
      this.addTx(s);
    } catch (err) {
      // Ids and fingerprints cached during a rolled-back transaction may not exist: forget them.
      this.forget();
      throw err;
    }
  }

  private write(s: Scrape): void {
    const target = this.targetId(s.target, true)!;
    for (const info of s.infos) this.putInfo(info, s.at);
    const snapshot = Number(
      this.q.snapAdd.run(
        target,
        s.at,
        s.total,
        s.source,
        s.durationMs,
        s.heap?.inuse ?? null,
        s.waits && s.waits.size > 0 ? 1 : 0,
        s.waitBuckets ? 1 : 0,
      ).lastInsertRowid,
    );
    for (const [gid, minutes] of s.waits ?? [])
      this.q.waitAdd.run(snapshot, this.groupEntry(gid, s.at).id, minutes);
    for (const [gid, counts] of s.waitBuckets ?? []) {
      const grp = this.groupEntry(gid, s.at).id;
      counts.forEach((n, bucket) => {
        if (n > 0) this.q.bucketAdd.run(snapshot, grp, bucket, n);
      });
    }
    for (const site of s.heap?.sites ?? [])
      this.q.heapAdd.run(snapshot, this.siteId(site.frame), site.bytes);
    for (const g of s.groups) {
      if (g.count === 0 && g.leaked === 0) continue;
      const e = this.groupEntry(g.id, s.at);
      if (s.at > e.lastSeen + LAST_SEEN_SLACK) {
        this.q.groupSeen.run({ at: s.at, id: e.id });
        e.lastSeen = s.at;
      }
      this.q.countAdd.run(snapshot, e.id, g.count, g.leaked);
    }
  }

  private targetId(name: string, create: boolean): number | undefined {
    let id = this.targetIds.get(name);
    if (id !== undefined) return id;
    id = this.q.targetGet.get(name) as number | undefined;
    if (id === undefined) {
      if (!create) return undefined;
      id = Number(this.q.targetAdd.run(name).lastInsertRowid);
    }
    this.targetIds.set(name, id);
    return id;
  }

  private siteId(f: Frame): number {
    const key = JSON.stringify(frameJson(f));
    let id = this.siteIds.get(key);
    if (id === undefined) {
      id = this.q.siteGet.get(key) as number | undefined;
      if (id === undefined) id = Number(this.q.siteAdd.run(key).lastInsertRowid);
      this.siteIds.set(key, id);
    }
    return id;
  }

  private groupEntry(gid: string, at: number): GroupEntry {
    let e = this.groups.get(gid);
    if (e) return e;
    e = this.q.groupGet.get(gid) as GroupEntry | undefined;
    if (!e) e = this.q.groupAdd.get(gid, at, at) as GroupEntry;
    this.groups.set(gid, e);
    return e;
  }

  /**
   * Stores what is known about a group. A later info replaces the stored one, except that it
   * never loses a creator or user frame learnt before, and an info without a creator (from a
   * protobuf profile) does not override one with a creator (from a debug=2 dump).
   */
  private putInfo(info: GroupInfo, at: number): void {
    const fp = fingerprint(info);
    const have = this.groups.get(info.id);
    if (have && have.fp === fp) return;
    const e = this.q.groupPut.get({
      gid: info.id,
      userFrame: info.holder ? JSON.stringify(frameJson(info.holder)) : null,
      holderOwner: info.holderOwner ?? null,
      createdBy: info.createdBy ? JSON.stringify(frameJson(info.createdBy)) : null,
      blockedOn: info.blockedOn,
      stack: JSON.stringify(info.frames.map(frameJson)),
      idle: info.idle ?? null,
      at,
    }) as GroupEntry;
    e.fp = fp;
    this.groups.set(info.id, e);
  }

  async addError(target: string, at: number, error: string): Promise<void> {
    try {
      this.errorTx(target, at, error);
    } catch (err) {
      this.forget();
      throw err;
    }
  }

  async addAlert(e: AlertEvent): Promise<void> {
    const atMs = Date.parse(e.at);
    this.q.alertAdd.run({
      key: e.key,
      type: e.type,
      target: e.target,
      detector: e.detector,
      at: e.at,
      atMs: Number.isFinite(atMs) ? atMs : Date.now(),
      summary: e.summary,
      groupId: e.group?.id ?? null,
      groupUserFrame: e.group?.holder ? JSON.stringify(frameJson(e.group.holder)) : null,
      groupCreatedBy: e.group?.createdBy ? JSON.stringify(frameJson(e.group.createdBy)) : null,
      groupBlockedOn: e.group?.blockedOn ?? null,
      groupCount: e.group?.count ?? null,
      evidence: JSON.stringify(e.evidence ?? {}),
      labels: JSON.stringify(e.labels ?? {}),
    });
  }

  async totals(target: string, from: number, to: number): Promise<Point[]> {
    const id = this.targetId(target, false);
    if (id === undefined) return [];
    return this.q.totals.all(id, from, to) as Point[];
  }

  /** One point per snapshot of the target in [from, to]; 0 where the group was absent. */
  async groupSeries(target: string, group: string, from: number, to: number): Promise<Point[]> {
    const id = this.targetId(target, false);
    const g = this.q.groupGet.get(group) as GroupEntry | undefined;
    if (id === undefined || !g) return [];
    return this.q.series.all(g.id, id, from, to) as Point[];
  }

  async latestGroups(
    target: string,
    limit: number,
  ): Promise<(GroupCount & { info?: GroupInfo })[]> {
    const id = this.targetId(target, false);
    if (id === undefined) return [];
    const snapshot = this.q.latestSnapshot.get(id) as number | undefined;
    if (snapshot === undefined) return [];
    const rows = this.q.latestCounts.all(snapshot, limit) as (GroupRow & {
      count: number;
      leaked: number;
    })[];
    return rows.map((r) => countFromRow(r, toInfo(r)));
  }

  async groupsAt(target: string, at: number, limit: number): Promise<ScrapeGroups | undefined> {
    const id = this.targetId(target, false);
    if (id === undefined || Number.isNaN(at)) return undefined;
    type Snap = { id: number; at: number; total: number };
    const before = this.q.snapshotBefore.get(id, at) as Snap | undefined;
    const after = this.q.snapshotAfter.get(id, at) as Snap | undefined;
    const snap = before && (!after || at - before.at <= after.at - at) ? before : (after ?? before);
    if (!snap) return undefined;
    const rows = this.q.latestCounts.all(snap.id, Math.max(0, Math.floor(limit))) as (GroupRow & {
      count: number;
      leaked: number;
    })[];
    return { at: snap.at, total: snap.total, groups: rows.map((r) => countFromRow(r, toInfo(r))) };
  }

  async groupInfo(id: string): Promise<GroupInfo | undefined> {
    const r = this.q.groupInfo.get(id) as GroupRow | undefined;
    return r && toInfo(r);
  }

  async latestWaits(
    target: string,
  ): Promise<{ at: number; waits: Map<string, number> } | undefined> {
    const id = this.targetId(target, false);
    if (id === undefined) return undefined;
    const snap = this.q.latestWaitSnapshot.get(id) as { id: number; at: number } | undefined;
    if (!snap) return undefined;
    const rows = this.q.waits.all(snap.id) as { gid: string; minutes: number }[];
    return { at: snap.at, waits: new Map(rows.map((r) => [r.gid, r.minutes])) };
  }

  async groupWaits(
    target: string,
    group: string,
    from: number,
    to: number,
  ): Promise<{ first: WaitCounts; last: WaitCounts } | undefined> {
    const id = this.targetId(target, false);
    if (id === undefined || Number.isNaN(from) || Number.isNaN(to)) return undefined;
    type Snap = { id: number; at: number };
    const first = this.q.firstDump.get(id, from, to) as Snap | undefined;
    const last = this.q.lastDump.get(id, from, to) as Snap | undefined;
    if (!first || !last) return undefined;
    const grp = (this.q.groupGet.get(group) as GroupEntry | undefined)?.id;
    const countsAt = (snap: Snap): WaitCounts => {
      const counts = WAIT_BUCKETS.map(() => 0);
      if (grp !== undefined)
        for (const r of this.q.buckets.all(snap.id, grp) as { bucket: number; count: number }[])
          if (r.bucket < counts.length) counts[r.bucket] = r.count;
      return { at: snap.at, counts };
    };
    return { first: countsAt(first), last: countsAt(last) };
  }

  async heapSeries(target: string, from: number, to: number): Promise<Point[]> {
    const id = this.targetId(target, false);
    if (id === undefined) return [];
    return this.q.heapSeries.all(id, from, to) as Point[];
  }

  async heapSites(
    target: string,
    from: number,
    to: number,
  ): Promise<{ frame: Frame; points: Point[] }[]> {
    const id = this.targetId(target, false);
    if (id === undefined) return [];
    const rows = this.q.heapSites.all(id, from, to) as {
      frame: string;
      at: number;
      bytes: number;
    }[];
    const by = new Map<string, { frame: Frame; points: Point[] }>();
    for (const r of rows) {
      let e = by.get(r.frame);
      if (!e) {
        e = { frame: asFrame(parseJson(r.frame))!, points: [] };
        by.set(r.frame, e);
      }
      e.points.push({ at: r.at, value: r.bytes });
    }
    return [...by.values()];
  }

  async baseline(target: string): Promise<Baseline | undefined> {
    const id = this.targetId(target, false);
    if (id === undefined) return undefined;
    const r = this.q.baselineGet.get(id) as
      { since: number; normal_peak: number | null } | undefined;
    if (!r) return undefined;
    const b: Baseline = { since: r.since };
    if (r.normal_peak !== null) b.normalPeak = r.normal_peak;
    return b;
  }

  async setBaseline(target: string, b: Baseline): Promise<void> {
    const id = this.targetId(target, true)!;
    this.q.baselinePut.run(id, b.since, b.normalPeak ?? null);
  }

  async openAlerts(): Promise<AlertEvent[]> {
    return (this.q.openAlerts.all() as AlertRow[]).map(toAlert);
  }

  async targets(): Promise<
    { name: string; lastAt: number; lastTotal: number; labels: Record<string, string> }[]
  > {
    const rows = this.q.targets.all() as {
      name: string;
      lastAt: number;
      lastTotal: number;
      labels: string | null;
    }[];
    return rows.map((r) => ({ ...r, labels: labelsOf(r.labels) }));
  }

  async setTargetLabels(target: string, labels: Record<string, string>): Promise<void> {
    this.q.targetLabels.run(JSON.stringify(labels), this.targetId(target, true)!);
  }

  /** Failed scrapes of a target over [from, to], oldest first. */
  async errors(target: string, from: number, to: number): Promise<{ at: number; error: string }[]> {
    const id = this.targetId(target, false);
    if (id === undefined) return [];
    return this.q.errors.all(id, from, to) as { at: number; error: string }[];
  }

  async alerts(limit: number): Promise<AlertEvent[]> {
    return (this.q.alerts.all(limit) as AlertRow[]).map(toAlert);
  }

  /** Bytes of the file, and of its pages in use (what the size cap limits). */
  stats(): { fileBytes: number; usedBytes: number } {
    const pageSize = this.pragma('page_size');
    return {
      fileBytes: this.pragma('page_count') * pageSize,
      usedBytes: this.usedBytes(),
    };
  }

  /**
   * Applies the retention policy as of `now` (ms): oldest work first, in transactions sized to
   * take about PRUNE_CHUNK_MS each, stopping after `pruneBudgetMs` (default 100 ms) so that a
   * backlog (the first prune after days down, a lowered cap, a thousand targets) never stalls
   * the watcher's event loop for long. Call it every 30 s or so; it returns true once it has
   * caught up. In steady state a call does what aged since the last one.
   */
  async prune(now: number): Promise<boolean> {
    return this.pruneNow(now);
  }

  /** prune(), synchronously (benchmarks and tests time it). */
  pruneNow(now: number): boolean {
    const r = this.retention;
    if (this.claimed) this.q.ownerBeat.run(Date.now(), process.pid);
    const deadline = performance.now() + this.pruneBudgetMs;
    this.chunks = 0;
    const medium = r.mediumBucketMs;
    const coarse = r.coarseBucketMs;
    const done =
      this.downsample(1, medium, floorTo(now - r.detailMs, medium), deadline) &&
      this.downsample(2, coarse, floorTo(now - r.mediumMs, coarse), deadline) &&
      this.deleteBefore(now - r.maxAgeMs, deadline) &&
      this.enforceCap(now, deadline);
    this.db
      .transaction(() => {
        this.q.errorsPrune.run(now - r.errorsMs);
        this.q.alertsPrune.run(now - r.alertsMs);
      })
      .immediate();
    this.collectGroups();
    const shrunk = done && this.shrinkFile(deadline);
    if (now - this.lastOptimize > 6 * HOUR) {
      this.db.pragma('optimize');
      this.lastOptimize = now;
    }
    return shrunk;
  }

  /** The query plan of every statement (for tests and benchmarks: no full scans). */
  plans(): { name: string; plan: string }[] {
    const out: { name: string; plan: string }[] = [];
    for (const [name, st] of Object.entries(this.q)) {
      const named = [...st.source.matchAll(/@(\w+)/g)].map((m) => [m[1], 0]);
      const args =
        named.length > 0
          ? [Object.fromEntries(named)]
          : st.source
              .split('?')
              .slice(1)
              .map(() => 0);
      const rows = this.db.prepare(`EXPLAIN QUERY PLAN ${st.source}`).all(...args) as {
        detail: string;
      }[];
      out.push({ name, plan: rows.map((r) => r.detail).join(' | ') });
    }
    return out;
  }

  async close(): Promise<void> {
    this.closeNow();
  }

  closeNow(): void {
    if (!this.db.open) return;
    try {
      if (this.claimed) this.q.ownerDrop.run(process.pid);
      this.db.pragma('optimize');
    } catch {
      // A full or read-only disk must not keep the process from closing the file.
    }
    this.db.close();
  }

  /**
   * Runs `work(n)` (one transaction over at most n units, returning how many it found) until it
   * finds none or `more()` fails; n adapts so a chunk takes about PRUNE_CHUNK_MS. False when the
   * deadline came first (the first chunk of a prune() call always runs, so each call progresses).
   */
  private inChunks(
    kind: 'pairs' | 'rows',
    deadline: number,
    work: (n: number) => number,
    more: () => boolean = () => true,
  ): boolean {
    for (;;) {
      if (!more()) return true;
      if (this.chunks > 0 && performance.now() >= deadline) return false;
      const n = this.chunkSize[kind];
      const t = performance.now();
      const found = work(n);
      if (found === 0) return true;
      this.chunks++;
      const took = performance.now() - t;
      if (found === n && took < PRUNE_CHUNK_MS / 2) this.chunkSize[kind] = Math.min(n * 2, 1 << 20);
      else if (took > PRUNE_CHUNK_MS * 2) this.chunkSize[kind] = Math.max(1, n >> 1);
    }
  }

  /**
   * Downsampling to `tier`: for the (target, bucket) pairs holding a snapshot of tier - 1
   * older than `cutoff` (bucket-aligned), oldest first, keeps in each the snapshot with the
   * largest total (now of `tier`) and deletes the rest, a chunk of pairs per transaction.
   */
  private downsample(tier: 1 | 2, bucket: number, cutoff: number, deadline: number): boolean {
    return this.inChunks('pairs', deadline, (n) => this.downsampleChunk(tier, bucket, cutoff, n));
  }

  private downsampleChunk(tier: 1 | 2, bucket: number, cutoff: number, n: number): number {
    // Read the pairs first: better-sqlite3 cannot write while a statement is being iterated.
    const pairs = new Map<string, [number, number]>();
    for (const row of this.q.candidates.iterate(tier - 1, cutoff) as IterableIterator<{
      target: number;
      at: number;
    }>) {
      const start = row.at - (row.at % bucket);
      pairs.set(`${row.target}:${start}`, [row.target, start]);
      if (pairs.size >= n) break;
    }
    if (pairs.size === 0) return 0;
    this.db
      .transaction(() => {
        this.q.keysClear.run();
        for (const [target, start] of pairs.values()) this.q.keyAdd.run(target, start);
        this.q.pickClear.run();
        this.q.pick.run({ b: bucket, tier });
        this.q.pickDeleteCounts.run();
        this.q.pickDelete.run();
        this.q.pickPromote.run({ tier });
      })
      .immediate();
    return pairs.size;
  }

  /** Deletes snapshots older than `t`, the oldest tier (hourly) first, in chunks of rows. */
  private deleteBefore(t: number, deadline: number, more?: () => boolean): boolean {
    for (const tier of [2, 1, 0]) {
      const done = this.inChunks(
        'rows',
        deadline,
        (n) =>
          this.db
            .transaction(() => {
              this.q.pickClear.run();
              this.q.pickOldest.run({ tier, t, n });
              this.q.pickDeleteCounts.run();
              return this.q.pickDelete.run().changes;
            })
            .immediate(),
        more,
      );
      if (!done) return false;
    }
    return true;
  }

  private oldestAt(tiers: number[]): number | undefined {
    let min: number | undefined;
    for (const tier of tiers) {
      const at = this.q.oldestOfTier.get(tier) as number | null;
      if (at !== null && (min === undefined || at < min)) min = at;
    }
    return min;
  }

  private pragma(name: string): number {
    return this.db.pragma(name, { simple: true }) as number;
  }

  private usedBytes(): number {
    return (this.pragma('page_count') - this.pragma('freelist_count')) * this.pragma('page_size');
  }

  /**
   * The size cap: resolution before history, oldest first. Full detail becomes one per medium
   * bucket, then medium becomes coarse, then the oldest snapshots go, each only as far as needed
   * and never within the last CAP_KEEP_MS (or detailMs, when shorter).
   */
  private enforceCap(now: number, deadline: number): boolean {
    const r = this.retention;
    const floor = now - Math.min(r.detailMs, CAP_KEEP_MS);
    const over = () => this.usedBytes() > r.maxBytes;
    const medium = r.mediumBucketMs;
    const coarse = r.coarseBucketMs;
    const capped = (tier: 1 | 2, bucket: number) =>
      this.inChunks(
        'pairs',
        deadline,
        (n) => this.downsampleChunk(tier, bucket, floorTo(floor, bucket), n),
        over,
      );
    return capped(1, medium) && capped(2, coarse) && this.deleteBefore(floor, deadline, over);
  }

  /**
   * Deletes groups no snapshot refers to any more. A group's stored last_seen lags its true last
   * sighting by at most LAST_SEEN_SLACK, so a group whose last_seen is older than the oldest
   * snapshot by more than that cannot be referenced.
   */
  private collectGroups(): void {
    const oldest = this.oldestAt([0, 1, 2]);
    if (oldest === undefined) return;
    const n = this.db
      .transaction(() => this.q.groupsCollect.run(oldest - LAST_SEEN_SLACK).changes)
      .immediate();
    if (n > 0) this.groups.clear();
  }

  /**
   * Returns free pages to the filesystem, 4 MiB a step within the budget, while the file is
   * over the cap or mostly free (the file shrinks at the next checkpoint); true when no more is
   * needed. Otherwise free pages stay for the next scrapes to reuse.
   */
  private shrinkFile(deadline: number): boolean {
    const needed = () => {
      const pages = this.pragma('page_count');
      const free = this.pragma('freelist_count');
      return (
        free > 0 && (pages * this.pragma('page_size') > this.retention.maxBytes || free * 2 > pages)
      );
    };
    while (needed()) {
      if (this.chunks > 0 && performance.now() >= deadline) return false;
      this.db.pragma(
        `incremental_vacuum(${Math.ceil((4 * 1024 * 1024) / this.pragma('page_size'))})`,
      );
      this.chunks++;
    }
    return true;
  }

  private forget(): void {
    this.targetIds.clear();
    this.groups.clear();
    this.siteIds.clear();
  }
}

function prepare(db: Database.Database) {
  // The pick: every snapshot of tier <= N in each chosen (target, bucket), the one to keep
  // first (largest total, then latest), and the bucket's largest heap figure. CROSS JOIN fixes
  // the loop order (keys outside): with ANALYZE statistics the planner would rather scan
  // every snapshot.
  const pick = db.prepare(`
      INSERT INTO temp.prune_pick (id, keep, heap)
      SELECT id, rn = 1, heap FROM (
        SELECT s.id,
          row_number() OVER (PARTITION BY s.target, k.start ORDER BY s.total DESC, s.at DESC, s.id DESC) AS rn,
          max(s.heap_inuse) OVER (PARTITION BY s.target, k.start) AS heap
        FROM temp.prune_keys k
        CROSS JOIN snapshots s INDEXED BY snapshots_by_target
          ON s.target = k.target AND s.at >= k.start AND s.at < k.start + @b
        WHERE s.tier <= @tier
      )`);
  return {
    targetGet: db.prepare('SELECT id FROM targets WHERE name = ?').pluck(),
    targetAdd: db.prepare('INSERT INTO targets (name) VALUES (?)'),
    targetLabels: db.prepare('UPDATE targets SET labels = ? WHERE id = ?'),
    groupGet: db.prepare('SELECT id, last_seen AS lastSeen FROM groups WHERE gid = ?'),
    groupAdd: db.prepare(
      'INSERT INTO groups (gid, first_seen, last_seen) VALUES (?, ?, ?) RETURNING id, last_seen AS lastSeen',
    ),
    // In DO UPDATE, bare column names are the stored row; `excluded.` is the new info.
    groupPut: db.prepare(`
      INSERT INTO groups (gid, user_frame, holder_owner, created_by, blocked_on, stack, idle, first_seen, last_seen)
      VALUES (@gid, @userFrame, @holderOwner, @createdBy, @blockedOn, @stack, @idle, @at, @at)
      ON CONFLICT (gid) DO UPDATE SET
        holder_owner = CASE WHEN excluded.user_frame IS NOT NULL THEN excluded.holder_owner ELSE holder_owner END,
        user_frame = coalesce(excluded.user_frame, user_frame),
        created_by = coalesce(excluded.created_by, created_by),
        blocked_on = CASE WHEN stack IS NULL OR created_by IS NULL OR excluded.created_by IS NOT NULL
          THEN excluded.blocked_on ELSE blocked_on END,
        idle = CASE WHEN stack IS NULL OR created_by IS NULL OR excluded.created_by IS NOT NULL
          THEN excluded.idle ELSE idle END,
        stack = CASE WHEN stack IS NULL OR created_by IS NULL OR excluded.created_by IS NOT NULL
          THEN excluded.stack ELSE stack END,
        last_seen = max(last_seen, excluded.last_seen)
      RETURNING id, last_seen AS lastSeen`),
    groupSeen: db.prepare('UPDATE groups SET last_seen = @at WHERE id = @id AND last_seen < @at'),
    groupInfo: db.prepare(
      'SELECT gid, user_frame, created_by, blocked_on, stack, idle, holder_owner FROM groups WHERE gid = ?',
    ),
    waitAdd: db.prepare(
      'INSERT OR REPLACE INTO group_waits (snapshot, grp, minutes) VALUES (?, ?, ?)',
    ),
    latestWaitSnapshot: db.prepare(
      'SELECT id, at FROM snapshots WHERE target = ? AND has_waits = 1 ORDER BY at DESC LIMIT 1',
    ),
    waits: db.prepare(
      'SELECT g.gid, w.minutes FROM group_waits w JOIN groups g ON g.id = w.grp WHERE w.snapshot = ?',
    ),
    bucketAdd: db.prepare(`
      INSERT INTO wait_buckets (snapshot, grp, bucket, count) VALUES (?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET count = count + excluded.count`),
    firstDump: db.prepare(
      'SELECT id, at FROM snapshots WHERE target = ? AND has_dump = 1 AND at >= ? AND at <= ? ORDER BY at LIMIT 1',
    ),
    lastDump: db.prepare(
      'SELECT id, at FROM snapshots WHERE target = ? AND has_dump = 1 AND at >= ? AND at <= ? ORDER BY at DESC LIMIT 1',
    ),
    buckets: db.prepare('SELECT bucket, count FROM wait_buckets WHERE snapshot = ? AND grp = ?'),
    siteGet: db.prepare('SELECT id FROM heap_sites WHERE frame = ?').pluck(),
    siteAdd: db.prepare('INSERT INTO heap_sites (frame) VALUES (?)'),
    heapAdd: db.prepare(
      'INSERT OR REPLACE INTO heap_bytes (snapshot, site, bytes) VALUES (?, ?, ?)',
    ),
    heapSeries: db.prepare(
      'SELECT at, heap_inuse AS value FROM snapshots WHERE target = ? AND at >= ? AND at <= ? AND heap_inuse IS NOT NULL ORDER BY at',
    ),
    heapSites: db.prepare(`
      SELECT h.frame, s.at, b.bytes FROM snapshots s
      JOIN heap_bytes b ON b.snapshot = s.id JOIN heap_sites h ON h.id = b.site
      WHERE s.target = ? AND s.at >= ? AND s.at <= ? ORDER BY s.at`),
    baselineGet: db.prepare('SELECT since, normal_peak FROM baselines WHERE target = ?'),
    baselinePut: db.prepare(
      'INSERT OR REPLACE INTO baselines (target, since, normal_peak) VALUES (?, ?, ?)',
    ),
    openAlerts: db.prepare(`
      SELECT * FROM alerts WHERE type = 'alert' AND id IN (SELECT max(id) FROM alerts GROUP BY key)
      ORDER BY at_ms, id`),
    ownerGet: db.prepare('SELECT host, pid, started, heartbeat FROM owner WHERE id = 1'),
    ownerPut: db.prepare(
      'INSERT OR REPLACE INTO owner (id, host, pid, started, heartbeat) VALUES (1, @host, @pid, @started, @heartbeat)',
    ),
    ownerBeat: db.prepare('UPDATE owner SET heartbeat = ? WHERE id = 1 AND pid = ?'),
    ownerDrop: db.prepare('DELETE FROM owner WHERE id = 1 AND pid = ?'),
    groupsCollect: db.prepare('DELETE FROM groups WHERE last_seen < ?'),
    snapAdd: db.prepare(
      'INSERT INTO snapshots (target, at, total, source, duration_ms, heap_inuse, has_waits, has_dump) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    pickOldest: db.prepare(`
      INSERT INTO temp.prune_pick (id, keep)
      SELECT id, 0 FROM snapshots INDEXED BY snapshots_by_tier
      WHERE tier = @tier AND at < @t ORDER BY at LIMIT @n`),
    oldestOfTier: db.prepare('SELECT min(at) FROM snapshots WHERE tier = ?').pluck(),
    countAdd: db.prepare(`
      INSERT INTO group_counts (snapshot, grp, count, leaked) VALUES (?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET count = count + excluded.count, leaked = leaked + excluded.leaked`),
    errorAdd: db.prepare('INSERT INTO errors (target, at, message) VALUES (?, ?, ?)'),
    errorsPrune: db.prepare('DELETE FROM errors WHERE at < ?'),
    errors: db.prepare(
      'SELECT at, message AS error FROM errors WHERE target = ? AND at >= ? AND at <= ? ORDER BY at',
    ),
    alertAdd: db.prepare(`
      INSERT INTO alerts (key, type, target, detector, at, at_ms, summary, group_id,
        group_user_frame, group_created_by, group_blocked_on, group_count, evidence, labels)
      VALUES (@key, @type, @target, @detector, @at, @atMs, @summary, @groupId,
        @groupUserFrame, @groupCreatedBy, @groupBlockedOn, @groupCount, @evidence, @labels)`),
    alerts: db.prepare('SELECT * FROM alerts ORDER BY at_ms DESC, id DESC LIMIT ?'),
    alertsPrune: db.prepare(
      `DELETE FROM alerts WHERE at_ms < ? AND id NOT IN (
        SELECT a.id FROM alerts a WHERE a.type = 'alert' AND a.id = (SELECT max(id) FROM alerts b WHERE b.key = a.key))`,
    ),
    totals: db.prepare(
      'SELECT at, total AS value FROM snapshots WHERE target = ? AND at >= ? AND at <= ? ORDER BY at',
    ),
    series: db.prepare(`
      SELECT s.at, coalesce(c.count, 0) AS value
      FROM snapshots s LEFT JOIN group_counts c ON c.snapshot = s.id AND c.grp = ?
      WHERE s.target = ? AND s.at >= ? AND s.at <= ? ORDER BY s.at`),
    latestSnapshot: db
      .prepare('SELECT id FROM snapshots WHERE target = ? ORDER BY at DESC LIMIT 1')
      .pluck(),
    snapshotBefore: db.prepare(
      'SELECT id, at, total FROM snapshots WHERE target = ? AND at <= ? ORDER BY at DESC LIMIT 1',
    ),
    snapshotAfter: db.prepare(
      'SELECT id, at, total FROM snapshots WHERE target = ? AND at >= ? ORDER BY at LIMIT 1',
    ),
    latestCounts: db.prepare(`
      SELECT g.gid, c.count, c.leaked, g.user_frame, g.created_by, g.blocked_on, g.stack, g.idle,
        g.holder_owner
      FROM group_counts c CROSS JOIN groups g ON g.id = c.grp
      WHERE c.snapshot = ? ORDER BY c.count DESC, g.gid LIMIT ?`),
    targets: db.prepare(`
      SELECT t.name, s.at AS lastAt, s.total AS lastTotal, t.labels FROM targets t
      JOIN snapshots s ON s.id = (
        SELECT id FROM snapshots WHERE target = t.id ORDER BY at DESC LIMIT 1)
      ORDER BY t.name`),
    pickClear: db.prepare('DELETE FROM temp.prune_pick'),
    pick,
    candidates: db.prepare(
      'SELECT target, at FROM snapshots INDEXED BY snapshots_by_tier WHERE tier = ? AND at < ? ORDER BY at',
    ),
    keysClear: db.prepare('DELETE FROM temp.prune_keys'),
    keyAdd: db.prepare('INSERT OR IGNORE INTO temp.prune_keys (target, start) VALUES (?, ?)'),
    // Counts first, by hand: measured 15% faster than letting ON DELETE CASCADE do it per row.
    pickDeleteCounts: db.prepare(
      'DELETE FROM group_counts WHERE snapshot IN (SELECT id FROM temp.prune_pick WHERE NOT keep)',
    ),
    pickDelete: db.prepare(
      'DELETE FROM snapshots WHERE id IN (SELECT id FROM temp.prune_pick WHERE NOT keep)',
    ),
    pickPromote: db.prepare(`
      UPDATE snapshots SET tier = @tier,
        heap_inuse = coalesce(heap_inuse, (SELECT heap FROM temp.prune_pick p WHERE p.id = snapshots.id))
      WHERE id IN (SELECT id FROM temp.prune_pick WHERE keep)`),
  };
}

/** Identifies the file, refuses what is not ours, sets the connection up, and migrates. */
function open(db: Database.Database, path: string, sync: 'normal' | 'full'): void {
  db.pragma('busy_timeout = 5000');
  // The first read of a file that is not SQLite fails here with SQLITE_NOTADB, before any write.
  const appId = db.pragma('application_id', { simple: true }) as number;
  const objects = db
    .prepare("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    .pluck()
    .get() as number;
  let version = 0;
  if (appId === APPLICATION_ID) {
    version = schemaVersion(db, path);
  } else if (appId !== 0 || objects > 0) {
    throw new UserError(
      `${path}: not a leakwatch database (a SQLite database of something else); give --db a new file`,
    );
  }
  if (version > SCHEMA_VERSION) {
    throw new UserError(
      `${path}: written by a newer leakwatch (schema ${version}; this one knows up to ${SCHEMA_VERSION})`,
    );
  }
  // Only an empty database takes this; it must precede the first table.
  if (objects === 0) db.pragma('auto_vacuum = INCREMENTAL');
  const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
  if (mode !== 'wal' && mode !== 'memory') {
    throw new UserError(`${path}: cannot use a write-ahead log here (journal mode ${mode})`);
  }
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -16384'); // 16 MiB
  db.pragma('journal_size_limit = 67108864'); // truncate a WAL grown past 64 MiB after a checkpoint
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS prune_pick (id INTEGER PRIMARY KEY, keep INTEGER NOT NULL, heap INTEGER);
    CREATE TEMP TABLE IF NOT EXISTS prune_keys (target INTEGER, start INTEGER, PRIMARY KEY (target, start));
  `);
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    // Re-read under the write lock: another process may have migrated meanwhile.
    let v =
      db.pragma('application_id', { simple: true }) === APPLICATION_ID
        ? schemaVersion(db, path)
        : 0;
    for (; v < SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v]!);
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(
        v + 1,
        Date.now(),
      );
      db.pragma(`user_version = ${v + 1}`);
    }
    db.pragma(`application_id = ${APPLICATION_ID}`);
  }).immediate();
}

function schemaVersion(db: Database.Database, path: string): number {
  try {
    return (db.prepare('SELECT max(version) FROM schema_version').pluck().get() as number) ?? 0;
  } catch {
    throw new UserError(`${path}: a damaged leakwatch database (no schema_version table)`);
  }
}

/** Refuses, before SQLite creates anything, a path leakwatch could not keep a database at. */
function checkPath(path: string): void {
  if (path === ':memory:' || path === '') return;
  let isFile: boolean | undefined;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new UserError(`${path}: cannot open the database (${code})`);
  }
  if (isFile === false)
    throw new UserError(`${path}: not a regular file (the database is one file)`);
  if (isFile) {
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch {
      throw new UserError(`${path}: the database is not writable`);
    }
  }
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UserError(
      `${path}: directory ${dir} is missing or not writable (the database keeps its -wal and -shm files beside it)`,
    );
  }
}

/** SQLite's refusals of a file, as the one-line user error they are; anything else is a bug. */
function asUserError(err: unknown, path: string): unknown {
  if (err instanceof UserError) return err;
  const code = (err as { code?: unknown }).code;
  const msg = err instanceof Error ? err.message : String(err);
  if (typeof code !== 'string') return err;
  if (code === 'SQLITE_NOTADB')
    return new UserError(`${path}: not a leakwatch database (not SQLite)`);
  if (code.startsWith('SQLITE_CORRUPT'))
    return new UserError(`${path}: the database is corrupt (${msg})`);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new UserError(`${path}: the database is locked by another process`);
  }
  if (/^SQLITE_(READONLY|CANTOPEN|PERM|IOERR|FULL)/.test(code)) {
    return new UserError(`${path}: cannot write the database (${msg})`);
  }
  return err;
}

function checkRetention(r: Retention): Retention {
  for (const [k, v] of Object.entries(r)) {
    if (typeof v !== 'number' || !(v > 0)) {
      throw new UserError(
        `retention.${k}: must be a positive number of ${k === 'maxBytes' ? 'bytes' : 'ms'}`,
      );
    }
  }
  if (r.mediumMs < r.detailMs || r.maxAgeMs < r.mediumMs) {
    throw new UserError('retention: detailMs <= mediumMs <= maxAgeMs is required');
  }
  if (r.coarseBucketMs % r.mediumBucketMs !== 0) {
    throw new UserError('retention.coarseBucketMs: must be a multiple of mediumBucketMs');
  }
  return Object.freeze(r);
}

function floorTo(t: number, bucket: number): number {
  return t - (((t % bucket) + bucket) % bucket);
}

/** The stored form of a frame: exactly its four fields, in a fixed order. */
function frameJson(f: Frame): Frame {
  return { func: f.func, pkg: f.pkg, file: f.file, line: f.line };
}

/** A JSON column, or null when it is NULL or not JSON (a row written by hand, say). */
function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function toInfo(r: GroupRow): GroupInfo | undefined {
  return infoFromRow({
    ...r,
    holder: parseJson(r.user_frame),
    created_by: parseJson(r.created_by),
    stack: r.stack === null ? null : (parseJson(r.stack) ?? []),
  });
}

function toAlert(r: AlertRow): AlertEvent {
  return alertFromRow({
    ...r,
    group_holder: parseJson(r.group_user_frame),
    group_created_by: parseJson(r.group_created_by),
    evidence: parseJson(r.evidence) as Record<string, unknown>,
    labels: parseJson(r.labels) as Record<string, string>,
  });
}

/** Whether a process of this host is alive (a claim by a killed watcher is stale). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Two 32-bit FNV-style hashes of an info's fields: equal infos, equal fingerprints. */
function fingerprint(i: GroupInfo): string {
  const f = (x: Frame | undefined): string => (x ? `${x.func} ${x.file}:${x.line}` : '\u0001');
  const s = [
    f(i.holder),
    i.holderOwner ?? '\u0001',
    f(i.createdBy),
    i.blockedOn,
    i.idle ?? '\u0001',
    i.frames.map(f).join('\n'),
  ].join('\u0000');
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return `${h1.toString(36)}.${h2.toString(36)}.${s.length}`;
}

/** Labels as stored (JSON text, NULL when never set), as an object of strings. */
function labelsOf(text: string | null): Record<string, string> {
  if (!text) return {};
  try {
    const o = JSON.parse(text) as unknown;
    if (typeof o !== 'object' || o === null) return {};
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
  } catch {
    return {};
  }
}
