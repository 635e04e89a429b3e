/**
 * The seed's memory anchors (testdata/cmd/anchors): each anchor is found, with what it blocks
 * on, from the committed dump and, where Go is present, from the program run live in every
 * form it can write, the goroutineleak profile included. Healthy programs raise nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildProgram, cli, dump, noGo, run, serve } from './helpers.js';

interface J {
  format: string;
  profile: string;
  leakDetection: boolean;
  total: number;
  suspects: {
    count: number;
    blockedOn: string;
    certain: boolean;
    holdingFrame: { function: string } | null;
  }[];
}

/** Anchor function → what it blocks on, as a traceback tells it. */
const ANCHORS: Record<string, string> = {
  'main.handleRequestFireAndForget.func1': 'sleep',
  'main.fetchWithTimeout.func1': 'chan-send',
  'main.awaitResult': 'chan-receive',
  'main.doWork': 'select',
  'main.sendOnNilChan': 'nil-chan-send',
  'main.recvOnNilChan': 'nil-chan-receive',
  'main.blockForever': 'select-no-cases',
  'main.lockGuarded': 'mutex',
  'main.waitForAll': 'waitgroup',
  'main.waitForSignal': 'cond',
  'main.readGuarded': 'rwmutex',
};

/**
 * The anchors that wait for work (sleep, select, receive, Cond.Wait). The program starts every
 * anchor in a loop in main, so in a dump that names parents they have the shape of a pool owned
 * by one goroutine, which one dump cannot tell from a healthy pool: they are not suspects on
 * count there. Where the format does not name parents (debug=1, protobuf), count decides.
 */
const POOL_SHAPED = new Set([
  'main.handleRequestFireAndForget.func1',
  'main.doWork',
  'main.awaitResult',
  'main.waitForSignal',
]);

/** What the runtime's leak detector can prove: not sleeps, not a select with a live ticker. */
const PROVABLE = Object.keys(ANCHORS).filter(
  (f) => f !== 'main.handleRequestFireAndForget.func1' && f !== 'main.doWork',
);

