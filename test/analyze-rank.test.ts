/**
 * Ranking from the evidence one dump holds (README, "How a group becomes a suspect"), on real
 * dumps: cmd/smallleaks (four leaks of 1-4 goroutines beside healthy pools, per-target loops and
 * a shutdown watcher; its goroutineleak profile is the oracle) and healthy open-source servers
 * under load (scripts/gen-servers.sh: NATS and Alertmanager, built from the module proxy).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, DUMPS, dump } from './helpers.js';

interface JFrame {
  function: string;
  file: string;
  line: number;
}
interface JGroup {
  count: number;
  stack: JFrame[];
  state: string;
  blockedOn: string;
  leaked: number;
  idle: string | null;
  holdingFrame: (JFrame & { owner: string }) | null;
  createdBy: JFrame | null;
  createdVia: string | null;
  waitMinutes: { min: number; max: number } | null;
}
interface JSuspect extends JGroup {
  certain: boolean;
  proven: number;
  reasons: string[];
}
interface JReport {
  incomplete: string | null;
  suspects: JSuspect[];
  quiet: (JGroup & { why: string })[];
  groups: JGroup[];
}

async function analyze(args: string[]): Promise<{ code: number; j: JReport }> {
  const r = await cli(['analyze', '--json', ...args]);
  assert.ok(r.code <= 2, `exit ${r.code}: ${r.stderr}`);
  return { code: r.code, j: JSON.parse(r.stdout) as JReport };
}

const fn = (g: JGroup): string => g.holdingFrame?.function ?? '?';

/** The four leaks of cmd/smallleaks: holding function → what it is blocked on, and how many. */
const LEAKS: Record<string, [string, number]> = {
  'main.queryReplica': ['chan-send', 2],
  'main.(*cache).get': ['mutex', 4],
  'main.awaitBatch': ['waitgroup', 1],
  'main.awaitResult': ['chan-receive', 1],
};
/** Its healthy goroutines, which look like leaks at first sight. */
const HEALTHY = ['main.(*pool).work', 'main.probe', 'main.(*server).serve', 'main.main.func1'];

describe('small leaks (cmd/smallleaks), defaults', () => {
  it('the runtime proves exactly the four leaks (the oracle)', async () => {
    const { j } = await analyze([dump('smallleaks.leak.debug2.txt')]);
    const proven = new Map(j.groups.filter((g) => g.leaked > 0).map((g) => [fn(g), g.leaked]));
    assert.deepEqual(
      Object.fromEntries(proven),
      Object.fromEntries(Object.entries(LEAKS).map(([f, [, n]]) => [f, n])),
    );
  });

  it('without the leak profile, the leaks stranded on a send, a lock and a WaitGroup are suspects', async () => {
    const { code, j } = await analyze([dump('smallleaks.debug2.txt')]);
    assert.equal(code, 1);
    const got = new Map(j.suspects.map((s) => [fn(s), s]));
    for (const f of ['main.queryReplica', 'main.(*cache).get', 'main.awaitBatch']) {
      const s = got.get(f);
      assert.ok(s, `${f} among ${[...got.keys()].join(', ')}`);
      assert.equal(s.blockedOn, LEAKS[f]![0]);
      assert.equal(s.count, LEAKS[f]![1]);
      assert.ok(s.reasons.some((r) => r.startsWith(`blocked in your code (${f})`)));
    }
    for (const f of HEALTHY) assert.ok(!got.has(f), `${f} is healthy`);
    // A receive blocked for under a minute reads like any idle receiver: not yet a suspect.
    assert.ok(!got.has('main.awaitResult'));
    assert.equal(j.suspects.length, 3);
  });

  it('a pool and per-target loops started by one goroutine are not suspects, and say why', async () => {
    const { j } = await analyze(['--min-count', '2', dump('smallleaks.debug2.txt')]);
    const probe = j.quiet.find((q) => fn(q) === 'main.probe');
    assert.equal(probe?.count, 20);
    assert.match(probe.why, /^a pool: 20 started by one goroutine, waiting for work$/);
    const pool = j.quiet.find((q) => fn(q) === 'main.(*pool).work');
    assert.match(pool?.why ?? '', /^a pool: 8 started by one goroutine/);
  });

  const waited = dump('smallleaks-waited.debug2.txt');
  it(
    'after ten minutes, the receive whose starter exited is a suspect; the shutdown watcher is not',
    { skip: existsSync(waited) ? undefined : 'smallleaks-waited.debug2.txt not generated' },
    async () => {
      const { j } = await analyze([waited]);
      const got = new Map(j.suspects.map((s) => [fn(s), s]));
      const recv = got.get('main.awaitResult');
      assert.ok(recv, `awaitResult among ${[...got.keys()].join(', ')}`);
      assert.equal(recv.waitMinutes?.max, 10);
      assert.ok(
        recv.reasons.some((r) => /waited 10 minutes on channel receive in your code/.test(r)),
      );
      // Exactly the runtime's verdict on the same program, from a plain dump.
      for (const f of Object.keys(LEAKS)) assert.equal(got.get(f)?.count, LEAKS[f]![1], f);
      assert.equal(j.suspects.length, Object.keys(LEAKS).length);
      for (const f of HEALTHY) assert.ok(!got.has(f), `${f} is healthy`);
      const watcher = j.quiet.find((q) => fn(q) === 'main.main.func1');
      assert.equal(watcher?.waitMinutes?.max, 10);
      assert.match(watcher.why, /started by a goroutine that is still running/);
    },
  );
});

