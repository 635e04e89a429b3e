/**
 * AlertDispatcher: the one place alerts leave the watcher.
 *
 * - Deduplicates on the event key: an `alert` whose key is already firing is not sent again;
 *   a `resolved` goes out only for a key that fired (and only once).
 * - Every sink has its own queue and its own delivery loop: a failing or hanging sink never
 *   blocks another sink, nor the caller (publish() only queues and returns).
 * - Each request has a timeout (the sink gets an AbortSignal, and the dispatcher stops waiting
 *   even if the sink ignores it); failures are retried with exponential backoff (honouring
 *   Retry-After, not retrying what can't succeed, e.g. a 400).
 * - Nothing is dropped silently: an event that still fails after its retries is counted
 *   (status().failed, lastError) and the first failure of a streak is logged, then its
 *   recovery with the number of events lost meanwhile. Queues are bounded: when one is full the
 *   oldest event is dropped, counted and logged.
 * - Events for one sink go out in order: a resolution never overtakes its alert.
 * - Shutdown is bounded: close(graceMs) lets deliveries finish for at most graceMs, then aborts
 *   every request in flight, so a hanging receiver cannot hold the process after SIGTERM.
 * - Its log lines are printable() (an error may quote a receiver's body or a target's name).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../../errors.js';
import { printable } from '../../render/escape.js';
import type { AlertEvent, AlertSink } from '../types.js';
import { SinkError } from './http.js';

export interface DispatcherOptions {
  /** Attempts after the first one. */
  retries: number;
  /** Delay before the first retry; doubled for each further one. */
  backoffMs: number;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Where delivery trouble is reported (one line each; never a secret). */
  log: (line: string) => void;
  /** Events waiting per sink before the oldest is dropped. Default 1000. */
  maxQueue?: number;
  /** Cap on one backoff delay (and on a Retry-After). Default 60 s. */
  maxBackoffMs?: number;
}

export interface SinkStatus {
  /** Events delivered. */
  sent: number;
  /** Events given up on after their retries. */
  failed: number;
  /** Events dropped unsent: the queue was full, or the dispatcher was closed. */
  dropped: number;
  /** Retries made (attempts after a failed one). */
  retried: number;
  /** Events queued or in flight. */
  pending: number;
  /** In a failure streak: the last event for it failed. */
  failing: boolean;
  lastError?: string;
  /** ISO time of lastError. */
  lastErrorAt?: string;
}

/** A sink that takes the dispatcher's AbortSignal (the built-in HTTP sinks do). */
type SignalSend = (e: AlertEvent, signal?: AbortSignal) => Promise<void>;

/** A sink that wants firing alerts re-sent periodically (Alertmanager). */
function wantsResend(sink: AlertSink): boolean {
  const ms = (sink as { resendIntervalMs?: unknown }).resendIntervalMs;
  return typeof ms === 'number' && ms > 0;
}

interface Lane {
  sink: AlertSink;
  name: string;
  queue: AlertEvent[];
  busy: boolean;
  inFlight: number;
  stats: SinkStatus;
  /** Events failed in the current failure streak. */
  streakFailed: number;
  /** Events dropped in the current overflow streak. */
  streakDropped: number;
}

export class AlertDispatcher {
  private readonly lanes: Lane[];
  private readonly open = new Map<string, AlertEvent>();
  private readonly maxQueue: number;
  private readonly maxBackoffMs: number;
  private readonly closing = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private warnedClosed = false;

  constructor(
    sinks: AlertSink[],
    private readonly opts: DispatcherOptions,
  ) {
    this.maxQueue = Math.max(1, opts.maxQueue ?? 1000);
    this.maxBackoffMs = opts.maxBackoffMs ?? 60_000;
    const seen = new Map<string, number>();
    this.lanes = sinks.map((sink) => {
      const n = (seen.get(sink.name) ?? 0) + 1;
      seen.set(sink.name, n);
      return {
        sink,
        name: n === 1 ? sink.name : `${sink.name}#${n}`,
        queue: [],
        busy: false,
        inFlight: 0,
        stats: { sent: 0, failed: 0, dropped: 0, retried: 0, pending: 0, failing: false },
        streakFailed: 0,
        streakDropped: 0,
      };
    });
  }

