/**
 * `leakwatch test` on testdata/gotest-deadlock (tests that deadlock, hang after an earlier leak,
 * leak from init, or leak about once in twenty runs; testdata/gotest-deadlock/README.md) and on
 * testdata/gotest under -count: deadlocks are reported on the right test with their stuck
 * goroutines, a leak is still named when a later test hangs, -count=20 reports one leak with its
 * iterations, --repeat catches the rare leak, and Ctrl-C leaves no process or temp dir behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UserError } from '../src/errors.js';
import { goDurationMs, splitGoArgs } from '../src/gotest/run.js';
import { BIN, cliProcess, noGo, ROOT } from './helpers.js';

const MOD = join(ROOT, 'testdata', 'gotest-deadlock');
const P = 'leakwatch.test/gotest-deadlock/';

interface JLeak {
  id: string;
  count: number;
  state: string;
  certain: boolean;
  userFrame: { function: string; file: string; line: number } | null;
}
interface JTest {
  test: string;
  via: string;
  iterations: number[];
  leaks: JLeak[];
  deadlock: { cause: string; message: string; suspects: JLeak[] } | null;
  repeat: {
    runs: number;
    leaked: number;
    deadlocked: number;
    first: { run: number; seed: string; order: string[]; replay: string } | null;
  } | null;
}
interface JPackage {
  package: string;
  perTest: boolean;
  leaks: JLeak[];
  tests: JTest[];
  unattributed: { id: string; count: number; reason: string }[];
}

function parse(stdout: string): Map<string, JPackage> {
  const j = JSON.parse(stdout) as { packages: JPackage[] };
  return new Map(j.packages.map((p) => [p.package.replace(P, ''), p]));
}

/** Where each stuck goroutine of a deadlock is blocked, as function names. */
const stuckAt = (t: JTest): string[] =>
  t.deadlock!.suspects.map((s) => s.userFrame!.function.replace(P, '')).sort();

const skip = noGo();
if (skip) console.log(`# skipping leakwatch test deadlock tests: ${skip}`);