describe('semantic defects, on real Go output', () => {
  it('time.AfterFunc and context.AfterFunc goroutines, too', async () => {
    const { j } = await analyze([dump('starters.debug2.txt')]);
    const via = new Map(j.groups.map((g) => [g.createdVia, g.createdBy]));
    for (const starter of ['sync.(*WaitGroup).Go', 'time.AfterFunc', 'context.AfterFunc']) {
      const site = via.get(starter);
      assert.match(site?.function ?? '', /^main\.main\.func\d$/, starter);
      assert.match(site?.file ?? '', /cmd\/starters\/main\.go$/, starter);
    }
  });

  it('goroutines started by sync.WaitGroup.Go are created by the function passed to it', async () => {
    const { j } = await analyze([dump('smallleaks.debug2.txt')]);
    const lock = j.suspects.find((s) => fn(s) === 'main.(*cache).get');
    assert.equal(lock?.createdVia, 'sync.(*WaitGroup).Go');
    assert.match(lock.createdBy!.function, /^main\.main\.func\d+\.1$/);
    assert.match(lock.createdBy!.file, /cmd\/smallleaks\/main\.go$/);
    const t = await cli(['analyze', dump('smallleaks.debug2.txt')]);
    assert.match(
      t.stdout,
      /created by {2}main\.main\.func\d+\.1 at smallleaks\/main\.go:\d+ \(started through sync\.\(\*WaitGroup\)\.Go\)/,
    );
    assert.doesNotMatch(t.stdout, /created by {2}\S+ at sync\/waitgroup\.go/);
  });

  it('a panic at GOTRACEBACK=single says the other goroutines are missing, not "no suspects"', async () => {
    const t = await cli(['analyze', dump('smallleaks-panic-single.txt')]);
    assert.equal(t.code, 2);
    assert.doesNotMatch(t.stdout, /No leak suspects/);
    assert.match(t.stdout, /GOTRACEBACK=single/);
    assert.match(t.stdout, /run the program with GOTRACEBACK=all/i);
    const { j } = await analyze([dump('smallleaks-panic-single.txt')]);
    assert.match(j.incomplete ?? '', /GOTRACEBACK=all/);
    // A full dump is complete.
    const full = await analyze([dump('smallleaks.debug2.txt')]);
    assert.equal(full.j.incomplete, null);
  });

  it('certain only for what the runtime marked: 1 of 9 proven', async () => {
    const { j } = await analyze([dump('smallleaks-partial.leak.debug2.txt')]);
    const g = j.suspects.find((s) => fn(s) === 'main.awaitOrder');
    assert.equal(g?.count, 9);
    assert.equal(g.proven, 1);
    assert.equal(g.certain, false);
    const t = await cli(['analyze', dump('smallleaks-partial.leak.debug2.txt')]);
    assert.match(t.stdout, /suspect, 1 of 9 proven leaked by the runtime/);
    assert.doesNotMatch(t.stdout, /LEAKED \(runtime verdict\)/);
    // Where the runtime marked the whole group, it is certain.
    const all = await analyze([dump('smallleaks.leak.debug2.txt')]);
    for (const s of all.j.suspects) assert.equal(s.certain, s.proven === s.count, fn(s));
    assert.ok(all.j.suspects.filter((s) => s.certain).length >= 4);
  });

  it('running and runnable goroutines are never suspects on count alone', async () => {
    // Caught at different instructions of their loop, the 12 may form more than one group:
    // set --min-count to the largest, so count alone would make it a suspect.
    const first = await analyze([dump('smallleaks-spin.debug2.txt')]);
    const spin = first.j.quiet.filter((q) => fn(q) === 'main.checksum');
    assert.equal(
      spin.reduce((n, q) => n + q.count, 0),
      12,
    );
    const largest = Math.max(...spin.map((q) => q.count));
    assert.ok(largest >= 2);
    const { code, j } = await analyze([
      '--min-count',
      String(largest),
      dump('smallleaks-spin.debug2.txt'),
    ]);
    for (const q of j.quiet.filter((x) => fn(x) === 'main.checksum')) {
      assert.equal(q.blockedOn, 'running');
      assert.equal(q.why, 'running or ready to run: not blocked');
    }
    assert.equal(code, 0, JSON.stringify(j.suspects.map(fn)));
  });

  it('in a protobuf profile too: the runtime frames of a GC assist or start mark it', async () => {
    const { code, j } = await analyze(['--min-count', '2', dump('smallleaks-alloc.pb.gz')]);
    const alloc = j.groups.filter((g) => g.stack.some((f) => f.function === 'main.allocate'));
    const parked = alloc.filter((g) =>
      g.stack.some((f) => /^runtime\.(gcParkAssist|gcStart)$/.test(f.function)),
    );
    assert.ok(parked.length > 0, 'the fixture caught an allocator in the GC');
    for (const g of parked) assert.equal(g.blockedOn, 'transient', g.stack[2]?.function);
    assert.ok(!j.suspects.some((s) => s.stack.some((f) => f.function === 'main.allocate')));
    assert.equal(code, 1, 'the per-target loops are suspects here: a profile names no parents');
  });

  it('goroutines caught on the runtime GC semaphore while allocating are a brief runtime wait', async () => {
    const { code, j } = await analyze(['--min-count', '2', dump('smallleaks-alloc.debug2.txt')]);
    const alloc = j.groups.find((g) => fn(g) === 'main.allocate');
    assert.equal(alloc?.state, 'semacquire');
    assert.equal(alloc.blockedOn, 'transient');
    assert.match(alloc.idle ?? '', /brief wait inside the runtime/);
    assert.equal(code, 0);
  });
});

