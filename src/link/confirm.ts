/**
 * `lint --confirm DUMP_OR_URL`: the other direction of the link. A finding that goroutines of a
 * real dump are parked at, were started at, run the code of, or wait on what it points at, is
 * not a maybe: it is marked with those goroutines' count and state and listed first.
 */
import { analyze } from '../analysis/suspects.js';
import type { ConfirmView } from '../lint/report/json.js';
import type { LintResult } from '../lint/run.js';
import type { Finding } from '../lint/rule.js';
import { readSnapshot, type ReadOptions } from '../readers/index.js';
import { num, type Style } from '../render/style.js';
import { describeSnapshot } from '../render/text.js';
import { linkGroups, type Via } from './link.js';

interface Confirmation {
  /** Goroutines in all confirming groups. */
  count: number;
  /** The most common state among them. */
  state: string;
  groups: { id: string; count: number; state: string; via: Via }[];
}

interface Confirmed {
  /** The dump as described in reports. */
  source: string;
  total: number;
  byFinding: Map<Finding, Confirmation>;
  /** Groups whose code is not what the checkout holds. */
  mismatched: number;
}

/**
 * Reads the dump, links its non-idle groups to the checkout at `cwd` with the findings at hand,
 * and reorders `result.findings` so the confirmed ones come first (most goroutines first).
 */
export async function confirmFindings(
  result: LintResult,
  input: string,
  cwd: string,
  read: ReadOptions,
): Promise<Confirmed> {
  const snapshot = await readSnapshot(input, read);
  const report = analyze(snapshot);
  const groups = report.groups.filter((g) => !g.idle);
  const linked = await linkGroups(cwd, groups, {
    findings: { list: result.findings, cwd },
    option: '--confirm',
  });
  const byKey = new Map<string, Finding>();
  const key = (f: { rule: string; file: string; line: number }) =>
    `${f.rule}\0${f.file}\0${f.line}`;
  for (const f of result.findings) byKey.set(key(f), f);
  const byFinding = new Map<Finding, Confirmation>();
  let mismatched = 0;
  for (const g of groups) {
    const l = linked.links.get(g)!;
    if (l.status === 'mismatch') mismatched++;
    for (const lf of l.findings) {
      const f = byKey.get(key(lf));
      if (!f) continue;
      const c = byFinding.get(f) ?? { count: 0, state: '', groups: [] };
      c.count += g.count;
      c.groups.push({ id: g.id, count: g.count, state: g.state || g.blockedOn, via: lf.via });
      byFinding.set(f, c);
    }
  }
  for (const c of byFinding.values()) {
    c.groups.sort((a, b) => b.count - a.count);
    const states = new Map<string, number>();
    for (const g of c.groups) states.set(g.state, (states.get(g.state) ?? 0) + g.count);
    c.state = [...states.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  }
  const order = (f: Finding) => byFinding.get(f)?.count ?? 0;
  // Stable: unconfirmed findings keep lint's file-and-line order.
  result.findings.sort((a, b) => order(b) - order(a));
  return { source: describeSnapshot(snapshot), total: snapshot.total, byFinding, mismatched };
}

/** Lines printed before lint's own text: what the dump confirms. */
export function confirmText(r: LintResult, c: Confirmed, s: Style): string {
  const out = [s.bold(`Confirmed by ${c.source}; ${num(c.total)} goroutines:`)];
  const confirmed = r.findings.filter((f) => c.byFinding.has(f));
  if (confirmed.length === 0)
    out.push(s.dim('  no finding is confirmed by a goroutine in this dump'));
  for (const f of confirmed) {
    const x = c.byFinding.get(f)!;
    const ids = x.groups.map((g) => g.id).join(', ');
    out.push(
      `  ${s.red(num(x.count).padStart(8))} ${x.state.padEnd(10)} ${s.bold(`${f.file}:${f.line}`)} ${s.cyan(f.rule)} ${s.dim(`(group${x.groups.length === 1 ? '' : 's'} ${ids})`)}`,
    );
  }
  if (c.mismatched > 0)
    out.push(
      s.yellow(
        `  ${num(c.mismatched)} group${c.mismatched === 1 ? '' : 's'} of the dump ran code that does not match this checkout: not used`,
      ),
    );
  return `${out.join('\n')}\n\n`;
}

/** The confirmations as the JSON and SARIF renderers take them (lint/report/json.ts). */
export function confirmView(c: Confirmed): ConfirmView {
  return {
    by: c.source,
    of(f) {
      const x = c.byFinding.get(f);
      return x ? { count: x.count, state: x.state, groups: x.groups } : null;
    },
  };
}
