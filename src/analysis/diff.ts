/**
 * `leakwatch diff BEFORE AFTER`: which groups appeared, grew, shrank or vanished. Groups match by
 * their exact stack signature; groups left over match by function names alone, so two dumps of
 * slightly different builds (lines moved) still pair up.
 */
import type { Snapshot } from '../model/snapshot.js';
import { groupSnapshot, type Group } from './group.js';

type Change = 'appeared' | 'grew' | 'shrank' | 'vanished' | 'same';

interface GroupChange extends Paired<Group> {
  /** Goroutines per minute, when both snapshots carry times and they differ. */
  readonly perMinute?: number;
}

export interface DiffReport {
  readonly before: Snapshot;
  readonly after: Snapshot;
  /** Minutes between the snapshots, when both carry times. */
  readonly minutes?: number;
  readonly changes: GroupChange[];
  readonly totalDelta: number;
}

/** Same functions on other lines: another build of the same code. */
function funcsKey(g: Group): string {
  let i = 0;
  const fr = g.stack.frames;
  while (i < fr.length - 1 && fr[i]!.pkg === 'runtime') i++;
  return funcNames(fr.slice(i));
}

/** The function names of a stack, one per line: the second pass's key (runtime frames left off). */
export function funcNames(frames: readonly { func: string }[]): string {
  return frames.map((f) => f.func).join('\n');
}

/** One group's change between two moments, whatever holds the group (a Group, a stored one). */
interface Paired<T> {
  readonly change: Change;
  /** The group in AFTER (or in BEFORE when it vanished). */
  readonly group: T;
  readonly before: number;
  readonly after: number;
  readonly delta: number;
}

/**
 * The diff's core, for any kind of group: pairs by id, then what is left by `funcs` (same
 * functions, other lines), and says how each pair changed; the largest changes first. `diff`
 * runs it on two dumps, the dashboard's compare on two stored scrapes.
 */
export function pairGroups<T extends { readonly id: string; readonly count: number }>(
  a: readonly T[],
  b: readonly T[],
  funcs: (g: T) => string,
): Paired<T>[] {
  const pairs: [T | undefined, T | undefined][] = [];
  const left = new Map(a.map((g) => [g.id, g]));
  const unmatched: T[] = [];
  for (const g of b) {
    const old = left.get(g.id);
    if (old) {
      pairs.push([old, g]);
      left.delete(g.id);
    } else unmatched.push(g);
  }
  // Second pass: same functions, different lines (another build of the same code).
  const byFuncs = new Map<string, T[]>();
  for (const g of left.values()) {
    const k = funcs(g);
    byFuncs.set(k, [...(byFuncs.get(k) ?? []), g]);
  }
  for (const g of unmatched) {
    const cands = byFuncs.get(funcs(g));
    const old = cands?.shift();
    if (old) left.delete(old.id);
    pairs.push([old, g]);
  }
  for (const g of left.values()) pairs.push([g, undefined]);

  const out = pairs.map(([x, y]): Paired<T> => {
    const before = x?.count ?? 0;
    const after = y?.count ?? 0;
    const delta = after - before;
    const change: Change =
      x === undefined
        ? 'appeared'
        : y === undefined
          ? 'vanished'
          : delta > 0
            ? 'grew'
            : delta < 0
              ? 'shrank'
              : 'same';
    return { change, group: (y ?? x)!, before, after, delta };
  });
  out.sort((p, q) => Math.abs(q.delta) - Math.abs(p.delta) || q.after - p.after);
  return out;
}

export function diffSnapshots(before: Snapshot, after: Snapshot): DiffReport {
  const a = groupSnapshot(before);
  const b = groupSnapshot(after);
  let minutes: number | undefined;
  if (before.takenAt && after.takenAt) {
    const m = (after.takenAt.getTime() - before.takenAt.getTime()) / 60000;
    if (m > 0) minutes = m;
  }
  const changes: GroupChange[] = pairGroups(a, b, funcsKey).map((p) => {
    const c: { -readonly [K in keyof GroupChange]: GroupChange[K] } = { ...p };
    if (minutes !== undefined) c.perMinute = Math.round((p.delta / minutes) * 100) / 100;
    return c;
  });
  return { before, after, minutes, changes, totalDelta: after.total - before.total };
}
