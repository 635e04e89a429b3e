/**
 * The contract of a watch `Store`, as one suite every store must pass (the SQLite store now, a
 * PostgreSQL store next): what the watcher, the detectors, the API and a dashboard read back is
 * exactly what was written, per target, in time order, with structured frames. Call
 * `storeConformance(name, open)` from a test file; `open` gives a fresh, empty store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Frame } from '../src/model/frame.js';
import type { AlertEvent, GroupInfo, Scrape, Store } from '../src/watch/types.js';

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const STEP = 15_000;
const HOUR = 3_600_000;

const frame = (func: string, file: string, line: number): Frame => ({
  func,
  pkg: func.slice(0, func.indexOf('.', func.lastIndexOf('/') + 1)),
  file,
  line,
});

export function scrapeOf(
  target: string,
  i: number,
  groups: [string, number, number?][],
  infos: GroupInfo[] = [],
): Scrape {
  return {
    target,
    at: T0 + i * STEP,
    total: groups.reduce((a, [, n]) => a + n, 0),
    groups: groups.map(([id, count, leaked]) => ({ id, count, leaked: leaked ?? 0 })),
    infos,
    durationMs: 2,
    source: 'proto',
  };
}

export function infoOf(id: string, extra: Partial<GroupInfo> = {}): GroupInfo {
  return {
    id,
    blockedOn: 'chan-receive',
    frames: [
      frame(`main.${id}`, '/src/app/main.go', 10),
      frame('main.main', '/src/app/main.go', 3),
    ],
    ...extra,
  };
}

export function storeConformance(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    it('reads back totals, group series (0 where absent), latest groups and targets', async () => {
      const s = await open();
      for (let i = 0; i < 10; i++) {
        const groups: [string, number][] = [
          ['pump', 100 * i + 1],
          ['idle', 7],
        ];
        if (i % 2 === 1) groups.push(['flaky', i]);
        await s.addScrape(
          scrapeOf(
            'svc',
            i,
            groups,
            i === 0 ? [infoOf('pump'), infoOf('idle', { idle: 'runtime' })] : [],
          ),
        );
      }
      await s.addScrape(scrapeOf('other', 3, [['pump', 2]]));
      assert.deepEqual(
        await s.totals('svc', T0 + 2 * STEP, T0 + 4 * STEP),
        [2, 3, 4].map((i) => ({ at: T0 + i * STEP, value: 100 * i + 1 + 7 + (i % 2 ? i : 0) })),
      );
      assert.deepEqual(await s.totals('nobody', 0, Infinity), []);
      assert.deepEqual(
        (await s.groupSeries('svc', 'flaky', T0, T0 + 4 * STEP)).map((p) => p.value),
        [0, 1, 0, 3, 0],
      );
      assert.deepEqual(await s.groupSeries('svc', 'unknown', 0, Infinity), []);
      const latest = await s.latestGroups('svc', 2);
      assert.deepEqual(
        latest.map((g) => [g.id, g.count, g.info?.blockedOn]),
        [
          ['pump', 901, 'chan-receive'],
          ['flaky', 9, undefined],
        ],
      );
      assert.equal((await s.latestGroups('svc', 10))[2]?.info?.idle, 'runtime');
      assert.deepEqual(await s.targets(), [
        { name: 'other', lastAt: T0 + 3 * STEP, lastTotal: 2, labels: {} },
        { name: 'svc', lastAt: T0 + 9 * STEP, lastTotal: 901 + 7 + 9, labels: {} },
      ]);
      await s.close();
    });

    it('reads back the groups of the scrape nearest a moment (compare and flame views)', async () => {
      const s = await open();
      for (let i = 0; i < 6; i++) {
        const groups: [string, number, number?][] = [['pump', 10 * (i + 1), i === 5 ? 3 : 0]];
        if (i < 3) groups.push(['early', 4]);
        await s.addScrape(
          scrapeOf('svc', i, groups, i === 0 ? [infoOf('pump'), infoOf('early')] : []),
        );
      }
      await s.addScrape(scrapeOf('other', 1, [['x', 1]]));
      const at1 = await s.groupsAt('svc', T0 + STEP + 1000, 100);
      assert.equal(at1?.at, T0 + STEP, 'the nearest scrape: 1 s after the second one');
      assert.equal(at1?.total, 24);
      assert.deepEqual(
        at1?.groups.map((g) => [g.id, g.count, g.leaked, g.info?.frames[0]?.func]),
        [
          ['pump', 20, 0, 'main.pump'],
          ['early', 4, 0, 'main.early'],
        ],
      );
      // Nearer the next one: the next one; half way: the earlier one.
      assert.equal((await s.groupsAt('svc', T0 + 2 * STEP - 1000, 100))?.at, T0 + 2 * STEP);
      assert.equal((await s.groupsAt('svc', T0 + STEP + STEP / 2, 100))?.at, T0 + STEP);
      // Before the first and after the last: the ends. The late scrape has no 'early' group.
      assert.equal((await s.groupsAt('svc', 0, 100))?.at, T0);
      const last = await s.groupsAt('svc', Infinity, 100);
      assert.equal(last?.at, T0 + 5 * STEP);
      assert.deepEqual(
        last?.groups.map((g) => [g.id, g.count, g.leaked]),
        [['pump', 60, 3]],
      );
      assert.deepEqual(
        (await s.groupsAt('svc', T0, 1))?.groups.map((g) => g.id),
        ['pump'],
        'largest first, up to the limit',
      );
      assert.equal(await s.groupsAt('nobody', T0, 100), undefined);
      await s.close();
    });

    it('keeps frames structured, and never loses a creator or holder learnt before', async () => {
      const s = await open();
      const holder = frame('main.(*Service).pumpMessages', '/src/app/notify.go', 88);
      const creator = frame('main.(*Service).Subscribe', '/src/app/notify.go', 61);
      await s.addScrape(
        scrapeOf('a', 0, [['g', 1]], [infoOf('g', { holder, holderOwner: 'user' })]),
      );
      assert.equal((await s.groupInfo('g'))?.createdBy, undefined);
      await s.addScrape(
        scrapeOf('a', 1, [['g', 1]], [infoOf('g', { blockedOn: 'select', createdBy: creator })]),
      );
      // A later protobuf info knows less: it must not wipe the creator or the holder.
      await s.addScrape(scrapeOf('a', 2, [['g', 1]], [infoOf('g', { blockedOn: 'chan-send' })]));
      const got = await s.groupInfo('g');
      assert.deepEqual(got?.holder, holder);
      assert.equal(got?.holderOwner, 'user');
      assert.deepEqual(got?.createdBy, creator);
      assert.equal(got?.blockedOn, 'select', 'the info with a creator wins');
      assert.deepEqual(got?.frames, infoOf('g').frames);
      // Hostile strings survive the round trip unchanged (escaping is the sinks' job).
      const odd = frame('main.weird\nname"\u001b[31m', 'C:\\src\\x.go', 1);
      await s.addScrape(
        scrapeOf('a', 3, [['h', 1]], [infoOf('h', { holder: odd, frames: [odd] })]),
      );
      assert.deepEqual((await s.groupInfo('h'))?.holder, odd);
      assert.equal(await s.groupInfo('nope'), undefined);
      await s.close();
    });

    it('keeps the waits of the latest debug=2 scrape, and the heap with its sites', async () => {
      const s = await open();
      const site = frame('main.(*Cache).put', '/src/app/cache.go', 40);
      for (let i = 0; i < 4; i++) {
        const sc = scrapeOf('svc', i, [
          ['pump', 10],
          ['pub', 5],
        ]);
        if (i === 1) sc.waits = new Map([['pump', 12]]);
        if (i === 2) sc.waits = new Map([['pub', 31]]);
        if (i % 2 === 0)
          sc.heap = { inuse: 1000 * (i + 1), sites: [{ frame: site, bytes: 100 * (i + 1) }] };
        await s.addScrape(sc);
      }
      const w = await s.latestWaits('svc');
      assert.equal(w?.at, T0 + 2 * STEP);
      assert.deepEqual([...(w?.waits ?? [])], [['pub', 31]]);
      assert.equal(await s.latestWaits('nobody'), undefined);
      assert.deepEqual(await s.heapSeries('svc', 0, Infinity), [
        { at: T0, value: 1000 },
        { at: T0 + 2 * STEP, value: 3000 },
      ]);
      assert.deepEqual(await s.heapSites('svc', 0, Infinity), [
        {
          frame: site,
          points: [
            { at: T0, value: 100 },
            { at: T0 + 2 * STEP, value: 300 },
          ],
        },
      ]);
      await s.close();
    });

    it("keeps each dump's goroutines per wait bucket: a group's first and last in a range", async () => {
      const s = await open();
      // Dumps at scrapes 1, 3 and 6 (the one at 6 holds no goroutine of `pump`); none at 7.
      const dumps = new Map<number, [string, number[]][]>([
        [1, [['pump', [8, 2]]]],
        [
          3,
          [
            ['pump', [1, 4, 0, 0, 5]],
            ['pub', [3]],
          ],
        ],
        [6, [['pub', [0, 0, 0, 0, 0, 0, 2]]]],
      ]);
      for (let i = 0; i < 8; i++) {
        const sc = scrapeOf('svc', i, [
          ['pump', 10],
          ['pub', 5],
        ]);
        const d = dumps.get(i);
        if (d) sc.waitBuckets = new Map(d);
        await s.addScrape(sc);
        // Another target's dumps at the same moments must not leak into svc's answers.
        const other = scrapeOf('other', i, [['pump', 99]]);
        if (i === 0 || i === 7) other.waitBuckets = new Map([['pump', [99]]]);
        await s.addScrape(other);
      }
      const at = (i: number) => T0 + i * STEP;
      const counts = (...n: number[]) => [...n, ...Array<number>(7 - n.length).fill(0)];
      assert.deepEqual(await s.groupWaits('svc', 'pump', 0, Infinity), {
        first: { at: at(1), counts: counts(8, 2) },
        last: { at: at(6), counts: counts() },
      });
      assert.deepEqual(await s.groupWaits('svc', 'pump', at(2), at(5)), {
        first: { at: at(3), counts: counts(1, 4, 0, 0, 5) },
        last: { at: at(3), counts: counts(1, 4, 0, 0, 5) },
      });
      assert.deepEqual(await s.groupWaits('svc', 'pub', at(3), at(7)), {
        first: { at: at(3), counts: counts(3) },
        last: { at: at(6), counts: counts(0, 0, 0, 0, 0, 0, 2) },
      });
      // A group the store never saw: its count in each dump is 0.
      assert.deepEqual(await s.groupWaits('svc', 'ghost', at(3), at(3)), {
        first: { at: at(3), counts: counts() },
        last: { at: at(3), counts: counts() },
      });
      assert.equal(await s.groupWaits('svc', 'pump', at(7), at(9)), undefined, 'no dump there');
      assert.equal(await s.groupWaits('nobody', 'pump', 0, Infinity), undefined);
      assert.deepEqual(await s.groupWaits('other', 'pump', 0, Infinity), {
        first: { at: at(0), counts: counts(99) },
        last: { at: at(7), counts: counts(99) },
      });
      // The longest waits (the detectors' input) are kept apart: these scrapes set none.
      assert.equal(await s.latestWaits('svc'), undefined);
      await s.close();
    });

    it('keeps the learnt baseline per target', async () => {
      const s = await open();
      assert.equal(await s.baseline('svc'), undefined);
      await s.setBaseline('svc', { since: T0 });
      assert.deepEqual(await s.baseline('svc'), { since: T0 });
      await s.setBaseline('svc', { since: T0, normalPeak: 420 });
      await s.setBaseline('api', { since: T0 + HOUR });
      assert.deepEqual(await s.baseline('svc'), { since: T0, normalPeak: 420 });
      assert.deepEqual(await s.baseline('api'), { since: T0 + HOUR });
      await s.close();
    });

    it('stores alerts whole, newest first, and knows which are still open', async () => {
      const s = await open();
      const growth: AlertEvent = {
        type: 'alert',
        key: 'svc|growth|pump',
        target: 'svc',
        detector: 'growth',
        at: new Date(T0).toISOString(),
        summary: 'pump group +40/min; at this rate: 50,000 in 6 days',
        group: {
          id: 'pump',
          holder: frame('main.(*Service).pumpMessages', '/src/app/notify.go', 88),
          createdBy: frame('main.(*Service).Subscribe', '/src/app/notify.go', 61),
          blockedOn: 'select',
          count: 4100,
        },
        evidence: { series: [[T0, 100]], slopePerMin: 40 },
        labels: { team: 'notify' },
      };
      const peak: AlertEvent = {
        type: 'alert',
        key: 'svc|peak|',
        target: 'svc',
        detector: 'peak',
        at: new Date(T0 + 1000).toISOString(),
        summary: '2.0x the normal peak',
        evidence: {},
        labels: {},
      };
      const peakResolved: AlertEvent = {
        ...peak,
        type: 'resolved',
        at: new Date(T0 + HOUR).toISOString(),
      };
      await s.addAlert(growth);
      await s.addAlert(peak);
      assert.deepEqual(
        (await s.openAlerts()).map((e) => e.key),
        ['svc|growth|pump', 'svc|peak|'],
      );
      await s.addAlert(peakResolved);
      assert.deepEqual(await s.alerts(10), [peakResolved, peak, growth]);
      assert.deepEqual(await s.alerts(1), [peakResolved]);
      assert.deepEqual(await s.openAlerts(), [growth], 'a resolved alert is no longer open');
      await s.close();
    });

    it('records failed scrapes per target, apart from history', async () => {
      const s = await open();
      await s.addScrape(scrapeOf('svc', 0, [['g', 1]]));
      await s.addError('svc', T0 + 5, 'connect ECONNREFUSED 127.0.0.1:6060');
      await s.addError('down', T0 + 6, 'timeout after 30 s');
      assert.deepEqual(await s.errors('svc', 0, Infinity), [
        { at: T0 + 5, error: 'connect ECONNREFUSED 127.0.0.1:6060' },
      ]);
      assert.equal((await s.errors('down', 0, Infinity)).length, 1);
      assert.equal((await s.targets()).length, 1, 'a target that never answered has no history');
      await s.close();
    });

    it("keeps a target's labels as last set, with its history", async () => {
      const s = await open();
      // Labels may be set before the first scrape (discovery names a target, then it answers).
      await s.setTargetLabels('pay/checkout', {
        namespace: 'pay',
        pod: 'checkout-7d9f-abc',
        team: 'payments "core"\n',
      });
      assert.deepEqual(await s.targets(), [], 'no history yet: not listed');
      await s.addScrape(scrapeOf('pay/checkout', 0, [['g', 1]]));
      await s.addScrape(scrapeOf('plain', 0, [['g', 2]]));
      // The pod came back under a new name: the target's history continues, its labels move on.
      await s.setTargetLabels('pay/checkout', { namespace: 'pay', pod: 'checkout-7d9f-xyz' });
      await s.addScrape(scrapeOf('pay/checkout', 1, [['g', 3]]));
      assert.deepEqual(await s.targets(), [
        {
          name: 'pay/checkout',
          lastAt: T0 + STEP,
          lastTotal: 3,
          labels: { namespace: 'pay', pod: 'checkout-7d9f-xyz' },
        },
        { name: 'plain', lastAt: T0, lastTotal: 2, labels: {} },
      ]);
      assert.deepEqual(
        (await s.totals('pay/checkout', 0, Infinity)).map((p) => p.value),
        [1, 3],
      );
      await s.setTargetLabels('plain', { team: 'payments "core"\n' });
      assert.deepEqual(
        (await s.targets()).find((t) => t.name === 'plain')?.labels,
        { team: 'payments "core"\n' },
        'label text survives as given',
      );
      await s.close();
    });

    it('never half-writes a scrape: a failing one leaves nothing, and the next one works', async () => {
      const s = await open();
      await s.addScrape(scrapeOf('a', 0, [['g1', 1]]));
      const bad = scrapeOf('a', 1, [
        ['g1', 2],
        ['new-group', 1],
        ['g3', 1],
      ]);
      bad.groups[2]!.count = null as unknown as number;
      await assert.rejects(s.addScrape(bad));
      assert.deepEqual(await s.totals('a', 0, Infinity), [{ at: T0, value: 1 }]);
      await s.addScrape(
        scrapeOf(
          'a',
          2,
          [
            ['g1', 3],
            ['new-group', 4],
          ],
          [infoOf('new-group')],
        ),
      );
      assert.deepEqual(
        (await s.latestGroups('a', 5)).map((g) => [g.id, g.count]),
        [
          ['new-group', 4],
          ['g1', 3],
        ],
      );
      await s.close();
    });
  });
}
