/**
 * leakwatch lint: every rule against its fixtures in testdata/lint/<rule>/{bad,good} (a
 * finding exactly on each line marked `// want: <rule>` and nowhere else; none in good/), the
 * seed's notification service through the real binary, and the CLI's outputs, config,
 * suppression and error handling.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RULE_IDS } from '../src/lint/rules/index.js';
import { ROOT, cli, cliProcess, noGo } from './helpers.js';

const FIX = join(ROOT, 'testdata', 'lint');

interface JFinding {
  rule: string;
  severity: string;
  file: string;
  line: number;
  column: number;
  message: string;
  fix: string;
}
interface JReport {
  findings: JFinding[];
  problems: { file: string; line: number; reason: string }[];
  stats: { packages: number; files: number; lines: number; suppressed: number };
}

async function lintJson(args: string[]): Promise<{ code: number; report: JReport }> {
  const r = await cli(['lint', '--json', ...args]);
  assert.equal(r.stderr, '', r.stderr);
  return { code: r.code, report: JSON.parse(r.stdout) as JReport };
}

/** `file:line rule` of every `// want: <rule>` marker in a fixture directory. */
function wanted(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.go'))) {
    readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const m of line.matchAll(/\/\/ want: ([a-z-]+)/g))
          out.push(`${name}:${i + 1} ${m[1]}`);
      });
  }
  return out.sort();
}

/** The fixture packages of a rule: bad/, good/ and any bad-<shape>/ and good-<shape>/. */
function fixtureDirs(rule: string, kind: 'bad' | 'good'): string[] {
  return readdirSync(join(FIX, rule), { withFileTypes: true })
    .filter((e) => e.isDirectory() && (e.name === kind || e.name.startsWith(`${kind}-`)))
    .map((e) => join(FIX, rule, e.name));
}

describe('lint rules on their fixtures', () => {
  for (const rule of RULE_IDS) {
    for (const dir of fixtureDirs(rule, 'bad')) {
      const name = `${rule}/${dir.split('/').pop()!}`;
      it(`${name}: a finding on every marked line, and nowhere else`, async () => {
        const want = wanted(dir);
        assert.ok(
          want.some((w) => w.endsWith(` ${rule}`)),
          `no // want: ${rule} markers in ${dir}`,
        );
        const { code, report } = await lintJson([dir]);
        const got = report.findings
          .map((f) => `${f.file.split('/').pop()}:${f.line} ${f.rule}`)
          .sort();
        assert.deepEqual(got, want);
        assert.equal(code, 1);
        for (const f of report.findings) {
          assert.ok(f.column >= 1);
          assert.ok(f.message.length > 20 && !f.message.includes('\n'), f.message);
          assert.ok(f.fix.length > 5, f.fix);
        }
      });
    }
    for (const dir of fixtureDirs(rule, 'good')) {
      it(`${rule}/${dir.split('/').pop()!}: nothing at all`, async () => {
        const { code, report } = await lintJson([dir]);
        assert.deepEqual(report.findings, []);
        assert.deepEqual(report.problems, []);
        assert.equal(code, 0);
      });
    }
  }

  it('every fixture package compiles (go build; nested modules on their own Go version)', (t) => {
    const why = noGo();
    if (why) return t.skip(why);
    const modules = [join(ROOT, 'testdata')];
    for (const rule of RULE_IDS)
      for (const dir of [...fixtureDirs(rule, 'bad'), ...fixtureDirs(rule, 'good')])
        if (existsSync(join(dir, 'go.mod'))) modules.push(dir);
    for (const cwd of modules) {
      const r = spawnSync('go', ['build', cwd.endsWith('testdata') ? './lint/...' : '.'], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
      });
      assert.equal(r.status, 0, `${cwd}: ${r.stderr}`);
    }
  });
});

