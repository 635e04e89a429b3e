/**
 * The readers on real runtime output (testdata/dumps, made by testdata/gen.sh from the programs
 * in testdata/): every marker the runtime prints lands in the model.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSnapshot } from '../src/readers/index.js';
import type { Goroutine, Snapshot } from '../src/model/snapshot.js';
import { parseHeader, TracebackParser, unwrapJsonLine } from '../src/readers/traceback.js';
import { cli, dump, ROOT } from './helpers.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const read = (name: string): Promise<Snapshot> => readSnapshot(dump(name));
const byId = (s: Snapshot, id: number): Goroutine => {
  const g = s.goroutines.find((x) => x.id === id);
  assert.ok(g, `goroutine ${id} present`);
  return g;
};
const funcs = (g: Goroutine): string[] => g.stack.frames.map((f) => f.func);

describe('traceback reader', () => {
  it('debug=2: ids, states, frames with file and line, creator and parent', async () => {
    const s = await read('notify-leaky.debug2.txt');
    assert.equal(s.format, 'traceback');
    assert.equal(s.total, 728);
    const pub = s.goroutines.find((g) => g.stack.createdBy?.func.endsWith('(*Service).Broadcast'));
    assert.ok(pub);
    assert.equal(pub.state, 'chan send');
    assert.equal(pub.stack.frames[0]!.func, 'leakwatch.test/testdata/notify.(*Service).deliver');
    assert.equal(pub.stack.frames[0]!.pkg, 'leakwatch.test/testdata/notify');
    assert.match(pub.stack.frames[0]!.file, /\/testdata\/notify\/notify\.go$/);
    assert.equal(pub.stack.frames[0]!.line, 144);
    assert.equal(typeof pub.parentId, 'number');
    // Goroutines on one stack share one interned Stack object.
    const same = s.goroutines.filter((g) => g.stack === pub.stack);
    assert.equal(same.length, 400);
  });

  it('deep stacks: the "...N frames elided..." marker is counted', async () => {
    const s = await read('shapes-deep.txt');
    const deep = s.goroutines.find((g) => g.stack.elided > 0);
    assert.ok(deep);
    assert.equal(deep.stack.elided, 201);
    assert.equal(deep.stack.frames.length, 100, '50 innermost + 50 outermost');
  });

  it('wait times: ", N minutes" after a minute blocked', async () => {
    const s = await read('anchors-waited.debug2.txt');
    const waited = s.goroutines.filter((g) => g.waitMinutes !== undefined);
    assert.ok(waited.length > 50, `${waited.length} goroutines with a wait time`);
    assert.ok(waited.every((g) => g.waitMinutes === 1));
    assert.ok(
      waited.some((g) => g.state === 'sync.Mutex.Lock'),
      'state has no ", 1 minutes" left in it',
    );
  });

  it('generics and compiler-made names are kept as printed', async () => {
    const g = await read('shapes-generics.txt');
    const names = g.goroutines.flatMap(funcs);
    for (const n of [
      'main.Sum[...]',
      'main.(*Queue[...]).Pop',
      'main.Pair[...].Await',
      'main.WaitFor[...]',
    ]) {
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    }
    const c = await read('shapes-closures.txt');
    const cn = c.goroutines.flatMap(funcs);
    assert.ok(cn.includes('main.startClosures.func1.1'), 'nested closure');
    assert.ok(cn.includes('main.init.func1'), 'package-level closure');
    // The runtime hides -fm and gowrap wrappers once the goroutine runs; a goroutine created
    // but not yet started still shows its gowrap.
    const n = await read('notify-leaky.debug2.txt');
    assert.ok(
      n.goroutines.flatMap(funcs).includes('net/http.(*connReader).startBackgroundRead.gowrap2'),
    );
  });

  it('locked to thread', async () => {
    const s = await read('shapes-locked.txt');
    const locked = s.goroutines.filter((g) => g.lockedToThread);
    assert.equal(locked.length, 1);
    assert.equal(locked[0]!.state, 'chan receive');
  });

  it('tracebacklabels: labels:{...} inside the brackets, Go-quoted values decoded', async () => {
    const s = await read('shapes-labels.txt');
    const sets = s.goroutines.map((g) => JSON.stringify(g.labels ?? null));
    for (const want of [
      { handler: 'checkout', region: 'us-east-2' },
      { path: '/api/v1/items?id=7&x="q"', 'user id': 'u 42' },
      { empty: '', note: 'tab\there\nnewline', tenant: 'café' },
    ]) {
      assert.ok(
        sets.includes(JSON.stringify(want)),
        `${JSON.stringify(want)} in ${sets.join(' ')}`,
      );
    }
    const cafe = s.goroutines.find((g) => g.labels?.tenant === 'café');
    assert.equal(cafe?.state, 'chan receive', 'labels do not leak into the state');
  });

  it('synctest: bubble ids and (durable) marks', async () => {
    const s = await read('synctest.txt');
    const bubbled = s.goroutines.filter((g) => g.synctestBubble === 1);
    assert.ok(bubbled.length >= 8, `${bubbled.length} goroutines in bubble 1`);
    const states = new Set(bubbled.map((g) => g.state));
    for (const st of ['chan receive', 'select', 'sync.WaitGroup.Wait', 'sync.Cond.Wait', 'sleep']) {
      assert.ok(states.has(st), `${st} (flag stripped) in ${[...states].join(', ')}`);
    }
  });

  it('(leaked) marks from the goroutineleak profile at debug=2', async () => {
    const s = await read('shapes-leaked.txt');
    const leaked = s.goroutines.filter((g) => g.leaked);
    assert.ok(leaked.length >= 8, `${leaked.length} leaked`);
    assert.ok(
      leaked.some((g) => g.state === 'chan receive (nil chan)'),
      'reason keeps its own parentheses',
    );
    assert.ok(leaked.some((g) => g.state === 'sync.WaitGroup.Wait'));
    assert.equal(s.leakDetection, true);
    assert.ok(
      s.goroutines.some((g) => !g.leaked),
      'goroutines not leaked are listed too',
    );
  });

  it('GOTRACEBACK=system and crash: gp= m= mp= headers, fp= sp= pc= suffixes, runtime frames', async () => {
    for (const f of ['system.txt', 'crash.txt']) {
      const s = await read(f);
      assert.ok(s.total >= 10, `${f}: ${s.total}`);
      const all = s.goroutines.flatMap(funcs);
      assert.ok(all.includes('runtime.gopark'), `${f}: runtime frames kept`);
      for (const g of s.goroutines)
        for (const fr of g.stack.frames) assert.ok(!fr.file.includes(' fp='), fr.file);
    }
    const sys = await read('system.txt');
    assert.equal(sys.goroutines[0]!.state, 'running', 'the goroutine that threw comes first');
  });

  it('panic, deadlock, SIGQUIT and a re-panic: every goroutine after the message', async () => {
    const p = await read('panic.txt');
    assert.ok(
      p.goroutines.some((g) => g.stackUnavailable),
      'goroutine running on other thread; stack unavailable',
    );
    assert.equal(p.goroutines[0]!.state, 'running');
    assert.equal(
      p.goroutines[0]!.stack.frames[0]!.func,
      'main.processOrder',
      'the panicking goroutine first',
    );
    const d = await read('deadlock.txt');
    assert.equal(byId(d, 1).state, 'sync.WaitGroup.Wait');
    const q = await read('sigquit.txt');
    assert.ok(!q.goroutines.some((g) => g.id === 0), 'goroutine 0 is an M (g0), not a goroutine');
    const r = await read('panic-repanic.txt');
    assert.ok(r.total > 1);
  });

  it('created by ... in goroutine N, and ancestor blocks (tracebackancestors)', async () => {
    const s = await read('ancestors.txt');
    const g = s.goroutines.find((x) => (x.ancestors?.length ?? 0) >= 3);
    assert.ok(g, 'a goroutine with three generations of ancestors');
    const ids = g.ancestors!.map((a) => a.id);
    assert.equal(ids[0], g.parentId, 'nearest ancestor is the parent');
    assert.equal(ids[ids.length - 1], 1, 'the chain ends at main');
    assert.equal(g.ancestors![0]!.frames[0]!.func, 'main.ancestorMiddle');
  });

  it('dumps inside longer logs: container log prefixes, CRLF, go test output, gzip', async () => {
    const plain = await read('anchors.debug2.txt');
    const key = (s: Snapshot) =>
      s.goroutines.map((g) => `${g.id} ${g.state} ${g.stack.key}`).sort();
    for (const f of ['container-log.txt', 'crlf.txt', 'anchors.debug2.txt.gz']) {
      const s = await read(f);
      assert.deepEqual(key(s), key(plain), f);
    }
    const t = await read('gotest-timeout.txt');
    assert.ok(t.goroutines.some((g) => funcs(g).some((n) => n.endsWith('.TestHangs'))));
  });

  it('a docker json-file log line and a go test -json line unwrap to their text', () => {
    assert.equal(
      unwrapJsonLine('{"log":"goroutine 1 [running]:\\n","stream":"stderr"}'),
      'goroutine 1 [running]:',
    );
    assert.equal(
      unwrapJsonLine('{"Action":"output","Output":"\\tmain.go:3 +0x1\\n"}'),
      '\tmain.go:3 +0x1',
    );
    assert.equal(unwrapJsonLine('{"not":"a log"}'), undefined);
  });

  it('line grammar of Go < 1.21: "created by F" without a parent, "...additional frames elided..."', () => {
    // No toolchain this machine can fetch prints these forms (the module proxy serves Go >= 1.21),
    // so this checks the parser on the lines alone, not a dump.
    const p = new TracebackParser();
    for (const l of [
      'goroutine 7 [chan send]:',
      'main.worker(0xc000010000)',
      '\t/src/main.go:10 +0x1d',
      '...additional frames elided...',
      'created by main.start',
      '\t/src/main.go:20 +0x3f',
    ]) {
      p.line(l);
    }
    const [g] = p.finish().goroutines;
    assert.equal(g!.stack.createdBy?.func, 'main.start');
    assert.equal(g!.stack.createdBy?.line, 20);
    assert.equal(g!.parentId, undefined);
    assert.equal(g!.stack.elided, 1);
  });

  it('header grammar: pre-Go 1.21 dumps had no "in goroutine N"; unknown wait reasons are kept', () => {
    // No toolchain on this machine can print these (Go < 1.21 forms), so the grammar is
    // checked on the header line alone.
    assert.deepEqual(parseHeader('goroutine 9 [semacquire, 12 minutes]:'), {
      id: 9,
      state: 'semacquire',
      leaked: false,
      lockedToThread: false,
      waitMinutes: 12,
    });
    assert.equal(
      parseHeader('goroutine 3 [some future reason (idle)]:')?.state,
      'some future reason (idle)',
    );
    assert.equal(parseHeader('goroutine x [running]:'), undefined);
  });
});

/** A committed fixture as text (latin1: one byte, one character). */
const text = (name: string): string => readFileSync(dump(name), 'latin1');
/** analyze --json of `input` fed on stdin (no file name). */
async function viaStdin(input: string): Promise<Record<string, unknown>> {
  const r = await cli(['analyze', '--json', '-'], Buffer.from(input, 'latin1'));
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  delete j.source;
  return j;
}

