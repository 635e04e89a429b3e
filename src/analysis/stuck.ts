/**
 * One definition of "stuck", shared by `analyze` (a suspect on its wait alone) and `watch` (the
 * stuck alert): blocked on a partner that should have come long ago. A send, a lock, a
 * WaitGroup, a condition or a semaphore does not idle by design, so a long wait there means
 * nobody is coming; a receive or a select often idles by design, so it is held to a longer bar.
 */
import type { BlockKind } from './blocking.js';

/** Kinds where a long wait means stuck, not idle: nobody is coming. */
const STUCK_WHEN_LONG: ReadonlySet<BlockKind> = new Set([
  'chan-send',
  'nil-chan-send',
  'nil-chan-receive',
  'select-no-cases',
  'mutex',
  'rwmutex',
  'waitgroup',
  'cond',
  'semaphore',
]);

/** Kinds that idle by design (a worker waiting for work): stuck only after `idleFactor` times longer. */
const IDLE_WAITS: ReadonlySet<BlockKind> = new Set(['chan-receive', 'select']);

interface StuckRule {
  /** Minutes on a send, lock or WaitGroup after which a goroutine is stuck. */
  stuckMinutes: number;
  /** How many times longer a receive or select must wait (0: never stuck). */
  idleFactor: number;
}

/** Whether goroutines blocked on `kind` for `minutes` are stuck under `rule`. */
export function isStuck(kind: BlockKind, minutes: number, rule: StuckRule): boolean {
  if (STUCK_WHEN_LONG.has(kind)) return minutes >= rule.stuckMinutes;
  if (IDLE_WAITS.has(kind) && rule.idleFactor > 0)
    return minutes >= rule.stuckMinutes * rule.idleFactor;
  return false;
}
