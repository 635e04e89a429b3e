/**
 * `leakwatch test` for people: after go test's own output (a timeout's panic and goroutine dump
 * included), one line per package, and under it the tests that leak or deadlocked with what
 * each left behind or is stuck on, in ownership terms; what no test could be named for, and
 * why; and --repeat's counts.
 */
import { shortFile, shortFunc } from '../analysis/frames.js';
import { BLOCK_WORDS } from '../analysis/blocking.js';
import type { Suspect } from '../analysis/suspects.js';
import {
  packageLeaked,
  type PackageReport,
  type TestLeaks,
  type TestReport,
} from '../gotest/run.js';
import { num, type Style } from './style.js';

function leakLine(l: Suspect): string {
  const g = l.group;
  const h = g.holder?.frame;
  const at = h ? `${shortFunc(h.func)} (${shortFile(h.file)}:${h.line})` : '?';
  const c = g.creators[0]?.site ?? g.stack.createdBy;
  const by = c ? `; started by ${shortFunc(c.func)} (${shortFile(c.file)}:${c.line})` : '';
  const verdict = l.certain ? ' [runtime: leaked]' : '';
  return `${num(g.count)} × ${g.state || BLOCK_WORDS[g.blockedOn]} in ${at}${by}${verdict}`;
}

export function renderTestText(r: TestReport, c: Style): string {
  const out: string[] = ['', c.bold('leakwatch test')];
  const width = Math.max(...r.packages.map((p) => p.package.length), 10);
  for (const p of r.packages) {
    const name = p.package.padEnd(width);
    if (p.result === 'build-fail') {
      out.push(`  ${c.red('BUILD')}  ${name}  did not compile (see the compiler's message above)`);
      continue;
    }
    // A binary that died under a deadlock fails the package: the DEADLOCK line says so.
    const failed =
      p.failedTests.length > 0 || (p.result === 'fail' && !p.tests.some((t) => t.deadlock));
    const failNote = failed
      ? c.yellow(
          `  tests failed${p.failedTests.length ? `: ${p.failedTests.join(', ')}` : ''} (a test failure, not a leak)`,
        )
      : '';
    if (!p.checked && !packageLeaked(p)) {
      const why =
        p.install === 'skipped'
          ? 'not checked: see the note below'
          : 'not checked: the test binary did not reach its end (crash, timeout, or no tests ran)';
      out.push(`  ${c.yellow('SKIP')}   ${name}  ${why}${failNote}`);
      continue;
    }
    if (!packageLeaked(p)) {
      out.push(`  ${c.green('ok')}     ${name}  no leaked goroutines${failNote}${repeatNote(p)}`);
      continue;
    }
    const stuck = p.tests.filter((t) => t.deadlock);
    const n = p.leaks.reduce((s, l) => s + l.group.count, 0);
    const what: string[] = [];
    if (stuck.length > 0) what.push(`deadlocked: ${stuck.map((t) => t.test).join(', ')}`);
    if (n > 0) what.push(`${num(n)} goroutine${n === 1 ? '' : 's'} left behind`);
    if (n === 0 && stuck.length === 0) what.push('leaks in repeated runs');
    out.push(
      `  ${c.red(c.bold(stuck.length > 0 ? 'DEADLOCK' : 'LEAK'))}${stuck.length > 0 ? '' : '    '} ${name}  ${what.join('; ')}${failNote}${repeatNote(p)}`,
    );
    for (const t of p.tests) out.push(...testLines(t, c));
    const shown = new Set(p.tests.flatMap((t) => t.leaks.map((l) => l.group.id)));
    for (const u of p.unattributed) {
      const l = p.leaks.find((x) => x.group.id === u.id);
      if (!l) continue;
      out.push(`      ${c.bold('(no test named)')} ${c.dim(u.reason)}`);
      out.push(`          ${leakLine({ ...l, group: { ...l.group, count: u.count } })}`);
      shown.add(u.id);
    }
    if (p.tests.length === 0)
      for (const l of p.leaks) if (!shown.has(l.group.id)) out.push(`      ${leakLine(l)}`);
  }
  const notes = r.packages.filter((p) => p.note);
  if (notes.length > 0) {
    out.push('');
    for (const p of notes) out.push(c.dim(`note: ${p.package}: ${p.note}`));
  }
  const leaking = r.packages.filter(packageLeaked).length;
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

function repeatNote(p: PackageReport): string {
  return p.repeat ? ` (repeated ${num(p.repeat.runs)} time${p.repeat.runs === 1 ? '' : 's'})` : '';
}

function testLines(t: TestLeaks, c: Style): string[] {
  const out: string[] = [];
  const notes: string[] = [];
  if (t.failed && !t.deadlock) notes.push(c.yellow('also failed'));
  if (t.iterations.length > 1 || (t.iterations.length === 1 && t.iterations[0] !== 1))
    notes.push(
      `in ${t.iterations.length} iteration${t.iterations.length === 1 ? '' : 's'}: ${ranges(t.iterations)}`,
    );
  if (t.via === 'rerun') notes.push('named by running it alone');
  if (t.repeat) {
    const r = t.repeat;
    const parts = [`leaked in ${num(r.leaked)} of ${num(r.runs)} repeated runs`];
    if (r.deadlocked > 0) parts.push(`deadlocked in ${num(r.deadlocked)}`);
    notes.push(parts.join(', '));
  }
  out.push(`      ${c.bold(t.test)}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  if (t.repeat?.first)
    out.push(
      c.dim(`          first in run ${t.repeat.first.run}; replay: ${t.repeat.first.replay}`),
    );
  for (const l of t.leaks) out.push(`          ${leakLine(l)}`);
  if (t.deadlock) {
    const d = t.deadlock;
    const n = d.suspects.reduce((s, l) => s + l.group.count, 0);
    out.push(
      `          ${c.red('deadlock')}: ${d.message}; ${n > 0 ? `${num(n)} goroutine${n === 1 ? '' : 's'} of the package stuck (the full dump is above):` : 'no goroutine of the package in the dump (see it above)'}`,
    );
    for (const l of d.suspects) out.push(`            ${leakLine(l)}`);
  }
  return out;
}

/** 1,2,3,5 → "1-3, 5". */
function ranges(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    out.push(j > i ? `${s[i]}-${s[j]}` : `${s[i]}`);
    i = j;
  }
  return out.join(', ');
}
