/**
 * The dashboard's views of past moments, over any Store: compare (the groups of two stored
 * scrapes through `leakwatch diff`'s own pairing) and the stacks at one moment (the flame view's
 * data: each group's count at the nearest scrape with its stored frames).
 */
import { funcNames, pairGroups } from '../analysis/diff.js';
import type { GroupCount, GroupInfo, ScrapeGroups, Store } from '../watch/types.js';

/**
 * Groups read per scrape. A scrape holds at most the watcher's distinct-stack cap; past this the
 * smallest groups are left out and the answer says so (`truncated`).
 */
const MOMENT_GROUPS = 5000;

type Stored = GroupCount & { info?: GroupInfo };

/** The second pass's key: function names when the info is known, else the id (pairs nothing). */
function funcsOf(g: Stored): string {
  return g.info ? funcNames(g.info.frames) : `\u0000${g.id}`;
}

function momentOf(s: ScrapeGroups): { at: number; total: number; groups: number } {
  return { at: s.at, total: s.total, groups: s.groups.length };
}

/** Not a moment: a one-line reason for the JSON error (the page shows it). */
export class MomentError extends Error {}

/** A moment from the query string (`key=ms`), or a MomentError naming it. */
function moment(key: string, raw: string | null): number {
  const at = raw === null || raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(at))
    throw new MomentError(
      `${key}=${raw === null ? '' : raw.slice(0, 40)}: expected milliseconds since 1970`,
    );
  return at;
}

async function scrapeAt(store: Store, target: string, at: number): Promise<ScrapeGroups> {
  const s = await store.groupsAt(target, at, MOMENT_GROUPS);
  if (!s) throw new MomentError(`${target}: no scrape stored`);
  return s;
}

/** Two moments of a target (A before B), as `leakwatch diff A B` would show their groups. */
export async function compareMoments(
  store: Store,
  target: string,
  rawA: string | null,
  rawB: string | null,
): Promise<unknown> {
  const a = moment('a', rawA);
  const b = moment('b', rawB);
  const [x, y] = await Promise.all([
    scrapeAt(store, target, Math.min(a, b)),
    scrapeAt(store, target, Math.max(a, b)),
  ]);
  const changes = pairGroups(x.groups, y.groups, funcsOf).filter((c) => c.change !== 'same');
  // A group that vanished has its info from A; stored infos are per group, so any is the same.
  return {
    name: target,
    before: momentOf(x),
    after: momentOf(y),
    minutes: (y.at - x.at) / 60_000,
    totalDelta: y.total - x.total,
    truncated: x.groups.length >= MOMENT_GROUPS || y.groups.length >= MOMENT_GROUPS,
    changes: changes.map((c) => ({
      change: c.change,
      id: c.group.id,
      before: c.before,
      after: c.after,
      delta: c.delta,
      info: c.group.info ?? null,
    })),
  };
}

/** The groups at one moment with their frames: what the flame view draws. */
export async function stacksAt(
  store: Store,
  target: string,
  rawAt: string | null,
): Promise<unknown> {
  const s = await scrapeAt(store, target, moment('at', rawAt));
  return {
    name: target,
    ...momentOf(s),
    truncated: s.groups.length >= MOMENT_GROUPS,
    stacks: s.groups.map((g) => ({
      id: g.id,
      count: g.count,
      leaked: g.leaked,
      // Outermost first, as a flame graph stacks them; none known yet: the id alone.
      frames: g.info ? [...g.info.frames].reverse() : [],
      createdBy: g.info?.createdBy ?? null,
      blockedOn: g.info?.blockedOn ?? 'unknown',
    })),
  };
}