  /** Queues an event for every sink, after dedupe, and returns at once. */
  publish(e: AlertEvent): void {
    if (this.closed) {
      if (!this.warnedClosed) {
        this.warnedClosed = true;
        this.log(`alerts: dispatcher closed; ${e.type} for ${e.key} not sent`);
      }
      return;
    }
    if (e.type === 'alert') {
      const was = this.open.get(e.key);
      // Keep the latest details for re-sends, but send nothing new.
      this.open.set(e.key, e);
      if (was) return;
    } else {
      if (!this.open.has(e.key)) return;
      this.open.delete(e.key);
    }
    for (const lane of this.lanes) this.enqueue(lane, e);
  }

  /**
   * After a restart: the alerts still open in history, marked firing without being sent
   * again, so their resolutions go out and a repeat of them does not.
   */
  restore(open: AlertEvent[]): void {
    for (const e of open) if (e.type === 'alert') this.open.set(e.key, e);
  }

  /**
   * Forgets open alerts without sending anything: those of a target a fleet moved to another
   * replica, or one another replica resolved. They are not re-sent from here, and a new alert
   * for the key is not taken for a repeat.
   */
  forget(match: (e: AlertEvent) => boolean): void {
    for (const [key, e] of this.open) if (match(e)) this.open.delete(key);
  }

  /** The alerts firing now (the latest event of each). */
  firing(): AlertEvent[] {
    return [...this.open.values()];
  }

  /**
   * Queues the firing alerts again for the sinks that want them re-sent (Alertmanager, whose
   * clients must re-send active alerts). Call it every `resendIntervalMs`. An alert already
   * waiting in a sink's queue is not queued twice. Returns how many were queued.
   */
  resendFiring(): number {
    if (this.closed) return 0;
    let n = 0;
    for (const lane of this.lanes) {
      if (!wantsResend(lane.sink)) continue;
      for (const e of this.open.values()) {
        if (lane.queue.some((q) => q.key === e.key && q.type === 'alert')) continue;
        this.enqueue(lane, e);
        n++;
      }
    }
    return n;
  }

  /** Per sink (by name): what was sent, failed, dropped, and what is pending. */
  status(): Record<string, SinkStatus> {
    const out: Record<string, SinkStatus> = {};
    for (const l of this.lanes) {
      out[l.name] = { ...l.stats, pending: l.queue.length + l.inFlight };
    }
    return out;
  }

