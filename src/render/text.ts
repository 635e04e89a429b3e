/**
 * The human report: what an on-call engineer reads first. Suspects ranked, each answering the
 * three ownership questions in one line apiece, then the idle-by-design summary so a clean
 * service visibly reads as clean.
 */
import type { Frame } from '../model/frame.js';
import type { Snapshot } from '../model/snapshot.js';
import { BLOCK_WORDS } from '../analysis/blocking.js';
import type { DiffReport } from '../analysis/diff.js';
import { shortFile, shortFunc } from '../analysis/frames.js';
import type { Report, Suspect } from '../analysis/suspects.js';
import { num, type Style } from './style.js';

export interface TextOptions {
  style: Style;
  /** Suspects shown in full; the rest are listed one line each. */
  top: number;
  /** Frames shown per stack; 0 for all. */
  frames: number;
}

const FORMAT_NAMES: Record<Snapshot['format'], string> = {
  traceback: 'goroutine dump (traceback, debug=2)',
  debug1: 'counted profile (debug=1)',
  proto: 'protobuf profile (debug=0)',
};

export function describeSnapshot(s: Snapshot): string {
  const what =
    s.profile === 'goroutineleak'
      ? `goroutineleak ${FORMAT_NAMES[s.format]}`
      : FORMAT_NAMES[s.format];
  const at = s.takenAt ? `, taken ${s.takenAt.toISOString()}` : '';
  return `${s.source}: ${what}${at}`;
}

export function renderText(r: Report, o: TextOptions): string {
  const { style: c } = o;
  const s = r.snapshot;
  const out: string[] = [];
  out.push(c.bold(describeSnapshot(s)));
  out.push(
    `${num(s.total)} goroutines in ${num(r.groups.length)} groups${s.leakDetection ? '; runtime leak detection: on' : ''}`,
  );
  for (const w of s.warnings.slice(0, 5)) out.push(c.yellow(`warning: ${w}`));
  if (s.warnings.length > 5) out.push(c.yellow(`warning: ... and ${s.warnings.length - 5} more`));
  out.push('');

  if (s.profile === 'goroutineleak' && !r.suspects.some((x) => x.proven > 0)) {
    out.push(
      c.dim(
        "The runtime's leak detector proved no goroutine leaked. It cannot see goroutines blocked on a channel or lock still reachable from live data (a map in a long-lived struct, a global): analyze /debug/pprof/goroutine?debug=2 as well.",
      ),
    );
  }
  if (r.incomplete && r.suspects.length === 0) {
    out.push(c.yellow(`Cannot judge leaks: ${r.incomplete}.`));
  } else if (r.suspects.length === 0) {
    out.push(c.green('No leak suspects.'));
  } else {
    const leaking = r.suspects.reduce((n, x) => n + x.group.count, 0);
    out.push(
      c.bold(
        c.red(
          `${r.suspects.length} leak suspect${r.suspects.length === 1 ? '' : 's'}, ${num(leaking)} goroutines`,
        ),
      ),
    );
    out.push('');
    r.suspects.slice(0, o.top).forEach((x, i) => out.push(...suspectBlock(x, i + 1, o), ''));
    const rest = r.suspects.slice(o.top);
    if (rest.length > 0) {
      out.push(
        c.dim(
          `${rest.length} more suspect${rest.length === 1 ? '' : 's'} (--top ${r.suspects.length} to show all):`,
        ),
      );
      for (const x of rest)
        out.push(
          `  ${num(x.group.count).padStart(8)}  ${x.group.state || x.group.blockedOn}  ${where(x.group.holder?.frame)}`,
        );
      out.push('');
    }
  }
  if (r.quiet.length > 0) {
    const n = r.quiet.reduce((t, q) => t + q.group.count, 0);
    const big = r.quiet[0]!;
    const g = big.group;
    out.push(
      c.dim(
        `Not suspects: ${num(n)} goroutine${n === 1 ? '' : 's'} in ${r.quiet.length} group${r.quiet.length === 1 ? '' : 's'} (largest: ${num(g.count)} in ${where(g.holder?.frame)}, ${g.state || BLOCK_WORDS[g.blockedOn]}: ${big.why})`,
      ),
    );
  }
  if (r.idle.length > 0) {
    const n = r.idle.reduce((t, e) => t + e.count, 0);
    out.push(
      c.dim(
        `Idle by design: ${num(n)} goroutines (${r.idle.map((e) => `${e.reason} ${num(e.count)}`).join(', ')})`,
      ),
    );
  }
  if (r.suspects.length > 0 && r.creators.length > 0) {
    out.push(c.dim('Top creation sites of non-idle goroutines:'));
    for (const e of r.creators.slice(0, 5)) {
      out.push(
        c.dim(
          `  ${num(e.count).padStart(8)}  ${shortFunc(e.site.func)} at ${shortFile(e.site.file)}:${e.site.line}`,
        ),
      );
    }
  }
  return out.join('\n') + '\n';
}

