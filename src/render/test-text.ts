/**
 * `leakwatch test` for people: after go test's own output, one line per package, and under a
 * leaking package the tests that leak with what each left behind, in ownership terms.
 */
import { shortFile, shortFunc } from '../analysis/frames.js';
import { BLOCK_WORDS } from '../analysis/blocking.js';
import type { Suspect } from '../analysis/suspects.js';
import type { TestReport } from '../gotest/run.js';
import { num, type Style } from './style.js';

function leakLine(l: Suspect): string {
  const g = l.group;
  const h = g.holder?.frame;
  const at = h ? `${shortFunc(h.func)} (${shortFile(h.file)}:${h.line})` : '?';
  const c = g.stack.createdBy;
  const by = c ? `; started by ${shortFunc(c.func)} (${shortFile(c.file)}:${c.line})` : '';
  const verdict = l.certain ? ' [runtime: leaked]' : '';
  return `${num(g.count)} × ${g.state || BLOCK_WORDS[g.blockedOn]} in ${at}${by}${verdict}`;
}

/**
 * `link` (src/link, the source link): extra lines under a leak, such as the lint finding that
 * explains it.
 */
export function renderTestText(r: TestReport, c: Style, link?: (l: Suspect) => string[]): string {
  const linked = (l: Suspect, indent: string) => (link ? link(l).map((x) => indent + x) : []);
  const out: string[] = ['', c.bold('leakwatch test')];
  const width = Math.max(...r.packages.map((p) => p.package.length), 10);
  for (const p of r.packages) {
    const name = p.package.padEnd(width);
    if (p.result === 'build-fail') {
      out.push(`  ${c.red('BUILD')}  ${name}  did not compile (see the compiler's message above)`);
      continue;
    }
    const failed = p.failedTests.length > 0 || p.result === 'fail';
    const failNote = failed
      ? c.yellow(
          `  tests failed${p.failedTests.length ? `: ${p.failedTests.join(', ')}` : ''} (a test failure, not a leak)`,
        )
      : '';
    if (!p.checked) {
      const why =
        p.install === 'skipped'
          ? 'not checked: see the note below'
          : 'not checked: the test binary did not reach its end (crash, timeout, or no tests ran)';
      out.push(`  ${c.yellow('SKIP')}   ${name}  ${why}${failNote}`);
      continue;
    }
    if (p.leaks.length === 0) {
      out.push(`  ${c.green('ok')}     ${name}  no leaked goroutines${failNote}`);
      continue;
    }
    const n = p.leaks.reduce((s, l) => s + l.group.count, 0);
    out.push(
      `  ${c.red(c.bold('LEAK'))}   ${name}  ${num(n)} goroutine${n === 1 ? '' : 's'} left behind${failNote}`,
    );
    if (p.tests.length > 0) {
      for (const t of p.tests) {
        out.push(`      ${c.bold(t.test)}${t.failed ? c.yellow(' (also failed)') : ''}`);
        for (const l of t.leaks) out.push(`          ${leakLine(l)}`, ...linked(l, '            '));
      }
    } else {
      for (const l of p.leaks) out.push(`      ${leakLine(l)}`, ...linked(l, '        '));
    }
  }
  const notes = r.packages.filter((p) => p.note);
  if (notes.length > 0) {
    out.push('');
    for (const p of notes) out.push(c.dim(`note: ${p.package}: ${p.note}`));
  }
  const leaking = r.packages.filter((p) => p.leaks.length > 0).length;
  out.push('');
  out.push(
    leaking > 0
      ? c.red(
          `${leaking} of ${r.packages.length} package${r.packages.length === 1 ? '' : 's'} leaked goroutines.`,
        )
      : c.green(`No leaks in ${r.packages.filter((p) => p.checked).length} checked package(s).`),
  );
  return out.join('\n') + '\n';
}