  /** Resolves when every queue is empty and nothing is in flight. */
  flush(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops: lets deliveries go on for up to `graceMs` (default 0), then aborts requests in flight
   * and backoff waits, drops what is still queued (counted and logged), and resolves once every
   * delivery loop has ended: at most graceMs plus a turn of the event loop after it is called.
   */
  async close(graceMs = 0): Promise<void> {
    if (!this.closed && graceMs > 0 && !this.idle()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.flush(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    if (!this.closed) {
      this.closed = true;
      this.closing.abort(new Error('dispatcher closed'));
      for (const lane of this.lanes) {
        const n = lane.queue.length;
        if (n === 0) continue;
        lane.queue = [];
        lane.stats.dropped += n;
        this.log(`alert sink ${lane.name}: closed with ${n} event(s) unsent (dropped)`);
      }
    }
    await this.flush();
  }

  private log(line: string): void {
    this.opts.log(printable(line));
  }

  private idle(): boolean {
    return this.lanes.every((l) => !l.busy && l.queue.length === 0);
  }

  private enqueue(lane: Lane, e: AlertEvent): void {
    if (lane.queue.length >= this.maxQueue) {
      const old = lane.queue.shift()!;
      lane.stats.dropped++;
      if (lane.streakDropped++ === 0) {
        this.log(
          `alert sink ${lane.name}: queue full (${this.maxQueue}), dropping the oldest events ` +
            `(first: ${old.type} ${old.key}); counted in status().dropped`,
        );
      }
    }
    lane.queue.push(e);
    if (!lane.busy) {
      lane.busy = true;
      // Deliveries start after the caller's synchronous work: publish() never runs a sink.
      queueMicrotask(() => void this.drain(lane));
    }
  }

  private async drain(lane: Lane): Promise<void> {
    try {
      for (let e = lane.queue.shift(); e; e = lane.queue.shift()) {
        lane.inFlight = 1;
        await this.deliver(lane, e);
        lane.inFlight = 0;
      }
    } catch (err) {
      this.log(`alert sink ${lane.name}: internal error: ${messageOf(err)}`);
    } finally {
      lane.inFlight = 0;
      lane.busy = false;
      if (lane.streakDropped > 0) {
        this.log(
          `alert sink ${lane.name}: ${lane.streakDropped} event(s) dropped while its queue was full`,
        );
        lane.streakDropped = 0;
      }
      // A publish during the last await may have queued more; else, wake flush() waiters.
      if (lane.queue.length > 0 && !this.closed) {
        lane.busy = true;
        queueMicrotask(() => void this.drain(lane));
      } else if (this.idle()) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
    }
  }

  private async deliver(lane: Lane, e: AlertEvent): Promise<void> {
    const attempts = 1 + Math.max(0, Math.floor(this.opts.retries));
    let last: unknown;
    let made = 0;
    for (let i = 0; i < attempts && !this.closed; i++) {
      made++;
      try {
        await this.attempt(lane, e);
        this.succeeded(lane);
        return;
      } catch (err) {
        last = err;
        if (err instanceof SinkError && !err.retryable) break;
        if (i + 1 < attempts && !this.closed) {
          lane.stats.retried++;
          await sleep(this.delay(i, err), undefined, { signal: this.closing.signal }).catch(
            () => {},
          );
        }
      }
    }
    if (this.closed) {
      lane.stats.dropped++;
      this.log(`alert sink ${lane.name}: closed with ${e.type} ${e.key} in flight (dropped)`);
      return;
    }
    this.failed(lane, e, last, made);
  }

  private delay(retry: number, err: unknown): number {
    const base = Math.min(this.opts.backoffMs * 2 ** retry, this.maxBackoffMs);
    const after = err instanceof SinkError ? err.retryAfterMs : undefined;
    return after === undefined ? base : Math.max(base, Math.min(after, this.maxBackoffMs));
  }

  /** One send, bounded by the timeout whether or not the sink honours its AbortSignal. */
  private attempt(lane: Lane, e: AlertEvent): Promise<void> {
    const ms = this.opts.timeoutMs;
    const ac = new AbortController();
    const onClose = (): void => ac.abort(this.closing.signal.reason);
    this.closing.signal.addEventListener('abort', onClose, { once: true });
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.closing.signal.removeEventListener('abort', onClose);
      };
      const timer = setTimeout(() => {
        // A sink that never settles holds nothing of ours past this point.
        done();
        const err = new SinkError(`timed out after ${ms} ms`, true);
        ac.abort(err);
        reject(err);
      }, ms);
      ac.signal.addEventListener('abort', () => {
        if (this.closing.signal.aborted) reject(new SinkError('dispatcher closed', false));
      });
      let p: Promise<void>;
      try {
        p = Promise.resolve((lane.sink.send as SignalSend).call(lane.sink, e, ac.signal));
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        () => {
          done();
          resolve();
        },
        (err: unknown) => {
          done();
          reject(err);
        },
      );
    });
  }

  private succeeded(lane: Lane): void {
    lane.stats.sent++;
    if (lane.stats.failing) {
      lane.stats.failing = false;
      this.log(
        `alert sink ${lane.name}: recovered; ${lane.streakFailed} event(s) failed while it was failing`,
      );
      lane.streakFailed = 0;
    }
  }

  private failed(lane: Lane, e: AlertEvent, err: unknown, attempts: number): void {
    let msg = printable(messageOf(err));
    if (msg.startsWith(`${lane.sink.name}: `)) msg = msg.slice(lane.sink.name.length + 2);
    lane.stats.failed++;
    lane.stats.lastError = msg;
    lane.stats.lastErrorAt = new Date().toISOString();
    lane.streakFailed++;
    if (!lane.stats.failing) {
      lane.stats.failing = true;
      this.log(
        `alert sink ${lane.name}: failing: ${msg} (${e.type} ${e.key} not delivered after ` +
          `${attempts} attempt(s); further failures are counted in status() until it recovers)`,
      );
    }
  }
}
