/**
 * Which groups are suspects, in what order, and the plain-word answers to the ownership
 * questions for each: who created it, what it is stuck on and since when, which code holds it.
 *
 * Evidence ranks in this order: the runtime's own `(leaked)` verdict (certain); shapes that can
 * never wake (nil channel, `select {}`); then count, wait time, and many goroutines parked on
 * one user line across groups.
 */
import type { Frame } from '../model/frame.js';
import type { Snapshot } from '../model/snapshot.js';
import { BLOCK_WORDS, FOREVER, type BlockKind } from './blocking.js';
import { shortFile, shortFunc } from './frames.js';
import { isStuck } from './stuck.js';
import { groupSnapshot, type Group } from './group.js';
import type { IdleMode } from './idle.js';

export interface AnalyzeOptions {
  /** Smallest group that is suspect on count alone. */
  minCount?: number;
  /** Minutes blocked on a send or a lock after which even a single goroutine is suspect. */
  stuckMinutes?: number;
  /** Which goroutines are idle by design: in a running service, or left after tests. */
  mode?: IdleMode;
  /** Groups to treat as expected, like goleak's IgnoreTopFunction / IgnoreCreatedBy. */
  ignoreTop?: readonly string[];
  ignoreCreatedBy?: readonly string[];
}

export const DEFAULTS: Required<AnalyzeOptions> = {
  minCount: 10,
  stuckMinutes: 10,
  mode: 'service',
  ignoreTop: [],
  ignoreCreatedBy: [],
};

/** Kinds where goroutines wait for work by nature (a pool idling on receive is healthy). */
const WAITS_FOR_WORK: ReadonlySet<BlockKind> = new Set([
  'chan-receive',
  'select',
  'io',
  'hidden',
  'unknown',
]);

export interface Suspect {
  readonly group: Group;
  readonly score: number;
  /** The runtime proved these goroutines leaked. */
  readonly certain: boolean;
  /** Why it was flagged, strongest first. */
  readonly reasons: string[];
  /** Goroutines (in any group) parked on this suspect's holding line. */
  readonly sameLine: number;
  readonly ownership: { who: string; what: string; holds: string };
  readonly fix?: string;
}

export interface Report {
  readonly snapshot: Snapshot;
  readonly groups: Group[];
  readonly suspects: Suspect[];
  /** Idle-by-design goroutines by reason. */
  readonly idle: { reason: string; count: number; groups: number }[];
  /** Non-idle goroutines by creation site, largest first. */
  readonly creators: { site: Frame; count: number; groups: number }[];
  readonly options: Required<AnalyzeOptions>;
}

export function analyze(snapshot: Snapshot, opts: AnalyzeOptions = {}): Report {
  const options = { ...DEFAULTS, ...opts };
  const groups = groupSnapshot(snapshot, options.mode);
  applyIgnores(groups, options);

  // Goroutines per holding line, across groups: many stacks can end on one user line.
  const perLine = new Map<string, number>();
  for (const g of groups) {
    if (g.idle || !g.holder) continue;
    const k = lineKey(g.holder.frame);
    perLine.set(k, (perLine.get(k) ?? 0) + g.count);
  }

  const suspects: Suspect[] = [];
  for (const g of groups) {
    const s = judge(
      g,
      options,
      g.holder ? (perLine.get(lineKey(g.holder.frame)) ?? g.count) : g.count,
    );
    if (s) suspects.push(s);
  }
  suspects.sort((a, b) => b.score - a.score || b.group.count - a.group.count);

  const idle = new Map<string, { reason: string; count: number; groups: number }>();
  for (const g of groups) {
    if (!g.idle) continue;
    const e = idle.get(g.idle) ?? { reason: g.idle, count: 0, groups: 0 };
    e.count += g.count;
    e.groups++;
    idle.set(g.idle, e);
  }
  const creators = new Map<string, { site: Frame; count: number; groups: number }>();
  for (const g of groups) {
    const site = g.stack.createdBy;
    if (g.idle || !site) continue;
    const k = lineKey(site);
    const e = creators.get(k) ?? { site, count: 0, groups: 0 };
    e.count += g.count;
    e.groups++;
    creators.set(k, e);
  }
  return {
    snapshot,
    groups,
    suspects,
    idle: [...idle.values()].sort((a, b) => b.count - a.count),
    creators: [...creators.values()].sort((a, b) => b.count - a.count),
    options,
  };
}

/**
 * Marks groups the user said to expect. `ignoreTop` matches the first frame outside the runtime
 * (goleak's "top function"); `ignoreCreatedBy` the function that started the goroutine.
 */
function applyIgnores(groups: Group[], o: Required<AnalyzeOptions>): void {
  if (o.ignoreTop.length === 0 && o.ignoreCreatedBy.length === 0) return;
  const top = new Set(o.ignoreTop);
  const created = new Set(o.ignoreCreatedBy);
  for (const g of groups) {
    if (g.idle) continue;
    const first = g.stack.frames.find((f) => f.pkg !== 'runtime') ?? g.stack.frames[0];
    if (first && top.has(first.func)) g.idle = `ignored (top function ${first.func})`;
    else if (g.stack.createdBy && created.has(g.stack.createdBy.func)) {
      g.idle = `ignored (created by ${g.stack.createdBy.func})`;
    }
  }
}

