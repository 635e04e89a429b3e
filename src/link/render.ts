/**
 * The link in the reports: under each suspect of the text report, the code it is parked on and
 * the code that started it, the findings that explain it, or, where none does, the ownership
 * answers from the source; in JSON, `source`, `findings` and `lifetime` on each suspect.
 */
import { shortFunc } from '../analysis/frames.js';
import type { Group } from '../analysis/group.js';
import { num, type Style } from '../render/style.js';
import type { CodeFrame, GroupLink, LinkedFinding, LinkResult } from './link.js';

const VIA_WORDS: Record<LinkedFinding['via'], string> = {
  line: 'on a line of its stack',
  body: 'in the code it runs',
  go: 'at the go statement that started it',
  'waits-on': 'where what it waits on was made',
};

function codeLines(f: CodeFrame, c: Style, indent: string): string[] {
  const width = String(f.line + 2).length;
  return f.code
    .filter((l) => l.line === f.line || l.text.trim() !== '')
    .map((l) => {
      const mark = l.line === f.line ? c.red('>') : ' ';
      return `${indent}${mark} ${c.dim(`${String(l.line).padStart(width)} |`)} ${l.text}`;
    });
}

/** The text lines for one suspect's link, indented like the rest of its block. */
export function linkTextLines(l: GroupLink, c: Style): string[] {
  const out: string[] = [];
  const pad = '                ';
  if (l.status === 'mismatch') {
    out.push(
      `    source      ${c.yellow('does not match this checkout (the dump ran other code): not linked')}`,
    );
    for (const m of l.mismatches.slice(0, 3)) out.push(`${pad}${m}`);
    if (l.mismatches.length > 3) out.push(`${pad}... and ${l.mismatches.length - 3} more`);
    return out;
  }
  if (l.status === 'outside') {
    out.push(`    source      ${c.dim("none of its frames are this checkout's code")}`);
    return out;
  }
  if (l.blocking) {
    out.push(
      `    source      ${c.bold(`${l.blocking.file}:${l.blocking.line}`)} in ${shortFunc(l.blocking.function)}`,
    );
    out.push(...codeLines(l.blocking, c, '      '));
  }
  if (l.createdBy) {
    out.push(
      `    started at  ${c.bold(`${l.createdBy.file}:${l.createdBy.line}`)} in ${shortFunc(l.createdBy.function)}`,
    );
    out.push(
      ...codeLines(
        { ...l.createdBy, code: l.createdBy.code.filter((x) => x.line === l.createdBy!.line) },
        c,
        '      ',
      ),
    );
  }
  for (const f of l.findings) {
    const on = f.on ? ` (${f.on})` : '';
    out.push(
      `    ${c.red('finding')}     ${c.cyan(f.rule)} at ${f.file}:${f.line}, ${VIA_WORDS[f.via]}${on}`,
    );
    out.push(`${pad}${f.message}`);
    out.push(`${pad}${c.green('fix:')} ${f.fix}`);
  }
  const lt = l.lifetime;
  if (lt) {
    // The ownership questions from the source. With a finding that explains the group, only
    // the ways out (the cases that return) are worth the space.
    const explained = l.findings.length > 0;
    if (!explained) {
      out.push(`    ${c.dim('no lint finding explains it; from the source:')}`);
      if (lt.startedBy)
        out.push(
          `    who starts  \`${lt.startedBy.code}\` in ${shortFunc(lt.startedBy.function)} at ${lt.startedBy.file}:${lt.startedBy.line}`,
        );
    }
    const ends = explained ? lt.endsBy.filter((e) => e.exits) : lt.endsBy;
    ends.forEach((e, i) => {
      const made = `${e.exits && !explained ? ' (its case returns)' : ''}${e.madeAt ? ` (made at ${e.madeAt})` : ''}`;
      const line = `${e.expr}${made}: ${e.ends}`;
      out.push(
        `    ${i === 0 ? 'what ends it' : '            '} ${e.unreleased ? c.red(line) : line}`,
      );
    });
    if (!explained && lt.endsBy.length === 0)
      out.push(`    what ends it nothing it waits on could be read at the blocking line`);
  }
  return out;
}

/** The short form under a leak in `leakwatch test`: findings, else what nothing releases. */
export function linkBrief(l: GroupLink, c: Style): string[] {
  if (l.status === 'mismatch')
    return [c.yellow(`source does not match this checkout: ${l.mismatches[0] ?? ''}`)];
  const out = l.findings.map(
    (f) =>
      `${c.red('finding')} ${c.cyan(f.rule)} at ${f.file}:${f.line} (${VIA_WORDS[f.via]}): ${f.message}`,
  );
  if (out.length === 0)
    for (const e of l.lifetime?.endsBy ?? [])
      if (e.unreleased && e.exits)
        out.push(
          `${c.dim('no finding;')} ${e.expr}${e.madeAt ? ` (made at ${e.madeAt})` : ''}: ${e.ends}`,
        );
  return out;
}

/** The report's one-line summary of the link. */
export function linkSummary(r: LinkResult<Group>, groups: readonly Group[], c: Style): string {
  let linked = 0;
  let mismatch = 0;
  let findings = 0;
  for (const g of groups) {
    const l = r.links.get(g);
    if (!l) continue;
    if (l.status === 'linked') linked++;
    if (l.status === 'mismatch') mismatch++;
    findings += l.findings.length;
  }
  const parts = [
    `${num(linked)} of ${num(groups.length)} suspect${groups.length === 1 ? '' : 's'} linked`,
  ];
  if (findings > 0) parts.push(`${num(findings)} finding${findings === 1 ? '' : 's'} joined`);
  const line = `Source: ${r.shown} (${r.modules.join(', ')}): ${parts.join(', ')}`;
  if (mismatch === 0 && linked === 0 && groups.length > 0)
    return `${c.dim(line)}\n${c.yellow(`No suspect runs code of ${r.modules.join(', ')}: is ${r.shown} the checkout of the service that was dumped?`)}`;
  if (mismatch === 0) return c.dim(line);
  return `${c.dim(line)}\n${c.yellow(`${num(mismatch)} suspect${mismatch === 1 ? ' does' : 's do'} not match this checkout: the dump was built from other code (another commit?); those are not linked.`)}`;
}

/** The JSON fields a link adds to a suspect. */
export function linkJson(l: GroupLink | undefined) {
  if (!l) return { source: null, findings: [], lifetime: null };
  return {
    source: {
      status: l.status,
      blocking: l.blocking ?? null,
      createdBy: l.createdBy ?? null,
      mismatches: l.mismatches,
    },
    findings: l.findings.map((f) => ({
      rule: f.rule,
      file: f.file,
      line: f.line,
      message: f.message,
      fix: f.fix,
      via: f.via,
      on: f.on ?? null,
    })),
    lifetime: l.lifetime
      ? {
          startedBy: l.lifetime.startedBy ?? null,
          endsBy: l.lifetime.endsBy.map((e) => ({ ...e, madeAt: e.madeAt ?? null })),
        }
      : null,
  };
}
