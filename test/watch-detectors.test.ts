/**
 * Detector logic on series: the peak rule, sustained growth versus one jump, hysteresis inputs.
 * (The watcher end to end, on real services, is in watch-scenario.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_DETECTORS,
  evaluate,
  theilSen,
  type TargetHistory,
} from '../src/watch/detectors.js';
import type { Point } from '../src/watch/types.js';

const MIN = 60_000;
const series = (values: number[], step = MIN, t0 = 0): Point[] =>
  values.map((v, i) => ({ at: t0 + i * step, value: v }));

function history(totals: Point[], groups: Record<string, Point[]> = {}): TargetHistory {
  return {
    totals,
    groups: new Map(Object.entries(groups)),
    latest: Object.entries(groups).map(([id, s]) => ({
      id,
      count: s[s.length - 1]!.value,
      leaked: 0,
    })),
    infos: new Map(),
    waits: new Map(),
    since: totals[0]?.at ?? 0,
  };
}

describe('theilSen', () => {
  it('is the slope of a line, and one outlier does not move it', () => {
    assert.equal(theilSen(series([0, 10, 20, 30, 40])), 10 / MIN);
    assert.equal(theilSen(series([0, 10, 20, 1000, 40, 50])), 10 / MIN);
  });
});

describe('peak detector (1.5x the normal peak)', () => {
  const o = { ...DEFAULT_DETECTORS, warmupMs: 2 * MIN, baselineMs: 10 * MIN };
  it('fires above 1.5x the peak learnt after the warm-up, not at 1.4x', () => {
    // Warm-up spike (ignored), then a baseline peaking at 100.
    const base = [900, 900, 80, 100, 90, 95, 100, 85, 90, 100, 95, 90, 100];
    assert.deepEqual(
      evaluate(history(series([...base, 140])), 13 * MIN, o).filter((c) => c.detector === 'peak'),
      [],
    );
    const c = evaluate(history(series([...base, 151])), 13 * MIN, o).find(
      (x) => x.detector === 'peak',
    );
    assert.ok(c);
    assert.equal(c.evidence.normalPeak, 100);
  });
  it('does not judge before the baseline window has passed', () => {
    assert.deepEqual(evaluate(history(series([10, 10, 500])), 2 * MIN, o), []);
  });
});

describe('growth detector', () => {
  const o = { ...DEFAULT_DETECTORS, growthWindowMs: 30 * MIN, growthMin: 50, growthSamples: 6 };
  it('fires on sustained growth, with the rate and a projection', () => {
    const g = series([100, 140, 180, 230, 260, 300, 350, 390]);
    const c = evaluate(history(series([1, 1, 1, 1, 1, 1, 1, 1]), { a: g }), 7 * MIN, o).find(
      (x) => x.detector === 'growth',
    );
    assert.ok(c);
    assert.equal(c.group, 'a');
    assert.match(c.summary, /\+4\d\.\d\/min; at this rate: 50,000 in \d+ h/);
  });
  it('does not fire on one jump', () => {
    const g = series([100, 100, 100, 100, 400, 400, 400, 400]);
    assert.deepEqual(evaluate(history(series([1, 1, 1, 1, 1, 1, 1, 1]), { a: g }), 7 * MIN, o), []);
  });
  it('does not fire on noise around a level', () => {
    const g = series([100, 130, 90, 125, 95, 120, 100, 128]);
    assert.deepEqual(evaluate(history(series([1, 1, 1, 1, 1, 1, 1, 1]), { a: g }), 7 * MIN, o), []);
  });
});

describe('heap detector', () => {
  const o = { ...DEFAULT_DETECTORS, growthWindowMs: 30 * MIN, heapMinBytes: 64 * 2 ** 20 };
  const MB = 2 ** 20;
  it('fires on a heap that keeps growing, naming the allocation site that grew most', () => {
    const h = history(series([1, 1, 1, 1, 1]));
    h.heap = series([100, 130, 170, 200, 240].map((m) => m * MB));
    h.heapSites = new Map([
      [
        'main.cache.put /src/cache.go:40',
        {
          frame: { func: 'main.cache.put', pkg: 'main', file: '/src/cache.go', line: 40 },
          points: series([10, 40, 80, 110, 150].map((m) => m * MB)),
        },
      ],
      [
        'main.init /src/main.go:5',
        {
          frame: { func: 'main.init', pkg: 'main', file: '/src/main.go', line: 5 },
          points: series([50, 50, 50, 50, 50].map((m) => m * MB)),
        },
      ],
    ]);
    const c = evaluate(h, 4 * MIN, o).find((x) => x.detector === 'heap');
    assert.ok(c);
    assert.match(
      c.summary,
      /heap in use 240\.0 MB, \+140\.0 MB in 4 min; most from main\.cache\.put/,
    );
  });
  it('stays quiet under the threshold and on a sawtooth', () => {
    const h = history(series([1, 1, 1, 1, 1]));
    h.heap = series([100, 110, 120, 130, 140].map((m) => m * MB));
    assert.equal(evaluate(h, 4 * MIN, o).filter((x) => x.detector === 'heap').length, 0);
    h.heap = series([100, 300, 100, 300, 200].map((m) => m * MB));
    assert.equal(evaluate(h, 4 * MIN, o).filter((x) => x.detector === 'heap').length, 0);
  });
});