describe('lint on the seed notification service (real binary)', () => {
  it('testdata/notify: exactly its three bugs, at the BUG lines', async () => {
    const r = await cliProcess(['lint', '--json', join(ROOT, 'testdata', 'notify')]);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as JReport;
    const src = readFileSync(join(ROOT, 'testdata', 'notify', 'notify.go'), 'utf8').split('\n');
    const bugLines = src.flatMap((l, i) => (/\/\/ BUG \d:/.test(l) ? [i + 1] : []));
    assert.deepEqual(bugLines, [60, 106, 144]);
    assert.deepEqual(
      report.findings.map((f) => [f.line, f.rule]),
      [
        [60, 'conn-without-close-handling'],
        [106, 'ticker-not-stopped'],
        [144, 'orphaned-send'],
      ],
    );
    assert.ok(report.findings.every((f) => f.file.endsWith('testdata/notify/notify.go')));
  });

  it('the same with its test file included', async () => {
    const r = await cliProcess(['lint', '--json', '--tests', join(ROOT, 'testdata', 'notify')]);
    const report = JSON.parse(r.stdout) as JReport;
    assert.deepEqual(
      report.findings.map((f) => f.line),
      [60, 106, 144],
    );
  });

  it('testdata/notifyfixed: nothing, exit 0', async () => {
    const r = await cliProcess(['lint', join(ROOT, 'testdata', 'notifyfixed')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /no findings in 1 package/);
  });
});

describe('lint output and usage', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'leakwatch-lint-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const write = (rel: string, text: string) => {
    const path = join(tmp, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    return path;
  };
  const leak = (pkg: string, extra = '') =>
    `package ${pkg}\n\nimport "time"\n\nfunc beat(f func()) {\n${extra}\tt := time.NewTicker(time.Second)\n\tfor range t.C {\n\t\tf()\n\t\treturn\n\t}\n}\n`;

  it('text: location, rule, message, a code frame with a caret, the fix', async () => {
    const dir = join(tmp, 'text');
    write('text/a.go', leak('a'));
    const r = await cli(['lint', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /a\.go:6:2: error ticker-not-stopped\n/);
    assert.match(r.stdout, /> 6 \| \tt := time\.NewTicker/);
    assert.match(r.stdout, /\n +\| \t\^\n/);
    assert.match(r.stdout, /fix: `defer t\.Stop\(\)`/);
    assert.match(r.stdout, /1 finding \(1 error, 0 warnings\) in 1 package/);
    assert.ok(!r.stdout.includes('\u001b['), 'no color when not a terminal');
  });

  it('SARIF 2.1.0: rules, results with locations and levels', async () => {
    const dir = join(tmp, 'sarif');
    write('sarif/a.go', leak('a'));
    const r = await cli(['lint', '--sarif', dir]);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout) as {
      version: string;
      runs: {
        tool: { driver: { name: string; rules: { id: string }[] } };
        results: {
          ruleId: string;
          ruleIndex: number;
          level: string;
          locations: {
            physicalLocation: {
              artifactLocation: { uri: string };
              region: { startLine: number; startColumn: number };
            };
          }[];
        }[];
      }[];
    };
    assert.equal(doc.version, '2.1.0');
    const run = doc.runs[0]!;
    assert.equal(run.tool.driver.name, 'leakwatch');
    assert.deepEqual(
      run.tool.driver.rules.map((x) => x.id),
      [...RULE_IDS],
    );
    assert.equal(run.results.length, 1);
    const res = run.results[0]!;
    assert.equal(res.ruleId, 'ticker-not-stopped');
    assert.equal(run.tool.driver.rules[res.ruleIndex]!.id, res.ruleId);
    assert.equal(res.level, 'error');
    assert.equal(res.locations[0]!.physicalLocation.region.startLine, 6);
    assert.equal(res.locations[0]!.physicalLocation.region.startColumn, 2);
    assert.match(res.locations[0]!.physicalLocation.artifactLocation.uri, /a\.go$/);
  });

  it('suppression on the line above or the same line, by rule id', async () => {
    write('sup/a.go', leak('a', '\t//leakwatch:ignore ticker-not-stopped lives as long as f\n'));
    write(
      'sup/b.go',
      leak('a')
        .replace(
          'time.NewTicker(time.Second)',
          'time.NewTicker(time.Second) //leakwatch:ignore ticker-not-stopped,orphaned-send ok',
        )
        .replace('func beat', 'func beat2'),
    );
    write(
      'sup/c.go',
      leak('a', '\t//leakwatch:ignore orphaned-send wrong rule\n').replace(
        'func beat',
        'func beat3',
      ),
    );
    const { code, report } = await lintJson([join(tmp, 'sup')]);
    assert.deepEqual(
      report.findings.map((f) => f.file.split('/').pop()),
      ['c.go'],
    );
    assert.equal(report.stats.suppressed, 2);
    assert.equal(code, 1);
  });

  it('config: rules off or at warning level; warnings alone exit 0', async () => {
    write('cfg/a.go', leak('a'));
    write('cfg/off.json', JSON.stringify({ lint: { rules: { 'ticker-not-stopped': 'off' } } }));
    write(
      'cfg/warn.json',
      JSON.stringify({ lint: { rules: { 'ticker-not-stopped': 'warning' } } }),
    );
    const off = await lintJson(['--config', join(tmp, 'cfg/off.json'), join(tmp, 'cfg')]);
    assert.deepEqual(off.report.findings, []);
    assert.equal(off.code, 0);
    const warn = await lintJson(['--config', join(tmp, 'cfg/warn.json'), join(tmp, 'cfg')]);
    assert.deepEqual(
      warn.report.findings.map((f) => f.severity),
      ['warning'],
    );
    assert.equal(warn.code, 0);
  });

  it('bad usage: one line on stderr, exit 2', async () => {
    write('bad/unknown.json', JSON.stringify({ lint: { rules: { 'no-such-rule': 'off' } } }));
    write('bad/level.json', JSON.stringify({ lint: { rules: { 'nil-channel-op': 'loud' } } }));
    write('bad/broken.json', '{');
    write('bad/a.go', leak('a'));
    const cases: [string[], RegExp][] = [
      [[join(tmp, 'nope')], /no such file or directory/],
      [[join(tmp, 'bad/unknown.json')], /not a Go file/],
      [
        ['--config', join(tmp, 'bad/unknown.json'), join(tmp, 'bad')],
        /unknown rule "no-such-rule"/,
      ],
      [
        ['--config', join(tmp, 'bad/level.json'), join(tmp, 'bad')],
        /must be "off", "warning" or "error"/,
      ],
      [['--config', join(tmp, 'bad/broken.json'), join(tmp, 'bad')], /cannot read config/],
      [['--rule', 'bogus', join(tmp, 'bad')], /unknown rule "bogus"/],
      [['--json', '--sarif', join(tmp, 'bad')], /cannot be used together/],
      [[join(tmp, 'empty-dir-that-exists')], /no Go files/],
    ];
    mkdirSync(join(tmp, 'empty-dir-that-exists'), { recursive: true });
    for (const [args, re] of cases) {
      const r = await cli(['lint', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  it('./... walks packages but skips vendor/, testdata/, generated and unparseable files', async () => {
    const root = join(tmp, 'walk');
    write('walk/a/a.go', leak('a'));
    write('walk/vendor/v/v.go', leak('v'));
    write('walk/testdata/t/t.go', leak('t'));
    write('walk/gen/gen.go', `// Code generated by hand. DO NOT EDIT.\n\n${leak('gen')}`);
    write('walk/broken/broken.go', 'package broken\n\nfunc f( {\n\tgo g()\n');
    // No word any rule starts from (a go statement, a Lock, a ticker...): no rule looks into it,
    // yet its syntax error is listed all the same.
    write('walk/inert/inert.go', 'package inert\n\nfunc f( {\n');
    write('walk/a/a_test.go', leak('a').replace('func beat', 'func beatTest'));
    const r = await cli(['lint', '--json', join(root, '...')]);
    const report = JSON.parse(r.stdout) as JReport;
    assert.deepEqual(
      report.findings.map((f) => f.file.replace(/\\/g, '/').split('/walk/').pop()),
      ['a/a.go'],
    );
    assert.deepEqual(
      report.problems.map((p) => [p.file.split('/walk/').pop(), p.line, p.reason]),
      [
        ['broken/broken.go', 3, 'syntax error; linted as far as it parses'],
        ['inert/inert.go', 3, 'syntax error (no rule applies to this package)'],
      ],
    );
    assert.equal(r.code, 1);
    const withTests = await lintJson(['--tests', join(root, 'a')]);
    assert.equal(withTests.report.findings.length, 2);
  });

  it('a file with a syntax error is linted as far as it parses, listed, and fails the run', async () => {
    // Go 1.26's new(expr) is not in tree-sitter-go's grammar: the file must still count. Its
    // close(ch) is what keeps the sibling's range loop from being reported.
    write(
      'parse/a.go',
      'package p\n\nfunc start() chan int {\n\tch := make(chan int)\n\tgo func() {\n\t\tfor range ch {\n\t\t}\n\t}()\n\treturn ch\n}\n',
    );
    write(
      'parse/b.go',
      'package p\n\nfunc stop(ch chan int) *int {\n\tclose(ch)\n\tp := new(42)\n\treturn p\n}\n',
    );
    write(
      'parse/c.go',
      '\ufeffpackage p\n\nfunc shadow() int {\n\tmake := func(n int) int { return n }\n\treturn make(3)\n}\n',
    );
    const strict = await lintJson([join(tmp, 'parse')]);
    assert.deepEqual(strict.report.findings, []);
    assert.deepEqual(
      strict.report.problems.map((p) => [p.file.split('/').pop(), p.line, p.reason]),
      [
        ['b.go', 5, 'syntax error; linted as far as it parses'],
        ['c.go', 5, 'syntax error; linted as far as it parses'],
      ],
    );
    assert.equal(strict.report.stats.files, 3);
    assert.equal(strict.code, 1);
    const allowed = await lintJson(['--allow-parse-errors', join(tmp, 'parse')]);
    assert.equal(allowed.report.problems.length, 2);
    assert.equal(allowed.code, 0);
    const text = await cli(['lint', join(tmp, 'parse')]);
    assert.match(text.stdout, /b\.go:5:\d+: syntax error; linted as far as it parses/);
    assert.match(text.stdout, /2 files not fully linted/);
  });

  it('SARIF: UTF-16 columns, and file: URIs for paths outside the working directory', async () => {
    // "é" and "€" are 2 and 3 bytes in UTF-8 but one UTF-16 unit each.
    write(
      'utf/a.go',
      'package a\n\nimport "time"\n\nfunc beat(f func()) {\n\t/* é€ */ t := time.NewTicker(time.Second)\n\tfor range t.C {\n\t\tf()\n\t\treturn\n\t}\n}\n',
    );
    write('utf/go.mod', 'module a\n\ngo 1.22\n');
    const json = await lintJson([join(tmp, 'utf')]);
    assert.equal(json.report.findings[0]!.column, 14);
    const r = await cli(['lint', '--sarif', join(tmp, 'utf')]);
    const doc = JSON.parse(r.stdout) as {
      runs: {
        columnKind: string;
        results: {
          locations: {
            physicalLocation: {
              artifactLocation: { uri: string; uriBaseId?: string };
              region: { startColumn: number };
            };
          }[];
        }[];
      }[];
    };
    const loc = doc.runs[0]!.results[0]!.locations[0]!.physicalLocation;
    assert.equal(doc.runs[0]!.columnKind, 'utf16CodeUnits');
    assert.equal(loc.region.startColumn, 11);
    // The tests run with the repository as working directory; tmp is outside it.
    assert.ok(loc.artifactLocation.uri.startsWith('file:///'), loc.artifactLocation.uri);
    assert.equal(loc.artifactLocation.uriBaseId, undefined);
  });

  it('a leak reachable only after the test failed is a note, apart from the findings', async () => {
    write(
      'testonly/a_test.go',
      'package a\n\nimport (\n\t"testing"\n\t"time"\n)\n\nfunc TestX(t *testing.T) {\n\tch := make(chan int)\n\tgo func() {\n\t\tch <- 1\n\t}()\n\tselect {\n\tcase <-ch:\n\tcase <-time.After(time.Second):\n\t\tt.Fatal("timeout")\n\t}\n}\n',
    );
    const { code, report } = await lintJson(['--tests', join(tmp, 'testonly')]);
    assert.deepEqual(
      report.findings.map((f) => [f.line, f.rule, f.severity]),
      [[11, 'orphaned-send', 'note']],
    );
    assert.match((report.findings[0] as JFinding & { testOnly: string }).testOnly, /timeout case/);
    assert.equal(code, 0);
    const text = await cli(['lint', '--tests', join(tmp, 'testonly')]);
    assert.match(text.stdout, /Leaks reachable only after a test has failed/);
    assert.match(text.stdout, /no findings in 1 package.*1 after a failed test/);
  });

  it('reads all files of a package together: a field stopped in another file counts', async () => {
    write(
      'pkgwide/a.go',
      'package p\n\nimport "time"\n\ntype beat struct{ t *time.Ticker }\n\nfunc newBeat() *beat { return &beat{t: time.NewTicker(time.Second)} }\n',
    );
    const lone = await lintJson([join(tmp, 'pkgwide', 'a.go')]);
    assert.deepEqual(
      lone.report.findings.map((f) => f.rule),
      ['ticker-not-stopped'],
    );
    write('pkgwide/b.go', 'package p\n\nfunc (b *beat) Close() { b.t.Stop() }\n');
    const both = await lintJson([join(tmp, 'pkgwide')]);
    assert.deepEqual(both.report.findings, []);
  });
});