describe('traceback reader: damaged and unusual real dumps', () => {
  it('position lines indented with spaces (pasted through chat, a browser, expand) lose nothing', async () => {
    const raw = text('notify-leaky.debug2.txt');
    const want = await viaStdin(raw);
    for (const indent of ['        ', '    ', ' ']) {
      const pasted = raw.replace(/^\t/gm, indent);
      assert.ok(!pasted.includes('\t/'), 'no tab left before a path');
      assert.deepEqual(await viaStdin(pasted), want, `indent of ${indent.length}`);
    }
  });

  it('a goroutineleak?debug=2 dump with no leak is recognised as one (by its writer frames)', async () => {
    const s = await readSnapshot('-', {
      stdin: (await import('node:stream')).Readable.from([
        readFileSync(dump('healthy-http.leak.debug2.txt')),
      ]),
    });
    assert.equal(s.profile, 'goroutineleak');
    assert.equal(s.leakDetection, true, 'goroutines not marked (leaked) were checked');
    assert.ok(s.goroutines.every((g) => !g.leaked));
    const plain = await read('healthy-http.debug2.txt');
    assert.equal(plain.profile, 'goroutine');
    assert.equal(plain.leakDetection, false);
  });

  it('SIGQUIT and GOTRACEBACK=crash dumps: goroutine 0 (an M) is not counted, reprints are not a second dump', async () => {
    for (const f of ['sigquit.txt', 'crash.txt']) {
      const t = text(f);
      const ids = new Set([...t.matchAll(/^goroutine ([1-9]\d*) /gm)].map((m) => Number(m[1])));
      assert.ok(/^goroutine 0 /m.test(t), `${f} has goroutine 0 sections`);
      const s = await read(f);
      assert.equal(s.total, ids.size, f);
      assert.deepEqual(new Set(s.goroutines.map((g) => g.id)), ids, f);
      assert.ok(
        !s.warnings.some((w) => /several dumps/.test(w)),
        `${f}: ${s.warnings.join(' | ')}`,
      );
    }
  });

  it('goroutines with no frames, and a function line that does not parse, are warned about', async () => {
    const raw = text('anchors.debug2.txt');
    // A header whose frames are gone (a dump edited or cut by a log collector).
    const noFrames = raw.replace(/^(goroutine \d+ \[[^\n]*\]:)\n(?:[^\n]+\n)+/m, '$1\n');
    const a = await viaStdin(noFrames);
    assert.ok(
      (a.warnings as string[]).some((w) => /1 goroutine\(s\) with no frames/.test(w)),
      (a.warnings as string[]).join(' | '),
    );
    // A function line whose argument list was cut off.
    const bad = raw.replace(/^(main\.[^\s(]+)\([^\n]*\)$/m, '$1');
    assert.notEqual(bad, raw);
    const b = await viaStdin(bad);
    assert.ok(
      (b.warnings as string[]).some((w) =>
        /1 frame\(s\) with a function line that does not parse/.test(w),
      ),
      (b.warnings as string[]).join(' | '),
    );
    assert.deepEqual((await viaStdin(raw)).warnings, [], 'the intact dump has no warning');
  });

  it('blank lines and Go log lines before a dump: still a dump, not a protobuf', async () => {
    const raw = text('anchors.debug2.txt');
    const want = await viaStdin(raw);
    for (const before of [
      '\n'.repeat(44),
      '2026/12/01 08:00:00 listening on :8080\n2026/12/01 08:00:01 got SIGQUIT, dumping\n',
      '\r\n'.repeat(3),
    ]) {
      const got = await viaStdin(before + raw);
      assert.equal(got.format, 'traceback');
      assert.deepEqual(got, want);
    }
  });

  it('pipes and FIFOs read like files: leakwatch diff <(cat a) <(cat b)', (t) => {
    const bash = spawnSync('bash', ['--version']);
    if (bash.status !== 0) return t.skip('bash is not available');
    const a = dump('notify-fixed.debug2.txt');
    const b = dump('notify-leaky.debug2.txt');
    const bin = join(ROOT, 'bin', 'leakwatch.js');
    const r = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" "${bin}" diff --json <(cat "${a}") <(gzip -c "${b}")`],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { before: { total: number }; after: { total: number } };
    assert.ok(j.after.total > j.before.total, r.stdout.slice(0, 300));
    const dir = mkdtempSync(join(tmpdir(), 'leakwatch-fifo-'));
    try {
      const fifo = join(dir, 'dump.fifo');
      const q = spawnSync(
        'bash',
        [
          '-c',
          `mkfifo "${fifo}" && (cat "${b}" > "${fifo}" &) && "${process.execPath}" "${bin}" analyze --json "${fifo}"`,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(q.status, 1, q.stderr);
      assert.equal((JSON.parse(q.stdout) as { total: number }).total, 728);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('profile readers', () => {
  it('debug=1: counts, frames, labels, tabwriter padding', async () => {
    const s = await read('shapes-labels.debug1.txt');
    assert.equal(s.format, 'debug1');
    assert.equal(s.profile, 'goroutine');
    assert.ok(s.goroutines.some((g) => g.labels?.handler === 'checkout'));
    const n = await read('notify-leaky.debug1.txt');
    assert.equal(n.total, 728);
    assert.ok(n.goroutines.some((g) => g.count === 425 || g.count === 400));
  });

  it('protobuf: counts, frames with inlining expanded, labels, time', async () => {
    const s = await read('shapes-labels.pb.gz');
    assert.equal(s.format, 'proto');
    assert.ok(s.takenAt instanceof Date);
    assert.ok(s.goroutines.some((g) => g.labels?.handler === 'checkout'));
    const n = await read('notify-leaky.pb.gz');
    assert.equal(n.total, 728);
    const pub = n.goroutines.find((g) => funcs(g).some((f) => f.endsWith('(*Service).deliver')));
    assert.ok(pub && funcs(pub).includes('runtime.chansend1'), 'runtime frames kept in protobuf');
  });

  it('goroutineleak profiles, debug=1 and protobuf: every record leaked', async () => {
    for (const f of ['anchors.leak.debug1.txt', 'anchors.leak.pb.gz']) {
      const s = await read(f);
      assert.equal(s.profile, 'goroutineleak', f);
      assert.ok(s.total > 0);
      assert.ok(
        s.goroutines.every((g) => g.leaked),
        f,
      );
    }
  });
});

describe('several dumps in one input', () => {
  it('repeated goroutine ids are reported, not silently merged', async () => {
    const { readFileSync } = await import('node:fs');
    const { cli } = await import('./helpers.js');
    const one = readFileSync(dump('anchors.debug2.txt'));
    const r = await cli(['analyze', '--json', '-'], Buffer.concat([one, Buffer.from('\n'), one]));
    const j = JSON.parse(r.stdout) as { total: number; warnings: string[] };
    assert.equal(j.total, 156);
    assert.ok(
      j.warnings.some((w) => /several dumps/.test(w)),
      j.warnings.join(' | '),
    );
  });
});