async function analyze(args: string[]): Promise<{ code: number; j: J }> {
  const r = await cli(['analyze', '--json', ...args]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  return { code: r.code, j: JSON.parse(r.stdout) as J };
}

const found = (j: J): Map<string, J['suspects'][number]> =>
  new Map(j.suspects.map((s) => [s.holdingFrame?.function ?? '', s]));

describe('memory anchors, committed dump (distinct small counts, 2 to 12)', () => {
  it('every anchor blocked in its own code on a send, lock or wait, or forever, is a suspect at the defaults', async () => {
    const { code, j } = await analyze([dump('anchors.debug2.txt')]);
    assert.equal(code, 1);
    const f = found(j);
    for (const [fn, kind] of Object.entries(ANCHORS)) {
      if (POOL_SHAPED.has(fn)) assert.ok(!f.has(fn), `${fn}: one owner, waiting: not on count`);
      else assert.equal(f.get(fn)?.blockedOn, kind, fn);
    }
    assert.equal(j.suspects.length, Object.keys(ANCHORS).length - POOL_SHAPED.size, 'nothing else');
  });
  it('the waiting anchors, started by one goroutine, are reported as pools, not suspects', async () => {
    const { j } = await analyze(['--min-count', '2', dump('anchors.debug2.txt')]);
    const quiet = (j as unknown as { quiet: { holdingFrame: { function: string }; why: string }[] })
      .quiet;
    for (const fn of POOL_SHAPED) {
      const q = quiet.find((x) => x.holdingFrame.function === fn);
      assert.match(q?.why ?? '', /^a pool: \d+ started by one goroutine/, fn);
    }
  });
  it('by default, the blocked-forever shapes are suspects whatever their count', async () => {
    const { j } = await analyze([dump('anchors.debug2.txt')]);
    const f = found(j);
    for (const fn of ['main.sendOnNilChan', 'main.recvOnNilChan', 'main.blockForever'])
      assert.ok(f.has(fn), fn);
    // The three forever shapes rank above larger groups.
    assert.deepEqual(
      j.suspects
        .slice(0, 3)
        .map((s) => s.blockedOn)
        .sort(),
      ['nil-chan-receive', 'nil-chan-send', 'select-no-cases'],
    );
  });
  it('the goroutineleak dump: the runtime verdict makes even 2 goroutines certain, and ranks first', async () => {
    const { j } = await analyze([dump('anchors.leak.debug2.txt')]);
    const f = found(j);
    for (const fn of PROVABLE) assert.equal(f.get(fn)?.certain, true, fn);
    assert.notEqual(f.get('main.handleRequestFireAndForget.func1')?.certain, true);
    const flags = j.suspects.map((s) => s.certain);
    assert.deepEqual(
      flags,
      [...flags].sort((a, b) => Number(b) - Number(a)),
      'certain ones first',
    );
  });
});

describe('healthy programs, committed dumps', () => {
  for (const f of [
    'healthy-http.debug2.txt',
    'healthy-http.debug1.txt',
    'healthy-http.pb.gz',
    'workerpool.debug2.txt',
  ]) {
    it(`${f}: no suspects`, async () => {
      const { code, j } = await analyze([dump(f)]);
      assert.equal(code, 0, JSON.stringify(j.suspects));
    });
  }
});

const skip = noGo();
if (skip) console.log(`# skipping live anchor tests: ${skip}`);

describe(
  'memory anchors, run live (40 goroutines each) in every form',
  { skip, timeout: 300_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakwatch-anchors-'));
    let bin = '';
    let leakBin = '';
    before(() => {
      bin = buildProgram('cmd/anchors');
      leakBin = buildProgram('cmd/anchors', { GOEXPERIMENT: 'goroutineleakprofile' });
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    for (const form of ['debug2', 'stack', 'debug1', 'proto']) {
      it(`-form ${form}`, async () => {
        const out = join(dir, `anchors.${form}`);
        run(bin, ['-form', form, '-o', out]);
        const { code, j } = await analyze([out]);
        assert.equal(code, 1);
        const f = found(j);
        const parentsNamed = form === 'debug2' || form === 'stack';
        for (const fn of Object.keys(ANCHORS)) {
          if (parentsNamed && POOL_SHAPED.has(fn)) continue;
          assert.ok(f.has(fn), `${form}: ${fn} found among ${[...f.keys()].join(', ')}`);
        }
        if (parentsNamed) {
          for (const [fn, kind] of Object.entries(ANCHORS))
            if (!POOL_SHAPED.has(fn)) assert.equal(f.get(fn)?.blockedOn, kind, fn);
        }
      });
    }

    for (const form of ['leak-debug2', 'leak-debug1', 'leak-proto']) {
      it(`-form ${form} (GOEXPERIMENT=goroutineleakprofile)`, async () => {
        const out = join(dir, `anchors.${form}`);
        run(leakBin, ['-form', form, '-o', out]);
        const { j } = await analyze([out]);
        // A debug=2 file does not say which profile wrote it; its (leaked) marks say the
        // detector ran. The counted forms name the profile in their header or sample type.
        if (form === 'leak-debug2') assert.equal(j.leakDetection, true);
        else assert.equal(j.profile, 'goroutineleak');
        const f = found(j);
        for (const fn of PROVABLE) assert.equal(f.get(fn)?.certain, true, `${form}: ${fn} certain`);
      });
    }

    it('live over HTTP: a base URL of a leak-profile build', async () => {
      const s = await serve(leakBin, ['-serve', '127.0.0.1:0']);
      try {
        const { j } = await analyze([s.url]);
        assert.equal(j.profile, 'goroutineleak');
        assert.equal(j.format, 'traceback');
        const f = found(j);
        for (const fn of PROVABLE) assert.equal(f.get(fn)?.certain, true, fn);
      } finally {
        await s.stop();
      }
    });

    it('healthy programs run live: no suspects', async () => {
      for (const pkg of ['cmd/healthy-http', 'cmd/workerpool']) {
        const out = join(dir, `${pkg.replace('/', '-')}.txt`);
        run(buildProgram(pkg), ['-form', 'debug2', '-o', out]);
        const { code, j } = await analyze([out]);
        assert.equal(code, 0, `${pkg}: ${JSON.stringify(j.suspects)}`);
      }
    });
  },
);

describe('wait times', () => {
  it('a group blocked a minute shows it, in text and JSON', async () => {
    const r = await cli([
      'analyze',
      '--json',
      '--min-count',
      '2',
      dump('anchors-waited.debug2.txt'),
    ]);
    const j = JSON.parse(r.stdout) as {
      suspects: {
        holdingFrame: { function: string } | null;
        waitMinutes: { min: number; max: number } | null;
      }[];
    };
    const mutex = j.suspects.find((s) => s.holdingFrame?.function === 'main.lockGuarded');
    assert.deepEqual(mutex?.waitMinutes, { min: 1, max: 1 });
    const t = await cli(['analyze', '--min-count', '2', dump('anchors-waited.debug2.txt')]);
    assert.match(
      t.stdout,
      /stuck on\s+sync\.Mutex\.Lock in main\.lockGuarded at anchors\/main\.go:\d+, for 1 minute\b/,
    );
  });
  it('2 goroutines stuck on a lock in their own code for a minute are a suspect at the defaults', async () => {
    const r = await cli(['analyze', '--json', dump('anchors-waited.debug2.txt')]);
    const j = JSON.parse(r.stdout) as {
      suspects: { holdingFrame: { function: string } | null; reasons: string[] }[];
    };
    const rw = j.suspects.find((s) => s.holdingFrame?.function === 'main.readGuarded');
    assert.ok(rw, '2 goroutines on an RWMutex, below --min-count');
    assert.ok(rw.reasons.some((x) => /blocked in your code \(main\.readGuarded\)/.test(x)));
    assert.ok(rw.reasons.some((x) => /blocked up to 1 minute$/.test(x)));
  });
});
