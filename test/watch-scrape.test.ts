/**
 * One scrape against real captured profiles (testdata/cmd/pprof-farm serves files the runtime
 * wrote days ago, so their own timestamps are days behind): time is the watcher's, the debug=2
 * cap is judged on the scrape's own count, and group ids are analyze's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newTargetState, scrape } from '../src/watch/scrape.js';
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
