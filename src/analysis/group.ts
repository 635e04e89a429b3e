/**
 * Grouping: goroutines parked on the same stack (every frame's function and file:line below the
 * runtime's own frames on top; never arguments, pointers or ids) are one group, because they are
 * one problem. That stack is the group's identity everywhere: `analyze`, `diff`, `test`, `watch`
 * (alerts, API, store) all name a group by `groupId(identityKey(frames))`, and every form agrees
 * on it (the protobuf profile keeps the runtime frames and knows no creator; debug=2 hides the
 * runtime frames and prints the creator). Creation sites are kept per group, most common first.
 */
import type { CreationSite, Frame } from '../model/frame.js';
import type { CountedGoroutines, Goroutine, Snapshot, Stack } from '../model/snapshot.js';
import { blockKind, type BlockKind } from './blocking.js';
import { holdingFrame, type FrameOwner } from './frames.js';
import { idleReason, type IdleMode } from './idle.js';

export interface Group {
  /** The group identity: the same stack in another dump or form of the same build has it. */
  readonly id: string;
  /** The group's most common stack (with its creation site); others differ only in creator. */
  stack: Stack;
  /** Where the goroutines were started, most common first (empty when the form has no creator). */
  creators: { site: CreationSite; count: number }[];
  count: number;
  /** Goroutine ids, the first MAX_IDS in dump order, when the format lists them (tracebacks). */
  readonly ids: number[];
  /** Count per state as printed, most common first after `finish`. */
  readonly states: Map<string, number>;
  /** The most common state. */
  state: string;
  blockedOn: BlockKind;
  /** Goroutines the runtime proved leaked. */
  leaked: number;
  waitMinutes?: { min: number; max: number };
  /** Goroutines in this group without a printed wait time (under a minute, or never seen by GC). */
  unwaited: number;
  lockedToThread: number;
  /** Distinct parent goroutine ids (the first MAX_IDS), and how many there are in all. */
  parents: number[];
  parentCount: number;
  /** Distinct label sets, as `k=v,k2=v2`, with counts. */
  readonly labels: Map<string, number>;
  /** The frame that holds it: first user frame, else library, else stdlib. */
  holder?: { frame: Frame; owner: FrameOwner };
  /** Why it waits by design, when it does; undefined for a possible suspect. */
  idle?: string;
}

/**
 * The identity of a stack: every frame's function and position below the runtime's own frames on
 * top (a profile keeps `runtime.gopark`/`runtime.chansend`, a traceback hides them), without the
 * creation site (profiles have none).
 */
export function identityKey(frames: readonly Frame[]): string {
  let i = 0;
  while (i < frames.length - 1 && frames[i]!.pkg === 'runtime') i++;
  let k = '';
  for (; i < frames.length; i++) k += `${frames[i]!.func} ${frames[i]!.file}:${frames[i]!.line}\n`;
  return k;
}

/**
 * A short stable id for a stack signature: 64-bit FNV-1a of the key, as 12 hex digits. The same
 * stack in two dumps of one build gets the same id. (node:crypto would cost more to load than
 * all the hashing a dump needs.)
 */
