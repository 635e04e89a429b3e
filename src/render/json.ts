/**
 * The machine-readable report. The shape is a contract (docs/json-schema.md): fields are only
 * ever added; `schemaVersion` changes if one is removed or changes meaning.
 */
import type { Frame } from '../model/frame.js';
import type { DiffReport } from '../analysis/diff.js';
import type { Group } from '../analysis/group.js';
import { creationSite } from '../analysis/frames.js';
import type { Quiet, Report, Suspect } from '../analysis/suspects.js';
import type { Snapshot } from '../model/snapshot.js';

export const SCHEMA_VERSION = 1;

interface JsonFrame {
  function: string;
  file: string;
  line: number;
}

const frame = (f: Frame): JsonFrame => ({ function: f.func, file: f.file, line: f.line });
const maybeFrame = (f: Frame | undefined): JsonFrame | null => (f ? frame(f) : null);

/** Goroutine ids listed per group in JSON; the rest are counted, not listed. */
const MAX_IDS = 50;

function snapshotJson(s: Snapshot) {
  return {
    source: s.source,
    format: s.format,
    profile: s.profile,
    takenAt: s.takenAt ? s.takenAt.toISOString() : null,
    total: s.total,
    leakDetection: s.leakDetection,
    warnings: s.warnings,
  };
}

function groupJson(g: Group) {
  const created = creationSite(g.stack.createdBy, g.stack.frames);
  return {
    id: g.id,
    count: g.count,
    state: g.state,
    blockedOn: g.blockedOn,
    leaked: g.leaked,
    idle: g.idle ?? null,
    userFrame: g.holder?.owner === 'user' ? frame(g.holder.frame) : null,
    holdingFrame: g.holder ? { ...frame(g.holder.frame), owner: g.holder.owner } : null,
    createdBy: maybeFrame(created?.site),
    createdVia: created?.via ?? null,
    creators: g.creators.map((c) => {
      const e = creationSite(c.site, g.stack.frames)!;
      return { ...frame(e.site), count: c.count, via: e.via ?? null };
    }),
    parents: g.parents.slice(0, MAX_IDS),
    parentCount: g.parentCount,
    waitMinutes: g.waitMinutes ? { min: g.waitMinutes.min, max: g.waitMinutes.max } : null,
    lockedToThread: g.lockedToThread,
    labels: [...g.labels.entries()].map(([labels, count]) => ({ labels, count })),
    goroutineIds: g.ids.slice(0, MAX_IDS),
    framesElided: g.stack.elided,
    stack: g.stack.frames.map(frame),
  };
}

export function suspectJson(x: Suspect) {
  return {
    ...groupJson(x.group),
    certain: x.certain,
    proven: x.proven,
    score: x.score,
    reasons: x.reasons,
    sameLine: x.sameLine,
    ownership: x.ownership,
    fix: x.fix ?? null,
  };
}

const quietJson = (q: Quiet) => ({ ...groupJson(q.group), why: q.why });

export function reportJson(r: Report) {
  return {
    schemaVersion: SCHEMA_VERSION,
    ...snapshotJson(r.snapshot),
    incomplete: r.incomplete ?? null,
    suspects: r.suspects.map(suspectJson),
    quiet: r.quiet.map(quietJson),
    groups: r.groups.map(groupJson),
    idle: r.idle,
    creators: r.creators.map((c) => ({ ...frame(c.site), count: c.count, groups: c.groups })),
    options: r.options,
  };
}

export function renderJson(r: Report): string {
  return JSON.stringify(reportJson(r), null, 2) + '\n';
}

export function renderDiffJson(d: DiffReport): string {
  return (
    JSON.stringify(
      {
        schemaVersion: SCHEMA_VERSION,
        before: snapshotJson(d.before),
        after: snapshotJson(d.after),
        minutes: d.minutes ?? null,
        totalDelta: d.totalDelta,
        changes: d.changes.map((c) => ({
          change: c.change,
          before: c.before,
          after: c.after,
          delta: c.delta,
          perMinute: c.perMinute ?? null,
          group: groupJson(c.group),
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
