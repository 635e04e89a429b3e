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
  // or wait on I/O (idle by design or not).
  const children = new Map<number, number>();
  const ioChildren = new Map<number, number>();
  const activeChildren = new Map<number, number>();
  for (let i = 0; i < c.runs; i++) {
    const p = c.parent[i]!;
    if (p < 0) continue;
    const n = c.len[i]!;
    children.set(p, (children.get(p) ?? 0) + n);
    const k = groupOf[c.rec[i]!]!.blockedOn;
    if (k === 'io') ioChildren.set(p, (ioChildren.get(p) ?? 0) + n);
    if (k === 'io' || k === 'running' || k === 'syscall')
      activeChildren.set(p, (activeChildren.get(p) ?? 0) + n);
  }
  const acc = new Map<
    Group,
    { withParent: number; parentAlive: number; onOpenConn: number; kinActive: number }
  >();
  for (let i = 0; i < c.runs; i++) {
    const p = c.parent[i]!;
    if (p < 0) continue;
    const g = groupOf[c.rec[i]!]!;
    const n = c.len[i]!;
    let a = acc.get(g);
    if (!a) acc.set(g, (a = { withParent: 0, parentAlive: 0, onOpenConn: 0, kinActive: 0 }));
    a.withParent += n;
    if (c.has(p)) a.parentAlive += n;
    const io = ioChildren.get(p) ?? 0;
    // A reader counts as its own sibling only for the other goroutines of its parent. A parent
    // that started many goroutines (main, a server's startup) is no connection's owner.
    if (io > (g.blockedOn === 'io' ? 1 : 0) && (children.get(p) ?? 0) <= PER_CONN)
      a.onOpenConn += n;
    // The group's own kind is never active here (it waits), so no goroutine counts itself.
    if ((activeChildren.get(p) ?? 0) > 0) a.kinActive += n;
    else a.kinActive += parentsIn(activeChildren, c.first[i]!, n);
  }
  return acc;
}

/** How many of the ids first .. first+n-1 are keys of `m`: by whichever of the two is fewer. */
function parentsIn(m: ReadonlyMap<number, number>, first: number, n: number): number {
  let k = 0;
  if (n <= m.size) {
    for (let id = first; id < first + n; id++) if (m.has(id)) k++;
  } else for (const id of m.keys()) if (id >= first && id < first + n) k++;
  return k;
}
