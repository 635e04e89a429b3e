/**
 * One scrape against real captured profiles (testdata/cmd/pprof-farm serves files the runtime
 * wrote days ago, so their own timestamps are days behind): time is the watcher's, the debug=2
 * cap is judged on the scrape's own count, and group ids are analyze's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newTargetState, scrape } from '../src/watch/scrape.js';
import { WAIT_BUCKETS, waitBucket } from '../src/watch/waits.js';
import type { Target } from '../src/watch/types.js';
import { cli, noGo, ROOT } from './helpers.js';
import { servedProfile } from './watch-helpers.js';
import { join } from 'node:path';

const skip = noGo();
if (skip) console.log(`# skipping the scrape tests: ${skip}`);

describe('watch: one scrape of captured profiles', { skip }, () => {
  let stop = (): void => undefined;
  let url = '';
  before(async () => {
    ({ url, stop } = await servedProfile());
  });
  after(() => stop());

  const target = (): Target => ({ name: 't', url, labels: {}, intervalMs: 1000 });
  const o = { timeoutMs: 10_000, maxBytes: 1 << 26, maxGoroutines: 1_000_000 };

  it("stamps a scrape with the watcher's clock, not the profile's days-old time", async () => {
    const now = Date.now();
    const s = await scrape(
      target(),
      newTargetState(),
      { leak: false, debug2: false },
      o,
      () => now,
    );
    assert.equal(s.at, now);
    assert.ok(s.total > 0);
  });

  it("judges the debug=2 cap on the scrape's own count, from the first scrape on", async () => {
    const small = await scrape(
      target(),
      newTargetState(),
      { leak: false, debug2: true, debug2Max: 10 },
      o,
    );
    assert.ok(small.total > 10);
    assert.doesNotMatch(small.source, /debug2/, 'over the cap: no dump that stops the world');
    const big = await scrape(
      target(),
      newTargetState(),
      { leak: false, debug2: true, debug2Max: 100_000 },
      o,
    );
    assert.match(big.source, /debug2/);
    assert.ok(big.waits, 'waits learnt from the dump');
  });

  it('names groups with the ids analyze --json gives the same stacks', async () => {
    const s = await scrape(target(), newTargetState(), { leak: false, debug2: false }, o);
    const r = await cli(['analyze', '--json', join(ROOT, 'testdata/dumps/notify-leaky.pb.gz')]);
    const groups = (JSON.parse(r.stdout) as { groups: { id: string; count: number }[] }).groups;
    assert.deepEqual(
      s.groups.map((g) => [g.id, g.count]).sort(),
      groups.map((g) => [g.id, g.count]).sort(),
    );
  });
});

describe('watch: wait buckets of a real debug=2 dump', { skip }, () => {
  // Alertmanager's goroutines after hours of running: waits of 1, 2 and 11 minutes beside
  // goroutines with none printed.
  const file = join(ROOT, 'testdata/dumps/server-alertmanager-late.debug2.txt.gz');
  let stop = (): void => undefined;
  let url = '';
  before(async () => {
    ({ url, stop } = await servedProfile(['-debug2', file]));
  });
  after(() => stop());

  it("counts every group's goroutines per bucket, as analyze groups and times the same dump", async () => {
    const s = await scrape(
      { name: 't', url, labels: {}, intervalMs: 1000 },
      newTargetState(),
      { leak: false, debug2: true },
      { timeoutMs: 10_000, maxBytes: 1 << 26, maxGoroutines: 1_000_000 },
    );
    const buckets = s.waitBuckets!;
    const r = await cli(['analyze', '--json', file]);
    const groups = (
      JSON.parse(r.stdout) as {
        groups: { id: string; count: number; waitMinutes: { min: number; max: number } | null }[];
      }
    ).groups;
    assert.deepEqual([...buckets.keys()].sort(), groups.map((g) => g.id).sort(), 'every group');
    let aged = 0;
    for (const g of groups) {
      const b = buckets.get(g.id)!;
      assert.equal(b.length, WAIT_BUCKETS.length);
      assert.equal(
        b.reduce((x, y) => x + y, 0),
        g.count,
        `group ${g.id}: its goroutines, all counted once`,
      );
      const used = b.flatMap((n, i) => (n > 0 ? [i] : []));
      // Youngest and oldest bucket: where analyze's shortest and longest wait fall (a min of 0
      // means some printed no minutes).
      const w = g.waitMinutes;
      assert.equal(used[0], w === null || w.min === 0 ? 0 : waitBucket(w.min), `group ${g.id}`);
      assert.equal(used.at(-1), w === null ? 0 : waitBucket(w.max), `group ${g.id}`);
      aged += b.slice(1).reduce((x, y) => x + y, 0);
    }
    assert.ok(aged > 0, 'some goroutines waited a minute or more');
  });
});

describe('watch: the wait buckets', () => {
  it('put a printed wait in the bucket its label names (bounds: the lower in, the upper out)', () => {
    const label = (m: number | undefined): string => WAIT_BUCKETS[waitBucket(m)]!.label;
    const cases: [number | undefined, string][] = [
      [undefined, '< 1 min'],
      [1, '1–5 min'],
      [4, '1–5 min'],
      [5, '5–15 min'],
      [14, '5–15 min'],
      [15, '15–60 min'],
      [59, '15–60 min'],
      [60, '1–6 h'],
      [359, '1–6 h'],
      [360, '6–24 h'],
      [1439, '6–24 h'],
      [1440, '≥ 1 day'],
      [60 * 24 * 400, '≥ 1 day'],
    ];
    assert.deepEqual(
      cases.map(([m]) => [m, label(m)]),
      cases,
    );
  });
});