function where(f: Frame | undefined): string {
  return f ? `${shortFunc(f.func)} (${shortFile(f.file)}:${f.line})` : '?';
}

function suspectBlock(x: Suspect, rank: number, o: TextOptions): string[] {
  const c = o.style;
  const g = x.group;
  // The verdict covers the goroutines the runtime marked, never a whole group on one mark.
  const tag = x.certain
    ? c.red(c.bold('LEAKED (runtime verdict)'))
    : x.proven > 0
      ? c.yellow(`suspect, ${num(x.proven)} of ${num(g.count)} proven leaked by the runtime`)
      : c.yellow('suspect');
  const state = g.state || BLOCK_WORDS[g.blockedOn];
  const lines = [
    `${c.bold(`#${rank}`)}  ${c.bold(num(g.count))} goroutine${g.count === 1 ? '' : 's'}  ${c.cyan(state)}  ${tag}  ${c.dim(`score ${x.score}  group ${g.id}`)}`,
    `    created by  ${x.ownership.who}`,
    `    stuck on    ${x.ownership.what}`,
    `    held by     ${x.ownership.holds}`,
    `    evidence    ${x.reasons.join('; ')}`,
  ];
  if (x.fix) lines.push(`    fix         ${x.fix}`);
  if (g.labels.size > 0) {
    const ls = [...g.labels.entries()].slice(0, 3).map(([k, n]) => `{${k}} ×${num(n)}`);
    lines.push(`    labels      ${ls.join(', ')}${g.labels.size > 3 ? ', ...' : ''}`);
  }
  lines.push(...stackLines(g.stack.frames, g.stack.createdBy, g.stack.elided, o));
  // One stack started from several places: the others, after the most common one above.
  for (const cr of g.creators.slice(1, 4))
    lines.push(
      `      also created by ${cr.site.func} ×${num(cr.count)}\n        ${o.style.dim(`${cr.site.file}:${cr.site.line}`)}`,
    );
  if (g.creators.length > 4)
    lines.push(o.style.dim(`      ... and ${g.creators.length - 4} more creation sites`));
  return lines;
}

function stackLines(
  frames: readonly Frame[],
  createdBy: Frame | undefined,
  elided: number,
  o: TextOptions,
): string[] {
  const c = o.style;
  // The runtime frames on top (gopark, chansend) say nothing the state line does not.
  let shown = frames.filter((f) => f.pkg !== 'runtime');
  if (shown.length === 0) shown = [...frames];
  const limit = o.frames > 0 ? o.frames : shown.length;
  const out = ['    stack'];
  for (const f of shown.slice(0, limit))
    out.push(`      ${f.func}\n        ${c.dim(`${f.file}:${f.line}`)}`);
  if (shown.length > limit)
    out.push(c.dim(`      ... ${shown.length - limit} more frames (--frames 0 for all)`));
  if (elided > 0) out.push(c.dim(`      (the runtime elided ${elided} frames)`));
  if (createdBy)
    out.push(
      `      created by ${createdBy.func}\n        ${c.dim(`${createdBy.file}:${createdBy.line}`)}`,
    );
  return out;
}

export function renderDiffText(d: DiffReport, o: TextOptions): string {
  const c = o.style;
  const out: string[] = [];
  out.push(c.bold(`before  ${describeSnapshot(d.before)}: ${num(d.before.total)} goroutines`));
  out.push(c.bold(`after   ${describeSnapshot(d.after)}: ${num(d.after.total)} goroutines`));
  const sign = d.totalDelta > 0 ? '+' : '';
  const rate =
    d.minutes !== undefined
      ? ` over ${d.minutes.toFixed(1)} minutes (${sign}${(d.totalDelta / d.minutes).toFixed(1)}/min)`
      : '';
  out.push(`total ${sign}${num(d.totalDelta)}${rate}`);
  out.push('');
  const moved = d.changes.filter((x) => x.change !== 'same');
  if (moved.length === 0) out.push(c.green('No group changed.'));
  for (const x of moved) {
    const delta = `${x.delta > 0 ? '+' : ''}${num(x.delta)}`;
    const col = x.delta > 0 ? c.red : c.green;
    const per =
      x.perMinute !== undefined ? c.dim(` (${x.perMinute > 0 ? '+' : ''}${x.perMinute}/min)`) : '';
    out.push(
      `${col(delta.padStart(9))}  ${x.change.padEnd(8)} ${num(x.before).padStart(7)} → ${num(x.after).padEnd(7)} ${c.cyan(x.group.state || x.group.blockedOn)}  ${where(x.group.holder?.frame)}${per}`,
    );
    const cb = x.group.stack.createdBy;
    if (cb)
      out.push(
        c.dim(`           created by ${shortFunc(cb.func)} at ${shortFile(cb.file)}:${cb.line}`),
      );
  }
  return out.join('\n') + '\n';
}