export function groupId(key: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return (h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0')).slice(0, 12);
}

/** Labels in a stable textual form. */
function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** Ids and parent ids kept per group: the JSON lists this many; the rest are counted. */
const MAX_IDS = 50;

/**
 * The snapshot's goroutines counted: the reader's own when it counted them (tracebacks), else
 * one record per entry and a run per goroutine that has an id.
 */
export function countedOf(s: Snapshot): CountedGoroutines {
  if (s.counted) return s.counted;
  const records = s.goroutines;
  const n = records.length;
  const rec = new Int32Array(n);
  const first = new Float64Array(n);
  const len = new Int32Array(n);
  const parent = new Float64Array(n);
  const ids = new Set<number>();
  let runs = 0;
  records.forEach((g, i) => {
    if (g.id === undefined) return;
    ids.add(g.id);
    rec[runs] = i;
    first[runs] = g.id;
    len[runs] = 1;
    parent[runs++] = g.parentId ?? -1;
  });
  return { records, runs, rec, first, len, parent, has: (id) => ids.has(id) };
}

/** Groups of the snapshot, and for evidence.ts, the group of each counted record. */
export function groupSnapshot(s: Snapshot, mode: IdleMode = 'service'): Group[] {
  return groupCounted(countedOf(s), mode).groups;
}

export function groupCounted(
  c: CountedGoroutines,
  mode: IdleMode = 'service',
): { groups: Group[]; groupOf: Group[] } {
  // Interned stacks make the first lookup a pointer comparison; the identity key is built once
  // per distinct stack.
  const idOf = new Map<Stack, string>();
  const byId = new Map<string, Group>();
  const stacks = new Map<Group, Map<Stack, number>>();
  const groupOf: Group[] = [];
  for (const g of c.records) {
    let id = idOf.get(g.stack);
    if (id === undefined) {
      id = groupId(identityKey(g.stack.frames));
      idOf.set(g.stack, id);
    }
    let grp = byId.get(id);
    if (grp === undefined) {
      grp = {
        id,
        stack: g.stack,
        creators: [],
        count: 0,
        ids: [],
        states: new Map(),
        state: '',
        blockedOn: 'unknown',
        leaked: 0,
        unwaited: 0,
        lockedToThread: 0,
        parents: [],
        parentCount: 0,
        labels: new Map(),
      };
      byId.set(id, grp);
      stacks.set(grp, new Map());
    }
    const seen = stacks.get(grp)!;
    seen.set(g.stack, (seen.get(g.stack) ?? 0) + g.count);
    add(grp, g);
    groupOf.push(grp);
  }
  // Ids and parents, in dump order: the first few listed, distinct parents counted.
  const parents = new Map<Group, Set<number>>();
  for (let i = 0; i < c.runs; i++) {
    const grp = groupOf[c.rec[i]!]!;
    const n = c.len[i]!;
    for (let k = 0; k < n && grp.ids.length < MAX_IDS; k++) grp.ids.push(c.first[i]! + k);
    const p = c.parent[i]!;
    if (p < 0) continue;
    let set = parents.get(grp);
    if (set === undefined) parents.set(grp, (set = new Set()));
    set.add(p);
  }
  for (const [grp, set] of parents) {
    grp.parentCount = set.size;
    for (const p of set) {
      if (grp.parents.length === MAX_IDS) break;
      grp.parents.push(p);
    }
  }
  const groups = [...byId.values()];
  for (const grp of groups) {
    pickStack(grp, stacks.get(grp)!);
    finish(grp, mode);
  }
  // Ids are hex: a plain comparison (localeCompare would load ICU's collator, slow to start).
  groups.sort((a, b) => b.count - a.count || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { groups, groupOf };
}

/** The most common stack stands for the group; creators are summed by site. */
function pickStack(grp: Group, seen: Map<Stack, number>): void {
  let bestN = -1;
  const sites = new Map<string, { site: CreationSite; count: number }>();
  for (const [st, n] of seen) {
    if (n > bestN) {
      grp.stack = st;
      bestN = n;
    }
    const c = st.createdBy;
    if (!c) continue;
    const k = `${c.func} ${c.file}:${c.line}`;
    const e = sites.get(k) ?? { site: c, count: 0 };
    e.count += n;
    sites.set(k, e);
  }
  grp.creators = [...sites.values()].sort((a, b) => b.count - a.count);
  // The representative stack carries the most common creator.
  const top = grp.creators[0];
  if (top && grp.stack.createdBy !== top.site) {
    for (const st of seen.keys())
      if (st.createdBy === top.site) {
        grp.stack = st;
        break;
      }
  }
}

/** One counted record into its group (ids and parents come from the runs). */
function add(grp: Group, g: Goroutine): void {
  grp.count += g.count;
  grp.states.set(g.state, (grp.states.get(g.state) ?? 0) + g.count);
  if (g.leaked) grp.leaked += g.count;
  if (g.lockedToThread) grp.lockedToThread += g.count;
  if (g.waitMinutes !== undefined) {
    const w = grp.waitMinutes;
    if (w === undefined) grp.waitMinutes = { min: g.waitMinutes, max: g.waitMinutes };
    else {
      if (g.waitMinutes < w.min) w.min = g.waitMinutes;
      if (g.waitMinutes > w.max) w.max = g.waitMinutes;
    }
  } else grp.unwaited += g.count;
  if (g.labels !== undefined) {
    const t = labelText(g.labels);
    grp.labels.set(t, (grp.labels.get(t) ?? 0) + g.count);
  }
}

function finish(grp: Group, mode: IdleMode): void {
  let best = '';
  let bestN = -1;
  for (const [st, n] of grp.states) {
    if (n > bestN) {
      best = st;
      bestN = n;
    }
  }
  grp.state = best;
  // A wait time printed for some goroutines means the rest waited under a minute: min is 0.
  if (grp.waitMinutes && grp.unwaited > 0) grp.waitMinutes.min = 0;
  const frames = grp.stack.frames;
  grp.blockedOn = blockKind(best, frames);
  grp.holder = holdingFrame(frames);
  const isMain = grp.stack.createdBy === undefined && isMainStack(frames);
  grp.idle = idleReason(frames, grp.blockedOn, isMain, mode);
}

/** The program's first goroutine: its outermost non-runtime frame is main.main. */
function isMainStack(frames: readonly Frame[]): boolean {
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i]!;
    if (f.pkg === 'runtime') continue;
    return f.func === 'main.main';
  }
  return false;
}
