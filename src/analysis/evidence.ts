/**
 * Evidence about a group that only the whole dump holds: whether the goroutines that started its
 * goroutines are still alive, and whether each of its goroutines has a sibling (started by the
 * same parent, which started only a few) waiting on the network: the reader of a connection
 * that is still open. Only tracebacks print parents (`created by F in goroutine N`, Go 1.21+);
 * elsewhere the counts stay zero and `withParent` says so.
 */
import type { Snapshot } from '../model/snapshot.js';
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

export function lineages(s: Snapshot, groups: readonly Group[]): Map<Group, Lineage> {
  const groupOf = new Map<number, Group>();
  for (const g of groups) for (const id of g.ids) groupOf.set(id, g);
  // Parent → how many of its children wait on the network, and how many children it has.
  const ioChildren = new Map<number, number>();
  const children = new Map<number, number>();
  for (const gr of s.goroutines) {
    if (gr.id === undefined || gr.parentId === undefined) continue;
    children.set(gr.parentId, (children.get(gr.parentId) ?? 0) + 1);
    if (groupOf.get(gr.id)?.blockedOn === 'io')
      ioChildren.set(gr.parentId, (ioChildren.get(gr.parentId) ?? 0) + 1);
  }
  // Parent → how many of its children run or wait on I/O (idle by design or not).
  const activeChildren = new Map<number, number>();
  for (const gr of s.goroutines) {
    if (gr.id === undefined || gr.parentId === undefined) continue;
    const k = groupOf.get(gr.id)?.blockedOn;
    if (k === 'io' || k === 'running' || k === 'syscall')
      activeChildren.set(gr.parentId, (activeChildren.get(gr.parentId) ?? 0) + 1);
  }
  const acc = new Map<
    Group,
    { withParent: number; parentAlive: number; onOpenConn: number; kinActive: number }
  >();
  for (const gr of s.goroutines) {
    if (gr.id === undefined || gr.parentId === undefined) continue;
    const g = groupOf.get(gr.id);
    if (!g) continue;
    let a = acc.get(g);
    if (!a) acc.set(g, (a = { withParent: 0, parentAlive: 0, onOpenConn: 0, kinActive: 0 }));
    a.withParent++;
    if (groupOf.has(gr.parentId)) a.parentAlive++;
    const io = ioChildren.get(gr.parentId) ?? 0;
    // A reader counts as its own sibling only for the other goroutines of its parent. A parent
    // that started many goroutines (main, a server's startup) is no connection's owner.
    if (io > (g.blockedOn === 'io' ? 1 : 0) && (children.get(gr.parentId) ?? 0) <= PER_CONN)
      a.onOpenConn++;
    // The group's own kind is never active here (it waits), so no goroutine counts itself.
    if ((activeChildren.get(gr.parentId) ?? 0) > 0 || (activeChildren.get(gr.id) ?? 0) > 0)
      a.kinActive++;
  }
  return acc;
}
