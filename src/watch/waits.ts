/**
 * Wait-time buckets: how long a group's goroutines had waited at a debug=2 dump, counted per
 * bucket so the dashboard can show a group's distribution, and how it ages from dump to dump.
 *
 * The runtime prints a wait in whole minutes, only from one minute up (and only for goroutines
 * the garbage collector has seen waiting since), so the first bucket holds every goroutine with
 * no minutes printed. The bounds are the ones an SRE reasons in: seconds-old, a few minutes,
 * a quarter hour, an hour, a shift, a day, older. Stored by index: never reorder them; a new
 * bound means a new migration.
 */

/** Bucket i holds waits of at least the previous bound and under `upTo` minutes. */
export const WAIT_BUCKETS: readonly { label: string; upTo: number }[] = [
  { label: '< 1 min', upTo: 1 },
  { label: '1–5 min', upTo: 5 },
  { label: '5–15 min', upTo: 15 },
  { label: '15–60 min', upTo: 60 },
  { label: '1–6 h', upTo: 6 * 60 },
  { label: '6–24 h', upTo: 24 * 60 },
  { label: '≥ 1 day', upTo: Infinity },
];

/** The bucket of a wait as the runtime printed it (undefined: no minutes printed). */
export function waitBucket(minutes: number | undefined): number {
  if (minutes === undefined || !(minutes >= 0)) return 0;
  return WAIT_BUCKETS.findIndex((b) => minutes < b.upTo);
}

/** One dump's goroutines of one group per bucket, and when the dump was taken. */
export interface WaitCounts {
  at: number;
  /** One count per WAIT_BUCKETS entry. */
  counts: number[];
}