const serverDumps = readdirSync(DUMPS).filter((f) => /^server-.*\.gz$/.test(f));

describe('healthy open-source servers under load (scripts/gen-servers.sh): no suspects', () => {
  it('the fixtures are there', () => {
    for (const name of ['nats', 'alertmanager', 'coredns'])
      assert.ok(
        serverDumps.some((f) => f.startsWith(`server-${name}-`)),
        `${name} dumps in ${serverDumps.join(', ')}`,
      );
  });
  it('per-connection writers idle for ten minutes are tied to their open connection', async () => {
    const { j } = await analyze([dump('server-nats-late.debug2.txt.gz')]);
    const writers = j.quiet.find(
      (q) => fn(q) === 'github.com/nats-io/nats-server/v2/server.(*client).writeLoop',
    );
    assert.ok(writers, j.quiet.map(fn).join(', '));
    assert.equal(writers.waitMinutes?.max, 10);
    assert.equal(
      writers.why,
      'each was started with a goroutine that still reads an open connection',
    );
  });
  it('a WaitGroup.Wait for servers that still serve, ten minutes on, is a supervisor', async () => {
    const { j } = await analyze([dump('server-coredns-late.debug2.txt.gz')]);
    const sup = j.quiet.find((q) => q.blockedOn === 'waitgroup');
    assert.ok(sup, j.quiet.map(fn).join(', '));
    assert.equal(sup.waitMinutes?.max, 10);
    assert.match(sup.why, /^waits for goroutines started beside it or by it, which still run/);
  });
  it('their locks under load read as contention, not as stranded', async () => {
    // The NATS fixtures caught client readers queued on a client's lock while its writer ran.
    let contended = 0;
    for (const f of serverDumps) {
      const { j } = await analyze([join(DUMPS, f)]);
      for (const q of j.quiet)
        if (q.blockedOn === 'mutex' && q.holdingFrame?.owner === 'user') {
          assert.match(q.why, /for under a minute while \d+ other goroutines run or wait on I\/O/);
          contended++;
        }
    }
    assert.ok(contended > 0, 'at least one dump caught lock contention in server code');
  });
  for (const f of serverDumps) {
    it(f, async () => {
      const { code, j } = await analyze([join(DUMPS, f)]);
      assert.equal(
        code,
        0,
        j.suspects.map((s) => `${s.count} ${s.state} ${fn(s)}: ${s.reasons[0]}`).join('\n'),
      );
      // Their code counts as user code (built from a plain checkout, not the module cache),
      // so the user-code rules were really applied.
      assert.ok(j.groups.some((g) => g.holdingFrame?.owner === 'user'));
    });
  }
});
