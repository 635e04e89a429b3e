/** Every lint rule, in the order findings of one line are listed. One folder per rule. */
import type { Rule } from '../rule.js';
import { rule as cancelNotCalled } from './cancel-not-called/index.js';
import { rule as connWithoutCloseHandling } from './conn-without-close-handling/index.js';
import { rule as entryNeverRemoved } from './entry-never-removed/index.js';
import { rule as goroutineWithoutExit } from './goroutine-without-exit/index.js';
import { rule as mutexDoubleLock } from './mutex-double-lock/index.js';
import { rule as mutexLockOrder } from './mutex-lock-order/index.js';
import { rule as mutexNotUnlocked } from './mutex-not-unlocked/index.js';
import { rule as nilChannelOp } from './nil-channel-op/index.js';
import { rule as orphanedReceive } from './orphaned-receive/index.js';
import { rule as orphanedSend } from './orphaned-send/index.js';
import { rule as rangeNeverClosed } from './range-never-closed/index.js';
import { rule as startWithoutStop } from './start-without-stop/index.js';
import { rule as tickerNotStopped } from './ticker-not-stopped/index.js';
import { rule as uncancellableContext } from './uncancellable-context/index.js';
import { rule as waitgroupDoneSkipped } from './waitgroup-done-skipped/index.js';
import { rule as waitgroupAddInGoroutine } from './waitgroup-add-in-goroutine/index.js';

export const RULES: readonly Rule[] = [
  tickerNotStopped,
  cancelNotCalled,
  entryNeverRemoved,
  orphanedSend,
  goroutineWithoutExit,
  uncancellableContext,
  rangeNeverClosed,
  connWithoutCloseHandling,
  nilChannelOp,
  waitgroupAddInGoroutine,
  mutexNotUnlocked,
  mutexDoubleLock,
  mutexLockOrder,
  waitgroupDoneSkipped,
  orphanedReceive,
  startWithoutStop,
];

export const RULE_IDS: readonly string[] = RULES.map((r) => r.id);