function lineKey(f: Frame): string {
  return `${f.func} ${f.file}:${f.line}`;
}

function judge(g: Group, o: Required<AnalyzeOptions>, sameLine: number): Suspect | undefined {
  const reasons: string[] = [];
  let score = 0;
  const certain = g.leaked > 0;
  const forever = FOREVER.has(g.blockedOn);
  const maxWait = g.waitMinutes?.max ?? 0;

  if (g.idle && !certain) return undefined;
  if (certain) {
    score += 1000;
    reasons.push(
      `the Go runtime proved ${g.leaked === g.count ? 'them' : `${g.leaked} of them`} leaked`,
    );
  }
  if (forever) {
    score += 500;
    reasons.push(`${BLOCK_WORDS[g.blockedOn]}: nothing can ever wake them`);
  }
  const many = g.count >= o.minCount;
  if (many) reasons.push(`${g.count.toLocaleString('en-US')} goroutines on one stack`);
  // Receives and selects are not stuck on their wait alone here (idleFactor 0): pools idle.
  const stuck = isStuck(g.blockedOn, maxWait, { stuckMinutes: o.stuckMinutes, idleFactor: 0 });
  if (stuck) reasons.push(`blocked up to ${maxWait} minutes on ${BLOCK_WORDS[g.blockedOn]}`);
  if (!certain && !forever && !many && !stuck) return undefined;

  // Evidence beyond the verdicts: size, age, and concentration on one line.
  score += 40 * Math.log10(g.count + 1);
  score += 15 * Math.log2(1 + maxWait);
  if (sameLine > g.count) {
    score += 20 * Math.log10(sameLine);
    reasons.push(
      `${sameLine.toLocaleString('en-US')} goroutines in all are parked on the same line`,
    );
  }
  // A pool idling on receive looks like a small leak; send and lock waits do not idle.
  if (WAITS_FOR_WORK.has(g.blockedOn) && !certain) score *= 0.8;

  return {
    group: g,
    score: Math.round(score * 10) / 10,
    certain,
    reasons,
    sameLine,
    ownership: ownership(g),
    fix: fixFor(g.blockedOn),
  };
}

function ownership(g: Group): Suspect['ownership'] {
  const c = g.stack.createdBy;
  let who: string;
  if (c) {
    who = `${shortFunc(c.func)} at ${shortFile(c.file)}:${c.line}`;
    if (g.parentCount === 1) who += ` (in goroutine ${g.parents[0]})`;
    else if (g.parentCount > 1)
      who += ` (from ${g.parentCount.toLocaleString('en-US')} different goroutines)`;
  } else {
    who =
      g.ids.length > 0
        ? 'no creation site printed (the main goroutine)'
        : 'creation site not recorded in this format';
  }
  // Name the blocking call where the code that made it sits, not inside sync or runtime.
  const top = g.holder?.frame ?? g.stack.frames[0];
  let what = BLOCK_WORDS[g.blockedOn];
  if (top) what += ` in ${shortFunc(top.func)} at ${shortFile(top.file)}:${top.line}`;
  if (g.waitMinutes) {
    const { min, max } = g.waitMinutes;
    what +=
      min === max ? `, for ${max} minute${max === 1 ? '' : 's'}` : `, for ${min}-${max} minutes`;
  } else if (g.ids.length > 0 && g.blockedOn !== 'running') {
    what += ', for under a minute (or no GC has run since)';
  }
  const h = g.holder;
  const holds = h
    ? `${shortFunc(h.frame.func)} at ${shortFile(h.frame.file)}:${h.frame.line}${h.owner === 'user' ? '' : ` (${h.owner === 'thirdparty' ? 'a dependency' : 'standard library'}; no frame of your code on the stack)`}: everything its stack references stays alive while it waits`
    : 'no frame to name';
  return { who, what, holds };
}

function fixFor(k: BlockKind): string | undefined {
  switch (k) {
    case 'chan-send':
      return 'the receiver is gone or never came: send in a select with ctx.Done() (or a timeout), or give the channel the buffer its senders need';
    case 'chan-receive':
      return 'nobody will send or close: close the channel from its owner when done, or select on ctx.Done()';
    case 'select':
      return 'no case will fire: make sure a context that is cancelled (cancel() on every path) or a closed channel is one of the cases';
    case 'nil-chan-send':
    case 'nil-chan-receive':
      return 'the channel is nil (never made, or set to nil): make it before use, or do not start the goroutine';
    case 'select-no-cases':
      return 'select {} never returns: replace it with a wait on a context or a done channel';
    case 'mutex':
    case 'rwmutex':
      return 'a holder never unlocked: defer Unlock right after Lock, and check early returns';
    case 'waitgroup':
      return 'Add was not matched by Done: defer wg.Done() first thing in each goroutine, and Add before go';
    case 'cond':
      return 'nobody signals: Signal/Broadcast after every state change, and wait in a loop with a way out';
    case 'sleep':
    case 'running':
      return 'a loop with no way out: give it a ctx.Done() case or a stop channel, and stop its ticker';
    case 'io':
      return 'connections held open: set deadlines, close on error, and unregister on disconnect';
    default:
      return undefined;
  }
}
