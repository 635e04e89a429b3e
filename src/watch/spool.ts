/**
 * Writes to the store that survive a full disk or a read-only database: a write that fails is
 * kept, in order, and retried before the next one; past `max` kept writes the oldest are
 * dropped and counted as lost. The watcher goes on watching and alerting from memory meanwhile,
 * and the health (`errors`, `lost`, `pending`, `lastError`) is exported on /metrics and the API.
 */
import { messageOf } from '../errors.js';

export interface StoreHealth {
  /** Writes that failed (each retry that fails counts once). */
  errors: number;
  /** Writes dropped because too many were waiting. */
  lost: number;
  /** Writes waiting for the store to accept them again. */
  pending: number;
  lastError?: string;
}

interface Pending {
  what: string;
  write: () => Promise<void>;
}

export class WriteSpool {
  private readonly queue: Pending[] = [];
  private readonly stats: StoreHealth = { errors: 0, lost: 0, pending: 0 };
  private failing = false;
  private flushing?: Promise<void>;

  constructor(
    private readonly log: (line: string) => void,
    private readonly max = 2000,
  ) {}

  /** Queues a write and tries everything queued, oldest first. Never throws. */
  async write(what: string, write: () => Promise<void>): Promise<void> {
    this.queue.push({ what, write });
    if (this.queue.length > this.max) {
      this.queue.shift();
      this.stats.lost++;
    }
    await this.flush();
  }

  /** Tries the queued writes in order; stops at the first failure, to retry later. */
  async flush(): Promise<void> {
    // One flush at a time keeps the order of writes.
    while (this.flushing) await this.flushing;
    this.flushing = this.drain();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
      this.stats.pending = this.queue.length;
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const p = this.queue[0]!;
      try {
        await p.write();
      } catch (err) {
        this.stats.errors++;
        this.stats.lastError = `${p.what}: ${messageOf(err)}`;
        if (!this.failing)
          this.log(
            `store: cannot write (${this.stats.lastError}); keeping up to ${this.max} writes in memory and retrying`,
          );
        this.failing = true;
        return;
      }
      this.queue.shift();
      if (this.failing && this.queue.length === 0) {
        this.failing = false;
        this.log(
          `store: writing again${this.stats.lost > 0 ? ` (${this.stats.lost} writes were lost)` : ''}`,
        );
      }
    }
  }

  health(): StoreHealth {
    return { ...this.stats, pending: this.queue.length };
  }
}
