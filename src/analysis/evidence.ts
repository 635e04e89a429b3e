/**
 * Evidence about a group that only the whole dump holds: whether the goroutines that started its
 * goroutines are still alive, and whether each of its goroutines has a sibling (started by the
 * same parent, which started only a few) waiting on the network: the reader of a connection
 * that is still open. Only tracebacks print parents (`created by F in goroutine N`, Go 1.21+);
 * elsewhere the counts stay zero and `withParent` says so.
 */
import type { CountedGoroutines } from '../model/snapshot.js';
import type { Group } from './group.js';

export interface Lineage {
  /** Goroutines of the group whose parent id was printed. */
  readonly withParent: number;
  /** Of those, how many have a parent still in the dump. */
  readonly parentAlive: number;
  /** Of those, how many have a sibling (same parent) waiting on network I/O. */
  readonly onOpenConn: number;
  /**
   * Goroutines of the group with a sibling or a child that runs or waits on I/O: the goroutines
   * a WaitGroup.Wait waits for are started beside it or by it, and these may still call Done.
   */
  readonly kinActive: number;
}

/** Most goroutines one connection's handler starts (a reader, a writer, a few helpers). */
const PER_CONN = 8;

/**
 * Lineage of every group, from the counted goroutines (`groupOf`: each record's group, from
 * groupCounted). Works on runs of ids, so a million identical goroutines cost a few runs here.
 */
export function lineages(c: CountedGoroutines, groupOf: readonly Group[]): Map<Group, Lineage> {
  // Parent → how many children it has, how many of them wait on the network, and how many run
  // or wait on I/O (idle by design or not). One entry per parent: one lookup per run.
  const kids = new Map<number, Kids>();
  for (let i = 0; i < c.runs; i++) {
    const p = c.parent[i]!;
    if (p < 0) continue;
    const n = c.len[i]!;
    let e = kids.get(p);
    if (e === undefined) kids.set(p, (e = { all: 0, io: 0, active: 0 }));
    e.all += n;
    const k = groupOf[c.rec[i]!]!.blockedOn;
    if (k === 'io') e.io += n;
    if (k === 'io' || k === 'running' || k === 'syscall') e.active += n;
  }
  const acc = new Map<
    Group,
    { withParent: number; parentAlive: number; onOpenConn: number; kinActive: number }
  >();
  let activeParents: Set<number> | undefined;
  for (let i = 0; i < c.runs; i++) {
    const p = c.parent[i]!;
    if (p < 0) continue;
    const g = groupOf[c.rec[i]!]!;
    const n = c.len[i]!;
    let a = acc.get(g);
    if (!a) acc.set(g, (a = { withParent: 0, parentAlive: 0, onOpenConn: 0, kinActive: 0 }));
    a.withParent += n;
    if (c.has(p)) a.parentAlive += n;
    const e = kids.get(p)!;
    // A reader counts as its own sibling only for the other goroutines of its parent. A parent
    // that started many goroutines (main, a server's startup) is no connection's owner.
    if (e.io > (g.blockedOn === 'io' ? 1 : 0) && e.all <= PER_CONN) a.onOpenConn += n;
    // The group's own kind is never active here (it waits), so no goroutine counts itself.
    if (e.active > 0) a.kinActive += n;
    else {
      activeParents ??= new Set([...kids].filter(([, x]) => x.active > 0).map(([id]) => id));
      a.kinActive += idsIn(activeParents, c.first[i]!, n);
    }
  }
  return acc;
}

/** A parent's children: all, waiting on the network, running or waiting on I/O. */
interface Kids {
  all: number;
  io: number;
  active: number;
}

/** How many of the ids first .. first+n-1 are in `set`: by whichever of the two is fewer. */
function idsIn(set: ReadonlySet<number>, first: number, n: number): number {
  let k = 0;
  if (n <= set.size) {
    for (let id = first; id < first + n; id++) if (set.has(id)) k++;
  } else for (const id of set) if (id >= first && id < first + n) k++;
  return k;
}
