/**
 * Replicas: any number of `watch` processes on one PostgreSQL database share the targets of one
 * target source (docs/watch-fleet.md).
 *
 * - Membership by heartbeats in the database (table `replicas`): every replica renews its row
 *   each interval; live = a heartbeat within LIVE_INTERVALS of its own intervals, by the
 *   server's clock.
 * - Ownership by rendezvous hashing of (target name, replica id) over the live replicas: every
 *   replica computes the same owner for every target without talking to the others, and a
 *   replica that dies (or joins) moves only its own share. This class is a filter between the
 *   whole target list (any source: URLs, --config, discovery) and `Watcher.setTargets`.
 * - Takeover: a replica killed with -9 stops beating; within LIVE_INTERVALS intervals it is no
 *   longer live and the survivors see that at their next beat: within 3 intervals in all.
 * - Alerts once per fleet: `decide` records an event through the store's atomic
 *   `addAlertOnce` (one state change per key, only for a live replica) and says whether this
 *   replica sends it.
 * - Losing the database never makes a replica take everything: a heartbeat that fails keeps the
 *   last view (its targets stay watched, writes wait in the spool), logged once per streak.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { UserError, messageOf } from '../errors.js';
import type { AlertEvent, Replica, ReplicaBeat, Store, Target } from './types.js';

/** A replica's heartbeat is live this many intervals; the survivors act at their next beat. */
const LIVE_INTERVALS = 2;

/** What a store offers a fleet (the PostgreSQL store does; SQLite keeps one watcher per file). */
interface FleetStore extends Store {
  heartbeat(me: ReplicaBeat, liveMs: number): Promise<Replica[] | undefined>;
  leave(id: string, token: string): Promise<void>;
  addAlertOnce(
    e: AlertEvent,
    me: { id: string; token: string },
  ): Promise<'sent' | 'duplicate' | 'not-live'>;
}

export function isFleetStore(s: Store): s is FleetStore {
  const f = s as Partial<FleetStore>;
  return (
    typeof f.heartbeat === 'function' &&
    typeof f.leave === 'function' &&
    typeof f.addAlertOnce === 'function'
  );
}

interface FleetOptions {
  store: FleetStore;
  /** This replica's id: unique in the fleet, stable across restarts if given (`--replica-id`). */
  id?: string;
  /** Heartbeat interval (the scrape interval). */
  intervalMs: number;
  /** Receives the targets this replica owns, whenever that set changes. */
  apply: (owned: Target[]) => void;
  log: (line: string) => void;
}

/** The fleet as one replica sees it (for /api/fleet). */
export interface FleetView {
  replica: string;
  intervalMs: number;
  /** The database could not be reached at the last heartbeat: this is the last view. */
  stale: boolean;
  members: Replica[];
  targets: { name: string; owner: string | undefined }[];
}

export class Fleet {
  readonly id: string;
  private readonly token = randomUUID();
  private readonly liveMs: number;
  private all: Target[] = [];
  private members: Replica[] = [];
  private owned = new Set<string>();
  private failing = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;

  constructor(private readonly o: FleetOptions) {
    this.id = o.id ?? `${hostname()}:${process.pid}`;
    // Below a second a heartbeat's round trip is a real part of the window: keep some slack.
    this.liveMs = Math.max(o.intervalMs * LIVE_INTERVALS, o.intervalMs + 500);
  }

  /**
   * Joins the fleet: the first heartbeat must succeed (the store was just opened). Refuses, with
   * one line, an id that another live replica holds.
   */
  async start(targets: Target[]): Promise<void> {
    this.all = targets;
    const m = await this.o.store.heartbeat(this.beat0(), this.liveMs);
    if (!m) throw this.idInUse();
    this.members = m;
    this.reassign();
    this.schedule();
  }

  /** A new target list from the source (reload, discovery): reassigned over the current view. */
  setTargets(targets: Target[]): void {
    this.all = targets;
    this.reassign();
  }

  /**
   * Records an alert event for the fleet; true when this replica is the one to send it. Throws
   * while the database cannot decide (unreachable, or this replica not live yet): the caller
   * retries while it still owns the target.
   */
  async decide(e: AlertEvent): Promise<boolean> {
    const r = await this.o.store.addAlertOnce(e, { id: this.id, token: this.token });
    if (r === 'not-live')
      throw new Error(`replica ${this.id} is not live in the fleet (heartbeat late)`);
    if (r === 'duplicate')
      this.o.log(`fleet: ${e.type} ${e.key} already recorded by another replica; not sent again`);
    return r === 'sent';
  }

