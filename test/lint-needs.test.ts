/**
 * Rule.needs: lint runs no rule in a package where no enabled rule's words appear (its files
 * are parsed only for syntax errors), and runs a rule only where its words are. That must change
 * nothing a user sees: the same findings and syntax errors as running every rule everywhere, on
 * the rule fixtures and the seed service, and on the real Go standard library with its tests
 * (the installed Go's $GOROOT/src) — while actually leaving packages to no rule there.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { lint } from '../src/lint/run.js';
import { RULE_IDS } from '../src/lint/rules/index.js';
import type { Severity } from '../src/lint/rule.js';
import { ROOT } from './helpers.js';

const RULES = new Map<string, Severity>(RULE_IDS.map((id) => [id, 'error']));

/** Lints `dirs` both ways; returns both results. */
async function bothWays(dirs: string[], cwd: string) {
  const opts = { cwd, tests: true, rules: RULES, jobs: 'auto' as const };
  const fast = await lint(dirs, opts);
  const slow = await lint(dirs, { ...opts, ignoreNeeds: true });
  return { fast, slow };
}

describe('lint: packages without any rule’s words get no rule', () => {
  it('the rule fixtures and the seed service: the same report either way', async () => {
    const testdata = join(ROOT, 'testdata');
    const { fast, slow } = await bothWays(
      [join(testdata, 'lint', '...'), join(testdata, 'notify'), join(testdata, 'notifyfixed')],
      ROOT,
    );
    assert.ok(slow.findings.length > 10, `${slow.findings.length} findings`);
    assert.deepEqual(fast.findings, slow.findings);
    assert.deepEqual(where(fast.problems), where(slow.problems));
    assert.equal(fast.files, slow.files);
    assert.equal(fast.lines, slow.lines);
    assert.equal(slow.checked, slow.packages);
  });

  it('the Go standard library with tests: the same findings, and packages no rule looks into', async () => {
    const src = join(execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim(), 'src');
    const dirs = execFileSync('go', ['list', '-f', '{{.ImportPath}}\t{{.Dir}}', 'std'], {
      cwd: src,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    })
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .filter(([p]) => !p!.startsWith('vendor/'))
      .map(([, d]) => d!);
    assert.ok(dirs.length > 200, `${dirs.length} packages listed`);
    const { fast, slow } = await bothWays(dirs, src);
    // The reviewed std-lib findings (bench/RESULTS.md) are there, so the comparison means
    // something.
    assert.ok(slow.findings.length > 5, `${slow.findings.length} findings`);
    assert.deepEqual(fast.findings, slow.findings);
    assert.deepEqual(where(fast.problems), where(slow.problems));
    assert.equal(fast.packages, slow.packages);
    assert.equal(slow.checked, slow.packages);
    assert.ok(
      fast.checked < fast.packages,
      `${fast.checked} of ${fast.packages} packages checked by rules: none skipped`,
    );
  });
});

/** A syntax error's place: its reason says whether rules looked into the package. */
function where(problems: readonly { file: string; line: number; column: number }[]): string[] {
  return problems.map((p) => `${p.file}:${p.line}:${p.column}`);
}
