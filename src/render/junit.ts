/**
 * JUnit XML for CI dashboards: one testsuite per package, one failing testcase per leaking test
 * (type "goroutine-leak"), per deadlocked test (type "deadlock", with the stuck goroutines), and
 * the tests go test itself failed (type "test-failure"), kept apart so a dashboard never
 * mistakes one for the other.
 */
import { shortFile, shortFunc } from '../analysis/frames.js';
import type { Suspect } from '../analysis/suspects.js';
import type { TestReport } from '../gotest/run.js';

/** XML-escapes text and drops the control characters XML 1.0 cannot carry. */
function esc(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13) continue;
    out += '<>&"\''.includes(ch) ? `&#${c};` : ch;
  }
  return out;
}

function leakText(leaks: Suspect[]): string {
  return leaks
    .map((l) => {
      const g = l.group;
      const at = g.holder
        ? `${shortFunc(g.holder.frame.func)} (${shortFile(g.holder.frame.file)}:${g.holder.frame.line})`
        : '?';
      const c = g.creators[0]?.site ?? g.stack.createdBy;
      const by = c ? `, created by ${shortFunc(c.func)} (${shortFile(c.file)}:${c.line})` : '';
      return `${g.count} goroutine(s) ${l.certain ? 'leaked (runtime verdict)' : 'left running'}: ${g.state || g.blockedOn} in ${at}${by}`;
    })
    .join('\n');
}

export function renderJunit(r: TestReport): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites name="leakwatch test">'];
  for (const p of r.packages) {
    const cases: string[] = [];
    const leakingTests = new Set(p.tests.map((t) => t.test));
    for (const t of p.tests) {
      if (t.deadlock) {
        cases.push(
          `    <testcase classname="${esc(p.package)}" name="${esc(t.test)}"><failure type="deadlock" message="${esc(t.deadlock.message)}">${esc(leakText(t.deadlock.suspects))}</failure></testcase>`,
        );
      }
      if (t.leaks.length === 0) continue;
      const n = t.leaks.reduce((s, l) => s + l.group.count, 0);
      cases.push(
        `    <testcase classname="${esc(p.package)}" name="${esc(t.test)}"><failure type="goroutine-leak" message="${esc(`leaked ${n} goroutine(s)`)}">${esc(leakText(t.leaks))}</failure></testcase>`,
      );
    }
    if (p.unattributed.length > 0) {
      // Leaks no test could be named for: the package as a whole leaked them.
      cases.push(
        `    <testcase classname="${esc(p.package)}" name="(package)"><failure type="goroutine-leak" message="package leaked goroutines no test was named for">${esc(
          p.unattributed
            .map((u) => {
              const l = p.leaks.find((x) => x.group.id === u.id);
              return l
                ? `${leakText([{ ...l, group: { ...l.group, count: u.count } }])} (${u.reason})`
                : '';
            })
            .filter(Boolean)
            .join('\n'),
        )}</failure></testcase>`,
      );
    }
    for (const t of p.failedTests) {
      if (leakingTests.has(t)) continue;
      cases.push(
        `    <testcase classname="${esc(p.package)}" name="${esc(t)}"><failure type="test-failure" message="test failed"/></testcase>`,
      );
    }
    out.push(
      `  <testsuite name="${esc(p.package)}" tests="${cases.length}" failures="${cases.length}">`,
      ...cases,
      '  </testsuite>',
    );
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