  /** Whether this replica runs the fleet's retention: the first live one by id. */
  prunes(): boolean {
    return (this.members[0]?.id ?? this.id) === this.id;
  }

  view(): FleetView {
    const ids = this.members.map((m) => m.id);
    return {
      replica: this.id,
      intervalMs: this.o.intervalMs,
      stale: this.failing,
      members: this.members,
      targets: this.all.map((t) => ({ name: t.name, owner: ownerOf(t.name, ids) })),
    };
  }

  /** Stops beating and leaves: the others take this replica's targets at their next beat. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beating;
    await this.o.store.leave(this.id, this.token).catch((err: unknown) => {
      this.o.log(`fleet: could not leave (${messageOf(err)}); the others take over in 3 intervals`);
    });
  }

  private beat0(): { id: string; token: string; host: string; pid: number; owned: number } {
    return {
      id: this.id,
      token: this.token,
      host: hostname(),
      pid: process.pid,
      owned: this.owned.size,
    };
  }

  private idInUse(): UserError {
    return new UserError(
      `--replica-id ${this.id}: another live replica holds this id; give each replica its own`,
    );
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.beating = this.beat().finally(() => {
        this.beating = undefined;
        this.schedule();
      });
    }, this.o.intervalMs);
  }

  private async beat(): Promise<void> {
    let m: Replica[] | undefined;
    try {
      m = await this.o.store.heartbeat(this.beat0(), this.liveMs);
    } catch (err) {
      // Keep the last view: a replica cut off from the database must not take every target.
      if (!this.failing)
        this.o.log(
          `fleet: heartbeat failed (${messageOf(err)}); keeping ${this.owned.size} targets until the database answers`,
        );
      this.failing = true;
      return;
    }
    if (this.stopped) return;
    if (!m) {
      // Our row was taken over while we were silent (another process was given our id):
      // step back rather than watch the same targets twice.
      this.o.log(`fleet: ${this.idInUse().message}; watching nothing until it is gone`);
      this.members = [];
      this.owned = new Set();
      this.o.apply([]);
      return;
    }
    if (this.failing) this.o.log('fleet: heartbeat works again');
    this.failing = false;
    const before = this.members.map((x) => x.id).join(' ');
    this.members = m;
    const now = m.map((x) => x.id).join(' ');
    if (now !== before) this.o.log(`fleet: ${m.length} live replica(s): ${now}`);
    this.reassign(false);
  }

  /** Ownership over the current view; the watcher gets the new set when it changed (or `always`). */
  private reassign(always = true): void {
    const ids = this.members.map((m) => m.id);
    // Always count ourselves: between our beat and the read we are live by definition.
    if (!ids.includes(this.id)) ids.push(this.id);
    const mine = this.all.filter((t) => ownerOf(t.name, ids) === this.id);
    const names = new Set(mine.map((t) => t.name));
    const gained = mine.filter((t) => !this.owned.has(t.name)).length;
    const lost = [...this.owned].filter((n) => !names.has(n)).length;
    this.owned = names;
    // A new list from the source is always applied: a target's URL or interval may have changed.
    if (always || gained > 0 || lost > 0) this.o.apply(mine);
    if (gained > 0 || lost > 0)
      this.o.log(
        `fleet: replica ${this.id} owns ${mine.length} of ${this.all.length} targets (+${gained} -${lost})`,
      );
  }
}

/**
 * The owner of a target among replicas, by rendezvous (highest random weight) hashing: each
 * (target, replica) pair gets a pseudo-random score and the highest wins, so removing a replica
 * moves exactly the targets it owned, spread evenly over the rest.
 */
export function ownerOf(target: string, replicas: readonly string[]): string | undefined {
  const t = fnv1a(target);
  let best: string | undefined;
  let bestScore = -1;
  for (const r of replicas) {
    const s = mix32((t ^ Math.imul(fnv1a(r), 0x9e3779b1)) >>> 0);
    if (s > bestScore || (s === bestScore && best !== undefined && r < best)) {
      best = r;
      bestScore = s;
    }
  }
  return best;
}

/** FNV-1a over the UTF-16 code units: fast, and only mixed further below. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: every input bit reaches every output bit. */
function mix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
