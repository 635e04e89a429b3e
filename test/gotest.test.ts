/**
 * `leakwatch test` on testdata/gotest, a Go module whose packages leak from known tests
 * (testdata/gotest/LEAKS.md is the oracle): exactly the leaking tests are flagged, t.Parallel
 * tests and a subtest included; a package with its own TestMain is wrapped and says so; test
 * failures pass through as failures; nothing is written into the module.
 */
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { wrapUserTestMain } from '../src/gotest/overlay.js';
import { cliProcess, noGo, ROOT, type CliResult } from './helpers.js';

const MOD = join(ROOT, 'testdata', 'gotest');
const P = 'leakwatch.test/gotest/';

interface JLeak {
  count: number;
  state: string;
  certain: boolean;
  userFrame: { function: string; file: string; line: number } | null;
  createdBy: { function: string; line: number } | null;
}
interface JPackage {
  package: string;
  result: string;
  failedTests: string[];
  install: string;
  note: string | null;
  checked: boolean;
  leaks: JLeak[];
  tests: { test: string; failed: boolean; leaks: JLeak[] }[];
}

/** Every file under dir with its size and mtime, to prove nothing was written. */
function snapshotTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${p} ${statSync(p).size} ${statSync(p).mtimeMs}`);
    }
  };
  walk(dir);
  return out.sort();
}

const skip = noGo();
if (skip) console.log(`# skipping leakwatch test tests: ${skip}`);

