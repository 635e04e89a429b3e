/**
 * Which groups are suspects, in what order, and the plain-word answers to the ownership
 * questions for each: who created it, what it is stuck on and since when, which code holds it.
 *
 * The rules, strongest evidence first (README, "How a group becomes a suspect"):
 * 1. the runtime's own `(leaked)` verdict; `certain` only when it covers the whole group;
 * 2. shapes that can never wake (nil channel, `select {}`);
 * 3. stranded in your code: a send, Lock or WaitGroup.Wait called from a user frame, at any
 *    count, once it waited a minute or when nothing else runs or waits on I/O (healthy code
 *    does not park there for long; under load a short queue on a lock is contention); a
 *    WaitGroup.Wait beside goroutines that still run is a supervisor;
 * 4. waiting for work (receive, select, Cond.Wait, sleep): on count only when the goroutines
 *    were started from many goroutines (per request or connection) and are not tied to an open
 *    connection, or when the format cannot say who started them; on time when one waited
 *    `stuckMinutes` in your code after the goroutine that started it exited;
 * 5. running, runnable, system calls, network I/O, brief runtime waits: never on count alone.
 */
import type { Frame } from '../model/frame.js';
import type { Snapshot } from '../model/snapshot.js';
import { BLOCK_WORDS, FOREVER, type BlockKind } from './blocking.js';
import { lineages, type Lineage } from './evidence.js';
import { blockingCaller, creationSite, ownerOf, shortFile, shortFunc } from './frames.js';
import { isStuck } from './stuck.js';
import { countedOf, groupCounted, type Group } from './group.js';
import type { IdleMode } from './idle.js';
import { num } from '../render/style.js';

interface AnalyzeOptions {
  /** Smallest group that is suspect on count alone. */
  minCount?: number;
  /**
   * Minutes waiting in a receive, select or Cond.Wait in user code, after the goroutine that
   * started it has exited, that make even a single goroutine a suspect.
   */
  stuckMinutes?: number;
  /** Which goroutines are idle by design: in a running service, or left after tests. */
  mode?: IdleMode;
  /** Groups to treat as expected, like goleak's IgnoreTopFunction / IgnoreCreatedBy. */
  ignoreTop?: readonly string[];
  ignoreCreatedBy?: readonly string[];
}

const DEFAULTS: Required<AnalyzeOptions> = {
  minCount: 10,
  stuckMinutes: 10,
  mode: 'service',
  ignoreTop: [],
  ignoreCreatedBy: [],
};

/** Kinds that hold a goroutine only until another one acts: healthy code is not parked long. */
const STRANDING: ReadonlySet<BlockKind> = new Set([
  'chan-send',
  'mutex',
  'rwmutex',
  'waitgroup',
  'semaphore',
]);

/** Kinds of goroutines that are doing something or wait on the kernel or a peer. */
const ACTS: ReadonlySet<BlockKind> = new Set(['running', 'syscall', 'io']);

/** Kinds where goroutines wait for work by nature: a pool or an event loop idles here. */
const WAITS_FOR_WORK: ReadonlySet<BlockKind> = new Set([
  'chan-receive',
  'select',
  'cond',
  'sleep',
  'hidden',
  'unknown',
]);

export interface Suspect {
  readonly group: Group;
  readonly score: number;
  /** The runtime proved every goroutine of the group leaked. */
  readonly certain: boolean;
  /** Goroutines of the group the runtime proved leaked (all, some or none). */
  readonly proven: number;
  /** Why it was flagged, strongest first. */
  readonly reasons: string[];
  /** Goroutines (in any group) parked on this suspect's holding line. */
  readonly sameLine: number;
  readonly ownership: { who: string; what: string; holds: string };
  readonly fix?: string;
}

/** A non-idle group that is not a suspect, and the rule that spared it. */
export interface Quiet {
  readonly group: Group;
  readonly why: string;
}