describe('leakwatch test: deadlocked and hung tests', { skip, timeout: 600_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'leakwatch-deadlock-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('a channel deadlock and a mutex deadlock are deadlocks of the right test, with their stuck goroutines; an earlier leak is still named when a later test hangs', async () => {
    const r = await cliProcess([
      'test',
      '--json',
      '-C',
      MOD,
      '-timeout',
      '5s',
      './chans',
      './mutex',
      './laterhang',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const pkgs = parse(r.stdout);

    const chans = pkgs.get('chans')!;
    assert.deepEqual(
      chans.tests.map((t) => t.test),
      ['TestSumDeadlocks'],
      'TestSquareSmall passed and leaked nothing',
    );
    const sum = chans.tests[0]!;
    assert.equal(sum.deadlock!.cause, 'timeout');
    assert.match(sum.deadlock!.message, /^panic: test timed out after/);
    assert.deepEqual(stuckAt(sum), ['chans.Square.func1', 'chans.Sum']);

    const mutex = pkgs.get('mutex')!.tests;
    assert.deepEqual(
      mutex.map((t) => t.test),
      ['TestGetAfterExpireDeadlocks'],
    );
    assert.deepEqual(stuckAt(mutex[0]!), ['mutex.(*Cache).refresh']);
    assert.match(mutex[0]!.deadlock!.suspects[0]!.state, /Mutex/);

    const later = pkgs.get('laterhang')!;
    const poller = later.tests.find((t) => t.test === 'TestPollerLeaks')!;
    assert.equal(poller.via, 'check', 'named by its own check, no re-run');
    assert.deepEqual(
      poller.leaks.map((l) => `${l.count} ${l.userFrame!.function.replace(P, '')}`),
      ['1 laterhang.StartPoller.func1'],
    );
    const barrier = later.tests.find((t) => t.test === 'TestBarrierHangs')!;
    assert.deepEqual(stuckAt(barrier), ['laterhang.(*Barrier).Wait', 'laterhang.(*Barrier).Wait']);
    assert.ok(
      !barrier.deadlock!.suspects.some((s) => s.userFrame!.function.includes('StartPoller')),
      "the earlier test's leak is not part of the later deadlock",
    );
    assert.equal(later.tests.length, 2);

    // go test's own timeout panic and goroutine dump pass through (stderr in --json mode).
    assert.match(
      r.stderr,
      /panic: test timed out after .*\n\s+running tests:\n\s+TestSumDeadlocks/,
    );
    assert.match(
      r.stderr,
      /goroutine \d+ \[chan receive.*\]:\nleakwatch\.test\/gotest-deadlock\/chans\.Sum/,
    );

    // The ids are analyze's: analyze on the same dump names the same groups.
    const dump = join(tmp, 'chans-timeout.txt');
    writeFileSync(dump, r.stderr.slice(r.stderr.indexOf('panic: test timed out')));
    const a = await cliProcess(['analyze', '--json', dump]);
    const ids = new Set(
      (JSON.parse(a.stdout) as { groups: { id: string }[] }).groups.map((g) => g.id),
    );
    for (const s of sum.deadlock!.suspects) assert.ok(ids.has(s.id), `analyze has group ${s.id}`);
  });

  it('text output keeps the timeout panic and dump, then names the deadlock', async () => {
    const r = await cliProcess(['test', '-C', MOD, '-timeout', '5s', './mutex']);
    assert.equal(r.code, 1);
    const panicAt = r.stdout.indexOf('panic: test timed out after');
    const verdict = r.stdout.indexOf('DEADLOCK');
    assert.ok(panicAt >= 0 && verdict > panicAt, r.stdout);
    assert.match(r.stdout, /mutex\.\(\*Cache\)\.refresh\(/, "the dump's frames are there");
    assert.match(
      r.stdout.slice(verdict),
      /TestGetAfterExpireDeadlocks[\s\S]*Mutex.*mutex\.\(\*Cache\)\.refresh/,
    );
  });

  it('--hang-after: a binary whose goroutines are all blocked gets SIGQUIT and its dump is read', async () => {
    // -timeout is long: only the hang detection can end this run early.
    const r = await cliProcess([
      'test',
      '--json',
      '--hang-after',
      '1s',
      '-C',
      MOD,
      '-timeout',
      '5m',
      './chans',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const sum = parse(r.stdout)
      .get('chans')!
      .tests.find((t) => t.test === 'TestSumDeadlocks')!;
    assert.equal(sum.deadlock!.cause, 'hang');
    assert.deepEqual(stuckAt(sum), ['chans.Square.func1', 'chans.Sum']);
    assert.match(r.stderr, /SIGQUIT: quit/);
  });

  it('a leak from init is reported without a test, and says why', async () => {
    const r = await cliProcess(['test', '--json', '-C', MOD, './initleak']);
    const p = parse(r.stdout).get('initleak')!;
    assert.deepEqual(p.tests, []);
    assert.equal(p.unattributed.length, 1);
    assert.equal(p.unattributed[0]!.id, p.leaks[0]!.id);
    assert.match(p.unattributed[0]!.reason, /before the first test/);
  });

  it('--repeat catches a leak that fires in about 1 run of 20, with a replay command', async () => {
    const r = await cliProcess(['test', '--json', '--repeat', '200', '-C', MOD, './rare']);
    assert.equal(r.code, 1, r.stderr);
    const p = parse(r.stdout).get('rare')!;
    const t = p.tests.find((x) => x.test === 'TestDoRetries')!;
    assert.ok(t.repeat!.leaked >= 1 && t.repeat!.leaked < t.repeat!.runs, JSON.stringify(t.repeat));
    assert.equal(t.repeat!.runs, 200);
    assert.match(
      t.repeat!.first!.replay,
      /^go test -shuffle=\d+ -count=1 leakwatch\.test\/gotest-deadlock\/rare$/,
    );
    assert.ok(t.repeat!.first!.order.includes('TestDoRetries'));
    assert.deepEqual(
      t.leaks.map((l) => l.userFrame!.function.replace(P, '')),
      ['rare.Do.func1'],
    );
    assert.ok(!p.tests.some((x) => x.test === 'TestDoPassesThrough'));
  });

  it('repeats are bounded by -timeout: each deadlocked repeat ends at it and is counted', async () => {
    const r = await cliProcess([
      'test',
      '--json',
      '--repeat',
      '2',
      '-C',
      MOD,
      '-timeout',
      '2s',
      '-run',
      'TestSumDeadlocks',
      './chans',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const t = parse(r.stdout)
      .get('chans')!
      .tests.find((x) => x.test === 'TestSumDeadlocks')!;
    assert.equal(t.deadlock!.cause, 'timeout');
    const { runs, leaked, deadlocked } = t.repeat!;
    assert.deepEqual({ runs, leaked, deadlocked }, { runs: 2, leaked: 0, deadlocked: 2 });
  });

  it('Ctrl-C stops go test and its test binary and removes the temp dir', async () => {
    const dir = mkdtempSync(join(tmp, 'sigint-'));
    const p = spawn(process.execPath, [BIN, 'test', '-C', MOD, '-timeout', '5m', './chans'], {
      env: { ...process.env, TMPDIR: dir },
      stdio: 'ignore',
    });
    const closed = new Promise<number | null>((resolve) => p.on('close', (c) => resolve(c)));
    // Wait until the test binary has started (it writes its start dump), then interrupt.
    const started = (): boolean =>
      readdirSync(dir)
        .filter((d) => d.startsWith('leakwatch-test-'))
        .some(
          (d) =>
            existsSync(join(dir, d, 'out')) &&
            readdirSync(join(dir, d, 'out')).some((f) => f.endsWith('.start.txt')),
        );
    for (let i = 0; i < 1200 && !started(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(started(), 'the test binary started');
    p.kill('SIGINT');
    assert.equal(await closed, 130);
    assert.deepEqual(
      readdirSync(dir).filter((d) => d.startsWith('leakwatch-test-')),
      [],
    );
    const left = await new Promise<string>((resolve) => {
      const ps = spawn('ps', ['-eo', 'pid,args'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      ps.stdout.on('data', (d: Buffer) => (out += d.toString()));
      ps.on('close', () => resolve(out));
    });
    assert.deepEqual(
      left.split('\n').filter((l) => l.includes(dir) || l.includes('chans.test')),
      [],
    );
  });
});

describe('leakwatch test -count', { skip, timeout: 600_000 }, () => {
  it('-count=20 reports a leak once, with the iterations it appeared in', async () => {
    const r = await cliProcess([
      'test',
      '--json',
      '-C',
      join(ROOT, 'testdata', 'gotest'),
      '-count=20',
      '-run',
      'TestZeroWatcherLeaks|TestPure',
      './leaky',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const p = (JSON.parse(r.stdout) as { packages: JPackage[] }).packages[0]!;
    assert.equal(p.tests.length, 1);
    const t = p.tests[0]!;
    assert.equal(t.test, 'TestZeroWatcherLeaks');
    assert.deepEqual(
      t.iterations,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.equal(t.leaks.length, 1);
    assert.equal(t.leaks[0]!.count, 20);
    assert.deepEqual(p.unattributed, []);
  });
});

describe('go test arguments', () => {
  it('Go durations', () => {
    assert.equal(goDurationMs('1m30s'), 90_000);
    assert.equal(goDurationMs('250ms'), 250);
    assert.equal(goDurationMs('1.5h'), 5_400_000);
    assert.equal(goDurationMs('0'), 0);
    assert.equal(goDurationMs('5'), undefined);
    assert.equal(goDurationMs('soon'), undefined);
  });
  it('re-runs get the test-binary flags; -timeout is kept for them; a bad -timeout is one line', () => {
    const a = splitGoArgs(['-run', 'TestA/sub', '-timeout=5s', '-short', '-race', './p']);
    assert.deepEqual(a.binaryFlags, ['-test.run=TestA/sub', '-test.short']);
    assert.equal(a.timeout, '5s');
    assert.equal(a.run, 'TestA/sub');
    assert.deepEqual(a.buildFlags, ['-race']);
    assert.deepEqual(a.packages, ['./p']);
    assert.throws(() => splitGoArgs(['-timeout', 'soon']), UserError);
  });
});