describe('leakwatch test on testdata/gotest', { skip, timeout: 600_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'leakwatch-gotest-'));
  const junit = join(tmp, 'junit.xml');
  let run: CliResult;
  let pkgs: Map<string, JPackage>;
  let treeBefore: string[];

  before(async () => {
    treeBefore = snapshotTree(MOD);
    run = await cliProcess(['test', '--json', '--junit', junit, '-C', MOD, './...']);
    const j = JSON.parse(run.stdout) as { packages: JPackage[] };
    pkgs = new Map(j.packages.map((p) => [p.package.replace(P, ''), p]));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const tests = (pkg: string): Record<string, number> =>
    Object.fromEntries(
      pkgs.get(pkg)!.tests.map((t) => [t.test, t.leaks.reduce((n, l) => n + l.count, 0)]),
    );

  it('exit 1: leaks were found', () => assert.equal(run.code, 1, run.stderr));

  it('leaky: exactly the three leaking tests, with their counts', () => {
    assert.deepEqual(tests('leaky'), {
      TestFetchTimeoutLeaks: 3,
      TestSubscribeLeaks: 2,
      TestZeroWatcherLeaks: 1,
    });
    const sub = pkgs.get('leaky')!.tests.find((t) => t.test === 'TestSubscribeLeaks')!;
    const where = sub.leaks
      .map(
        (l) =>
          `${l.userFrame!.function.replace(P, '')}<-${l.createdBy!.function.replace(P, '')}:${l.createdBy!.line}`,
      )
      .sort();
    assert.deepEqual(where, [
      'leaky.(*Hub).heartbeat<-leaky.(*Hub).Subscribe:58',
      'leaky.(*Hub).pump<-leaky.(*Hub).Subscribe:57',
    ]);
  });

  it('parallel: t.Parallel tests and a parallel subtest are attributed', () => {
    assert.deepEqual(tests('parallel'), {
      TestParallelLeakA: 2,
      TestParallelLeakB: 1,
      'TestWithSubtests/wait_after_rejected_go': 1,
    });
  });

  it('the runtime leak profile makes provable leaks certain', () => {
    const fetch = pkgs.get('leaky')!.tests.find((t) => t.test === 'TestFetchTimeoutLeaks')!;
    assert.equal(fetch.leaks[0]!.certain, true);
    const hub = pkgs.get('leaky')!.tests.find((t) => t.test === 'TestSubscribeLeaks')!;
    assert.ok(
      hub.leaks.every((l) => !l.certain),
      'a select on a live ticker is not provable',
    );
  });

  it('ownmain: its own TestMain is wrapped, with a note, and its leak found', () => {
    const p = pkgs.get('ownmain')!;
    assert.equal(p.install, 'wrapped');
    assert.match(p.note ?? '', /own TestMain/);
    assert.deepEqual(tests('ownmain'), { TestWatchLeaks: 1 });
    assert.match(run.stderr, /ownmain/, 'go test output (stderr in --json mode) is there');
  });

  it('failing: a test failure is reported as a failure, the leak as a leak', () => {
    const p = pkgs.get('failing')!;
    assert.equal(p.result, 'fail');
    assert.deepEqual(p.failedTests, ['TestMeanEmptyFails']);
    assert.deepEqual(tests('failing'), { TestStreamFirstLeaks: 1 });
    assert.equal(p.tests[0]!.failed, false);
    assert.match(
      run.stderr,
      /--- FAIL: TestMeanEmptyFails/,
      "go test's own failure output passes through",
    );
  });

  it('clean: checked, nothing', () => {
    const p = pkgs.get('clean')!;
    assert.equal(p.checked, true);
    assert.deepEqual(p.leaks, []);
  });

  it('JUnit: one goroutine-leak failure per leaking test, test failures kept apart', () => {
    const xml = readFileSync(junit, 'utf8');
    const leaks = [...xml.matchAll(/name="([^"]+)"><failure type="goroutine-leak"/g)]
      .map((m) => m[1])
      .sort();
    assert.deepEqual(leaks, [
      'TestFetchTimeoutLeaks',
      'TestParallelLeakA',
      'TestParallelLeakB',
      'TestStreamFirstLeaks',
      'TestSubscribeLeaks',
      'TestWatchLeaks',
      'TestWithSubtests/wait_after_rejected_go',
      'TestZeroWatcherLeaks',
    ]);
    assert.match(xml, /name="TestMeanEmptyFails"><failure type="test-failure"/);
  });

  it('nothing was written into the module', () => {
    assert.deepEqual(snapshotTree(MOD), treeBefore);
  });

  it('--ignore-top drops an expected goroutine', async () => {
    const r = await cliProcess([
      'test',
      '--json',
      '--no-attribute',
      '--ignore-top',
      `${P}leaky.(*Hub).heartbeat`,
      '-C',
      MOD,
      './leaky',
    ]);
    const j = JSON.parse(r.stdout) as { packages: JPackage[] };
    const fns = j.packages[0]!.leaks.map((l) => l.userFrame!.function.replace(P, '')).sort();
    assert.ok(!fns.includes('leaky.(*Hub).heartbeat'));
    assert.ok(fns.includes('leaky.(*Hub).pump'));
  });

  it('.leakwatch.json test.ignoreCreatedBy drops expected goroutines; a bad config is one line, exit 2', async () => {
    const cfg = join(tmp, 'lw.json');
    writeFileSync(
      cfg,
      JSON.stringify({ test: { ignoreCreatedBy: [`${P}leaky.(*Hub).Subscribe`] } }),
    );
    const r = await cliProcess([
      'test',
      '--json',
      '--no-attribute',
      '--config',
      cfg,
      '-C',
      MOD,
      './leaky',
    ]);
    const j = JSON.parse(r.stdout) as { packages: JPackage[] };
    const fns = j.packages[0]!.leaks.map((l) => l.userFrame!.function.replace(P, '')).sort();
    assert.deepEqual(fns, ['leaky.(*Client).Fetch.func1', 'leaky.(*Watcher).Start.func1']);
    writeFileSync(cfg, JSON.stringify({ test: { ignoreTop: 'not a list' } }));
    const bad = await cliProcess(['test', '--config', cfg, '-C', MOD, './leaky']);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^leakwatch: .*lw\.json: "test\.ignoreTop" must be a list of function names/,
    );
  });

  it('a clean package: exit 0 and a one-line verdict', async () => {
    const r = await cliProcess(['test', '-C', MOD, './clean']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok\s+leakwatch\.test\/gotest\/clean/m, "go test's own line");
    assert.match(r.stdout, /No leaks in 1 checked package/);
  });

  it('a build failure: exit 2 with the compiler message', async () => {
    const dir = join(tmp, 'broken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'go.mod'), 'module broken\n\ngo 1.26\n');
    writeFileSync(join(dir, 'b.go'), 'package broken\n\nfunc F() int { return "x" }\n');
    writeFileSync(
      join(dir, 'b_test.go'),
      'package broken\n\nimport "testing"\n\nfunc TestF(t *testing.T) { F() }\n',
    );
    const r = await cliProcess(['test', '-C', dir, './...']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /leakwatch: build failed: .*b\.go:3/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('go test flags we cannot combine with are refused clearly', async () => {
    const r = await cliProcess(['test', '-C', MOD, '-json', './clean']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /use --json/);
  });
});

describe('wrapping a TestMain', () => {
  it('renames it and routes its os.Exit calls through the check', () => {
    const src =
      'package p\n\nimport (\n\t"os"\n\t"testing"\n)\n\nfunc TestMain(m *testing.M) {\n\tif bad() {\n\t\tos.Exit(2) // "}" in a comment\n\t}\n\tos.Exit(m.Run())\n}\n\nfunc other() { os.Exit(3) }\n';
    const w = wrapUserTestMain(src);
    assert.ok('code' in w);
    assert.match(w.code, /func leakwatchUserTestMain\(m \*testing\.M\)/);
    assert.equal((w.code.match(/leakwatchExit\(/g) ?? []).length, 2);
    assert.match(w.code, /func other\(\) \{ os\.Exit\(3\) \}/, 'only inside TestMain');
  });
  it('follows an aliased os import', () => {
    const w = wrapUserTestMain(
      'package p\n\nimport sys "os"\nimport "testing"\n\nfunc TestMain(m *testing.M) { sys.Exit(m.Run()) }\n',
    );
    assert.ok('code' in w && w.code.includes('leakwatchExit(leakwatchRun(m))'));
  });
  it('refuses shapes it cannot rewrite, with the reason', () => {
    const w = wrapUserTestMain(
      'package p\n\nimport . "os"\nimport "testing"\n\nfunc TestMain(m *testing.M) { Exit(m.Run()) }\n',
    );
    assert.ok('reason' in w && /imported as \./.test(w.reason));
  });
});