export interface Report {
  readonly snapshot: Snapshot;
  readonly groups: Group[];
  readonly suspects: Suspect[];
  /** Groups neither idle by design nor suspects, largest first. */
  readonly quiet: Quiet[];
  /**
   * Set when the input cannot answer the question at all: what is missing and how to get it
   * (a crash printed with GOTRACEBACK=single holds only the crashing goroutine).
   */
  readonly incomplete?: string;
  /** Idle-by-design goroutines by reason. */
  readonly idle: { reason: string; count: number; groups: number }[];
  /** Non-idle goroutines by creation site, largest first. */
  readonly creators: { site: Frame; count: number; groups: number }[];
  readonly options: Required<AnalyzeOptions>;
}

export function analyze(snapshot: Snapshot, opts: AnalyzeOptions = {}): Report {
  const options = { ...DEFAULTS, ...opts };
  const counted = countedOf(snapshot);
  const { groups, groupOf } = groupCounted(counted, options.mode);
  applyIgnores(groups, options);

  // Goroutines per holding line, across groups: many stacks can end on one user line.
  const perLine = new Map<string, number>();
  for (const g of groups) {
    if (g.idle || !g.holder) continue;
    const k = lineKey(g.holder.frame);
    perLine.set(k, (perLine.get(k) ?? 0) + g.count);
  }

  const lineage = lineages(counted, groupOf);
  // Goroutines that can still act: running, or waiting on the kernel or a peer. Any of them may
  // be about to release a lock or receive from a channel.
  // Only tracebacks print states; a profile cannot show a running goroutine, so it never
  // proves that nothing else runs.
  let active = snapshot.format === 'traceback' ? 0 : Infinity;
  for (const g of groups) if (!g.idle && ACTS.has(g.blockedOn)) active += g.count;
  const suspects: Suspect[] = [];
  const quiet: Quiet[] = [];
  for (const g of groups) {
    if (g.idle && g.leaked === 0) continue;
    const s = judge(
      g,
      options,
      g.holder ? (perLine.get(lineKey(g.holder.frame)) ?? g.count) : g.count,
      lineage.get(g),
      active - (ACTS.has(g.blockedOn) ? g.count : 0),
    );
    if (typeof s === 'string') quiet.push({ group: g, why: s });
    else suspects.push(s);
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
    if (g.idle) continue;
    for (const c of g.creators) {
      const site = creationSite(c.site, g.stack.frames)!.site;
      const k = lineKey(site);
      const e = creators.get(k) ?? { site, count: 0, groups: 0 };
      e.count += c.count;
      e.groups++;
      creators.set(k, e);
    }
  }
  return {
    snapshot,
    groups,
    suspects,
    quiet,
    ...(crashOnly(snapshot) ? { incomplete: SINGLE } : {}),
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

const SINGLE =
  'this is a crash printed with GOTRACEBACK=single (the default): Go printed only the goroutine that crashed, so the others, where a leak would be, are missing. Run the program with GOTRACEBACK=all to print every goroutine, or fetch /debug/pprof/goroutine?debug=2 from the running service';

/**
 * A traceback holding one goroutine that was running when it was printed, and not the one that
 * wrote a dump: a panic or fatal error at GOTRACEBACK=single, which prints nothing else.
 */
function crashOnly(s: Snapshot): boolean {
  // `total` first: a traceback builds `goroutines` on demand, one object each.
  if (s.format !== 'traceback' || s.total !== 1 || s.goroutines.length !== 1) return false;
  const g = s.goroutines[0]!;
  return g.state === 'running' && !g.stack.frames.some((f) => DUMP_WRITERS.has(f.func));
}
const DUMP_WRITERS = new Set([
  'runtime/pprof.writeGoroutineStacks',
  'runtime.Stack',
  'runtime/debug.Stack',
  'runtime/debug.PrintStack',
]);

/** Started from many goroutines (one per request or connection), not by one owner. */
function fannedOut(g: Group): boolean {
  return g.parentCount >= Math.max(2, g.count / 2);
}

/** A suspect, or why the group is not one. */
function judge(
  g: Group,
  o: Required<AnalyzeOptions>,
  sameLine: number,
  lin: Lineage | undefined,
  others: number,
): Suspect | string {
  const reasons: string[] = [];
  let score = 0;
  const proven = g.leaked;
  const certain = proven > 0 && proven === g.count;
  const forever = FOREVER.has(g.blockedOn);
  const maxWait = g.waitMinutes?.max ?? 0;
  const caller = blockingCaller(g.stack.frames);
  const inUserCode = caller !== undefined && ownerOf(caller) === 'user';
  const words = BLOCK_WORDS[g.blockedOn];

  if (proven > 0) {
    score += certain ? 1000 : 600 + 400 * (proven / g.count);
    reasons.push(
      certain
        ? `the Go runtime proved ${g.count === 1 ? 'it' : 'them'} leaked`
        : `the Go runtime proved ${num(proven)} of ${num(g.count)} leaked`,
    );
  }
  if (forever) {
    score += 500;
    reasons.push(`${words}: nothing can ever wake them`);
  }
  let flagged = proven > 0 || forever;
  let why = '';
  const many = g.count >= o.minCount;
  if (o.mode === 'test') {
    // After the tests, every goroutine not idle by design is left behind (goleak's rule).
    if (many) {
      flagged = true;
      reasons.push(`${num(g.count)} goroutine${g.count === 1 ? '' : 's'} left after the tests`);
    } else why = `fewer than --min-count ${o.minCount}`;
  } else if (g.blockedOn === 'waitgroup' && !many && lin !== undefined && lin.kinActive > 0) {
    // A supervisor: Wait for servers or workers started beside it, which still run.
    why =
      'waits for goroutines started beside it or by it, which still run or wait on I/O (a supervisor)';
  } else if (STRANDING.has(g.blockedOn)) {
    if (inUserCode && (many || maxWait > 0 || others === 0)) {
      flagged = true;
      score += 100;
      reasons.push(
        `blocked in your code (${shortFunc(caller.func)}) on ${words}, which working code leaves soon after it starts`,
      );
      if (!many && maxWait === 0)
        reasons.push('no other goroutine is running or waiting on I/O that could release it');
    } else if (inUserCode) {
      why =
        others === Infinity
          ? `on ${words}, fewer than --min-count ${o.minCount}; this format shows neither wait times nor which goroutines run`
          : `on ${words} for under a minute while ${num(others)} other goroutine${others === 1 ? ' runs' : 's run'} or wait on I/O: contention, until it waits a minute`;
    } else if (
      many ||
      isStuck(g.blockedOn, maxWait, { stuckMinutes: o.stuckMinutes, idleFactor: 0 })
    ) {
      flagged = true;
      reasons.push(`${num(g.count)} goroutines on ${words} inside a library`);
    } else why = `on ${words} inside a library, fewer than --min-count ${o.minCount}`;
  } else if (WAITS_FOR_WORK.has(g.blockedOn)) {
    const parents = lin?.withParent ?? 0;
    const spread = parents === 0 || fannedOut(g);
    const connected = lin !== undefined && lin.onOpenConn * 2 > lin.withParent;
    if (many && spread && !connected) {
      flagged = true;
      reasons.push(
        parents === 0
          ? `${num(g.count)} goroutines on one stack (this format does not say who started them)`
          : `${num(g.count)} goroutines started from ${num(g.parentCount)} different goroutines (per request or connection), none tied to an open connection`,
      );
    } else if (
      maxWait >= o.stuckMinutes &&
      inUserCode &&
      !connected &&
      lin !== undefined &&
      lin.parentAlive < lin.withParent &&
      (g.count === 1 || fannedOut(g))
    ) {
      flagged = true;
      reasons.push(
        `waited ${maxWait} minutes on ${words} in your code, and the goroutine that started it has exited`,
      );
    } else if (!flagged) {
      why = connected
        ? 'each was started with a goroutine that still reads an open connection'
        : many && !spread
          ? `a pool: ${num(g.count)} started by ${g.parentCount === 1 ? 'one goroutine' : `${num(g.parentCount)} goroutines`}, waiting for work`
          : maxWait >= o.stuckMinutes
            ? `waiting ${maxWait} minutes, but started by a goroutine that is still running`
            : `waiting for work, fewer than --min-count ${o.minCount}, no wait of --stuck-minutes ${o.stuckMinutes}`;
    }
  } else if (!flagged) {
    why =
      g.blockedOn === 'running'
        ? 'running or ready to run: not blocked'
        : `${words}: woken by the system, never suspect on count alone`;
  }
  if (!flagged) return why;
  if (maxWait > 0 && !reasons.some((r) => r.includes('minutes')))
    reasons.push(`blocked up to ${maxWait} minute${maxWait === 1 ? '' : 's'}`);

  // Evidence beyond the verdicts: size, age, and concentration on one line.
  score += 40 * Math.log10(g.count + 1);
  score += 15 * Math.log2(1 + maxWait);
  if (sameLine > g.count) {
    score += 20 * Math.log10(sameLine);
    reasons.push(`${num(sameLine)} goroutines in all are parked on the same line`);
  }
  // A pool idling on receive looks like a small leak; send and lock waits do not idle.
  if (WAITS_FOR_WORK.has(g.blockedOn) && !certain) score *= 0.8;

  return {
    group: g,
    score: Math.round(score * 10) / 10,
    certain,
    proven,
    reasons,
    sameLine,
    ownership: ownership(g),
    fix: fixFor(g.blockedOn),
  };
}

/** What the ownership answers read of a group; the dashboard passes what its store kept. */
type OwnershipInput = Pick<
  Group,
  'blockedOn' | 'waitMinutes' | 'parents' | 'parentCount' | 'holder' | 'ids'
> & { stack: { frames: readonly Frame[]; createdBy?: Frame | undefined } };

/** Who started it, what it waits for, what it holds: the same answers analyze prints. */
export function ownership(g: OwnershipInput): Suspect['ownership'] {
  const cs = creationSite(g.stack.createdBy, g.stack.frames);
  let who: string;
  if (cs) {
    const c = cs.site;
    who = `${shortFunc(c.func)} at ${shortFile(c.file)}:${c.line}`;
    if (cs.via) who += ` (started through ${shortFunc(cs.via)})`;
    if (g.parentCount === 1) who += ` (in goroutine ${g.parents[0]})`;
    else if (g.parentCount > 1) who += ` (from ${num(g.parentCount)} different goroutines)`;
  } else {
    who =
      g.ids.length > 0
        ? 'no creation site printed (the main goroutine)'
        : 'creation site not recorded in this format';
  }
  // Name the blocking call where the code that made it sits, not inside sync or runtime.
  const top = g.holder?.frame ?? g.stack.frames[0];
  let what =
    g.blockedOn === 'running' ? 'nothing: running or ready to run' : BLOCK_WORDS[g.blockedOn];
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

/** The usual fix for a goroutine blocked this way, when there is one. */
export function fixFor(k: BlockKind): string | undefined {
  switch (k) {
    case 'chan-send':
      return 'the receiver is gone or never came: send in a select with ctx.Done() (or a timeout), or give the channel the buffer its senders need';
    case 'chan-receive':
      return 'if nobody will send or close: close the channel from its owner when done, or select on ctx.Done()';
    case 'select':
      return 'if no case can fire any more: make sure a context that is cancelled (cancel() on every path) or a closed channel is one of the cases';
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
      return 'a loop with no way out: give it a ctx.Done() case or a stop channel, and stop its ticker';
    case 'io':
      return 'connections held open: set deadlines, close on error, and unregister on disconnect';
    default:
      return undefined;
  }
}
