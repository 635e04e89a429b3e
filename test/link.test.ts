/**
 * The link from runtime to source on the seed's incident: the committed 50,847-goroutine dump of
 * the leaky notification service against testdata/notify (each leaking group joined to the
 * finding at its bug's line, found by its `BUG n` comment), the fixed twin (nothing joined), a
 * checkout whose code is not what the dump ran (said, not linked), `lint --confirm`, and the
 * function a watch alert calls to link one group.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { analyze } from '../src/analysis/suspects.js';
import { linkGroup } from '../src/link/analyze.js';
import { defaultSource } from '../src/link/gomod.js';
import { linkGroups } from '../src/link/link.js';
import { linkTextLines } from '../src/link/render.js';
import { PLAIN } from '../src/render/style.js';
import { readSnapshot } from '../src/readers/index.js';
import { DUMPS, ROOT, bugLines, cli, dump } from './helpers.js';

const NOTIFY = join(ROOT, 'testdata', 'notify');
const SEED = dump('notify-leaky-50847.debug2.txt.gz');

interface JFinding {
  rule: string;
  file: string;
  line: number;
  via: string;
  on: string | null;
}
interface JSuspect {
  userFrame: { function: string } | null;
  source: {
    status: string;
    blocking: { file: string; line: number; code: { line: number; text: string }[] } | null;
    createdBy: { file: string; line: number } | null;
    mismatches: string[];
  } | null;
  findings: JFinding[];
  lifetime: { endsBy: { expr: string; unreleased: boolean; exits: boolean }[] } | null;
}

async function analyzeJson(args: string[]): Promise<{ code: number; suspects: JSuspect[] }> {
  const r = await cli(['analyze', '--json', ...args]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  return { code: r.code, suspects: (JSON.parse(r.stdout) as { suspects: JSuspect[] }).suspects };
}

const holder = (s: JSuspect) => (s.userFrame?.function ?? '').replace(/^.*\(\*Service\)\./, '');

describe('analyze --source on the incident', () => {
  it('links each leaking group to its bug: sends nobody receives, cancel never called, ticker never stopped', async () => {
    const bugs = bugLines();
    for (const dir of [NOTIFY, join(ROOT, 'testdata')]) {
      const { code, suspects } = await analyzeJson([SEED, '--source', dir]);
      assert.equal(code, 1);
      const by = new Map(suspects.map((s) => [holder(s), s]));
      const lines = (h: string) => new Set(by.get(h)?.findings.map((f) => f.line));
      for (const h of ['deliver', 'heartbeat', 'pumpMessages'])
        assert.equal(by.get(h)?.source?.status, 'linked', `${h} linked (${dir})`);
      assert.deepEqual(lines('deliver'), new Set([bugs.get(3)]), 'deliver: the send (BUG 3)');
      assert.deepEqual(
        lines('heartbeat'),
        new Set([bugs.get(1), bugs.get(2)]),
        'heartbeat: the context nobody cancels (BUG 1) and the ticker (BUG 2)',
      );
      assert.deepEqual(lines('pumpMessages'), new Set([bugs.get(1)]), 'pump: BUG 1');
      const hb = by.get('heartbeat')!;
      assert.deepEqual(
        hb.findings.map((f) => f.on).sort(),
        ['ctx.Done()', 'ticker.C'],
        'joined through what the select waits on',
      );
      const code144 = by.get('deliver')!.source!.blocking!.code.find((l) => l.line === bugs.get(3));
      assert.match(code144?.text ?? '', /sub\.messages <- msg/);
      assert.equal(by.get('deliver')!.source!.blocking!.file, 'testdata/notify/notify.go');
    }
  });

  it('every form of the dump links the same (profiles print no creation site: the one go statement stands in)', async () => {
    const bugs = bugLines();
    for (const f of ['notify-leaky.debug2.txt', 'notify-leaky.debug1.txt', 'notify-leaky.pb.gz']) {
      const { suspects } = await analyzeJson([dump(f), '--source', NOTIFY]);
      const by = new Map(suspects.map((s) => [holder(s), s]));
      const lines = (h: string) => [...new Set(by.get(h)?.findings.map((x) => x.line))].sort();
      assert.deepEqual(lines('deliver'), [bugs.get(3)], f);
      assert.deepEqual(lines('heartbeat'), [bugs.get(1), bugs.get(2)].sort(), f);
      assert.deepEqual(lines('pumpMessages'), [bugs.get(1)], f);
    }
  });

  it('the text report shows the code frame and the finding under each suspect', async () => {
    const r = await cli(['analyze', SEED, '--source', NOTIFY]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /Source: testdata\/notify \(leakwatch\.test\/testdata[^)]*\): 3 of 3 suspects linked/,
    );
    assert.match(
      r.stdout,
      /source {6}testdata\/notify\/notify\.go:144 in notify\.\(\*Service\)\.deliver/,
    );
    assert.match(r.stdout, />\s+144 \|\s+sub\.messages <- msg/);
    assert.match(r.stdout, /started at {2}testdata\/notify\/notify\.go:73/);
    assert.match(
      r.stdout,
      /finding {5}\S+ at testdata\/notify\/notify\.go:106, where what it waits on was made \(ticker\.C\)/,
    );
  });

  it('the fixed twin links nothing', async () => {
    const { code, suspects } = await analyzeJson([
      dump('notify-fixed-under-incident-load.debug2.txt.gz'),
      '--source',
      join(ROOT, 'testdata'),
    ]);
    assert.equal(code, 0);
    assert.equal(suspects.length, 0);
    // Every group of the fixed service's dumps, idle or not: not one finding is joined.
    for (const f of ['notify-fixed-under-incident-load.debug2.txt.gz', 'notify-fixed.debug2.txt']) {
      const report = analyze(await readSnapshot(dump(f)));
      const r = await linkGroups(join(ROOT, 'testdata'), report.groups);
      for (const l of r.links.values()) assert.deepEqual(l.findings, [], f);
    }
  });

  it('without --source: the working directory when its module is in the dump, else nothing', async () => {
    const report = analyze(await readSnapshot(SEED));
    const groups = report.suspects.map((x) => x.group);
    assert.equal(defaultSource(NOTIFY, groups), NOTIFY, 'its module ran in the dump');
    assert.equal(defaultSource(ROOT, groups), undefined, 'no go.mod at the root');
    const other = analyze(await readSnapshot(dump('deadlock.txt')));
    assert.equal(
      defaultSource(NOTIFY, other.groups),
      undefined,
      'a dump of code of no module here (package main only)',
    );
    const r = await cli(['analyze', '--no-source', SEED]);
    assert.doesNotMatch(r.stdout, /^Source:/m);
  });

  it('--source that is not a Go checkout: one line, exit 2', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'leakwatch-nomod-'));
    try {
      for (const dir of [join(ROOT, 'no-such-dir'), empty]) {
        const r = await cli(['analyze', SEED, '--source', dir]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /^leakwatch: --source .*: (not a directory|no go\.mod)[^\n]*\n$/);
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('linkGroup (for watch alerts): one group, linked with its findings', async () => {
    const report = analyze(await readSnapshot(SEED));
    const g = report.suspects.find((s) => /deliver$/.test(s.group.holder?.frame.func ?? ''))!;
    const l = await linkGroup(join(ROOT, 'testdata'), g.group);
    assert.equal(l.status, 'linked');
    assert.deepEqual(
      l.findings.map((f) => f.line),
      [bugLines().get(3)],
    );
    // What a watch alert carries: the holding frame, the creation site, the blocking kind.
    const alert = {
      stack: { frames: [g.group.holder!.frame], createdBy: g.group.stack.createdBy },
      blockedOn: 'chan-send',
    };
    const a = await linkGroup(join(ROOT, 'testdata'), alert);
    assert.equal(a.status, 'linked');
    assert.deepEqual(
      a.findings.map((f) => f.line),
      [bugLines().get(3)],
    );
  });
});

describe('every committed dump of testdata/ against testdata/', () => {
  it('links without a single mismatch: closures, generics, init closures, crash dumps, every form', async () => {
    const dumps = readdirSync(DUMPS);
    assert.ok(dumps.length > 30);
    let linked = 0;
    for (const f of dumps) {
      const report = analyze(await readSnapshot(join(DUMPS, f)));
      const r = await linkGroups(join(ROOT, 'testdata'), report.groups, {
        findings: { list: [], cwd: ROOT },
      });
      for (const l of r.links.values()) {
        assert.notEqual(l.status, 'mismatch', `${f}: ${l.mismatches.join('; ')}`);
        if (l.status === 'linked') linked++;
      }
    }
    assert.ok(linked > 200, `${linked} groups linked`);
  });
});

describe('where no rule explains a suspect: the ownership questions from the source', () => {
  it('who starts it, what could end it, and which of those nothing in the package releases', async () => {
    const report = analyze(await readSnapshot(SEED));
    const groups = report.suspects.map((s) => s.group);
    // No findings at hand: as if no rule knew these shapes.
    const r = await linkGroups(NOTIFY, groups, { findings: { list: [], cwd: ROOT } });
    const by = (fn: string) =>
      r.links.get(groups.find((g) => g.holder?.frame.func.endsWith(`.${fn}`))!)!;
    const hb = by('heartbeat').lifetime!;
    assert.match(hb.startedBy!.code, /^go s\.heartbeat\(ctx, sub\)$/);
    const ctx = hb.endsBy.find((e) => e.expr === 'ctx.Done()')!;
    assert.equal(ctx.exits, true, 'its case returns');
    assert.equal(ctx.unreleased, true);
    assert.match(
      ctx.ends,
      /stored in \.cancel, called only by \(\*Service\)\.Unsubscribe .*nothing in package notify calls/,
    );
    const ticker = hb.endsBy.find((e) => e.expr === 'ticker.C')!;
    assert.equal(ticker.unreleased, true);
    assert.match(ticker.ends, /never stopped/);
    const send = by('deliver').lifetime!.endsBy[0]!;
    assert.equal(send.unreleased, false, 'a receiver exists: the pump, while it runs');
    assert.match(send.ends, /pumpMessages/);
    const lines = linkTextLines(by('heartbeat'), PLAIN).join('\n');
    assert.match(lines, /no lint finding explains it/);
    assert.match(
      lines,
      /who starts {2}`go s\.heartbeat\(ctx, sub\)` in notify\.\(\*Service\)\.Subscribe/,
    );
  });
});

describe('a checkout whose code is not what the dump ran', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'leakwatch-link-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const copy = (name: string, edit: (src: string) => string): string => {
    const dir = join(tmp, name);
    cpSync(join(ROOT, 'testdata', 'go.mod'), join(dir, 'go.mod'));
    cpSync(NOTIFY, join(dir, 'notify'), { recursive: true });
    const f = join(dir, 'notify', 'notify.go');
    writeFileSync(f, edit(readFileSync(f, 'utf8')));
    return dir;
  };

  it('lines moved (three lines added on top): says so and links nothing', async () => {
    const dir = copy('shifted', (s) => `// one\n// two\n// three\n${s}`);
    const { suspects } = await analyzeJson([SEED, '--source', dir]);
    assert.equal(suspects.length, 3);
    for (const s of suspects) {
      assert.equal(s.source?.status, 'mismatch', holder(s));
      assert.deepEqual(s.findings, [], `${holder(s)}: no finding joined to code it did not run`);
      assert.ok(s.source!.mismatches.length > 0);
    }
    const r = await cli(['analyze', SEED, '--source', dir]);
    assert.match(r.stdout, /does not match this checkout/);
    assert.match(r.stdout, /3 suspects do not match this checkout/);
  });

  it('another module altogether: nothing placed, and the report asks about the checkout', async () => {
    const dir = join(ROOT, 'testdata', 'gotest');
    const { suspects } = await analyzeJson([SEED, '--source', dir]);
    assert.ok(suspects.every((s) => s.source?.status === 'outside' && s.findings.length === 0));
    const r = await cli(['analyze', SEED, '--source', dir]);
    assert.match(r.stdout, /No suspect runs code of leakwatch\.test\/gotest/);
  });

  it('a function renamed: named as missing', async () => {
    const dir = copy('renamed', (s) => s.replace(/\bdeliver\b/g, 'handOver'));
    const { suspects } = await analyzeJson([SEED, '--source', dir]);
    const d = suspects.find((s) => holder(s) === 'deliver')!;
    assert.equal(d.source?.status, 'mismatch');
    assert.ok(
      d.source!.mismatches.some((m) => /\(\*Service\)\.deliver is not declared in/.test(m)),
    );
  });
});

interface JLint {
  findings: {
    rule: string;
    line: number;
    package: string | null;
    function: string | null;
    confirmed: { count: number; state: string; groups: { via: string }[] } | null;
  }[];
  confirmedBy?: string;
}

describe('lint --confirm', () => {
  it('marks the findings the incident dump confirms, with count and state, most goroutines first', async () => {
    const bugs = bugLines();
    const r = await cli(['lint', '--json', '--confirm', SEED, 'testdata/notify']);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout) as JLint;
    assert.match(j.confirmedBy ?? '', /notify-leaky-50847/);
    assert.equal(j.findings.length, 3);
    for (const f of j.findings) {
      assert.equal(f.package, 'leakwatch.test/testdata/notify');
      assert.ok(f.confirmed, `${f.rule} at ${f.line} confirmed`);
    }
    const [first] = j.findings;
    assert.equal(first!.line, bugs.get(3), 'the send: most goroutines, listed first');
    assert.equal(first!.function, '(*Service).deliver');
    assert.equal(first!.confirmed!.state, 'chan send');
    assert.equal(first!.confirmed!.count, 36844);
    const ticker = j.findings.find((f) => f.line === bugs.get(2))!;
    assert.equal(ticker.confirmed!.count, 13000, 'the heartbeats hold the tickers');
  });

  it('text lists the confirmed findings first; SARIF carries them', async () => {
    const t = await cli(['lint', '--confirm', SEED, 'testdata/notify']);
    assert.match(
      t.stdout,
      /^Confirmed by .*notify-leaky-50847.*\n\s+36,844 chan send\s+testdata\/notify\/notify\.go:144 /,
    );
    const s = await cli(['lint', '--sarif', '--confirm', SEED, 'testdata/notify']);
    const doc = JSON.parse(s.stdout) as {
      runs: { results: { rank?: number; properties?: { confirmed: { count: number } } }[] }[];
    };
    const results = doc.runs[0]!.results;
    assert.equal(results.length, 3);
    assert.ok(results.every((x) => x.rank === 100 && x.properties!.confirmed.count > 0));
  });

  it('the fixed twin confirms nothing', async () => {
    const r = await cli([
      'lint',
      '--json',
      '--confirm',
      dump('notify-fixed-under-incident-load.debug2.txt.gz'),
      'testdata/notify',
    ]);
    const j = JSON.parse(r.stdout) as JLint;
    assert.equal(j.findings.length, 3);
    assert.ok(j.findings.every((f) => f.confirmed === null));
  });

  it('a dump that cannot be read: one line, exit 2', async () => {
    const r = await cli(['lint', '--confirm', join(ROOT, 'no-such.dump'), 'testdata/notify']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^leakwatch: [^\n]*no-such\.dump[^\n]*\n$/);
  });
});
