/**
 * Rows back into the watch model, shared by every store: a group's info and an alert event,
 * from columns already decoded from JSON (SQLite keeps text, PostgreSQL JSONB; each store parses
 * its own, then hands the values here). A value that is not a frame is dropped, not trusted.
 */
import type { BlockKind } from '../../analysis/blocking.js';
import type { FrameOwner } from '../../analysis/frames.js';
import type { Frame } from '../../model/frame.js';
import type { AlertEvent, GroupCount, GroupInfo } from '../types.js';

/** A frame as stored: exactly its four fields, or undefined when `x` is not one. */
export function asFrame(x: unknown): Frame | undefined {
  const f = x as Frame;
  return typeof f === 'object' &&
    f !== null &&
    typeof f.func === 'string' &&
    typeof f.pkg === 'string' &&
    typeof f.file === 'string' &&
    typeof f.line === 'number'
    ? { func: f.func, pkg: f.pkg, file: f.file, line: f.line }
    : undefined;
}

export interface InfoRow {
  gid: string;
  holder: unknown;
  holder_owner: string | null;
  created_by: unknown;
  blocked_on: string | null;
  /** NULL: counts seen, no info yet. */
  stack: unknown;
  idle: string | null;
}

export function infoFromRow(r: InfoRow): GroupInfo | undefined {
  if (r.stack === null) return undefined;
  const info: GroupInfo = {
    id: r.gid,
    blockedOn: (r.blocked_on ?? 'unknown') as BlockKind,
    frames: Array.isArray(r.stack)
      ? r.stack.map(asFrame).filter((f): f is Frame => f !== undefined)
      : [],
  };
  const holder = asFrame(r.holder);
  if (holder) info.holder = holder;
  if (r.holder_owner !== null) info.holderOwner = r.holder_owner as FrameOwner;
  const c = asFrame(r.created_by);
  if (c) info.createdBy = c;
  if (r.idle !== null) info.idle = r.idle;
  return info;
}

export interface AlertRowValues {
  key: string;
  type: AlertEvent['type'];
  target: string;
  detector: string;
  at: string;
  summary: string;
  group_id: string | null;
  group_holder: unknown;
  group_created_by: unknown;
  group_blocked_on: string | null;
  group_count: number | null;
  evidence: Record<string, unknown>;
  labels: Record<string, string>;
}

export function alertFromRow(r: AlertRowValues): AlertEvent {
  const e: AlertEvent = {
    type: r.type,
    key: r.key,
    target: r.target,
    detector: r.detector,
    at: r.at,
    summary: r.summary,
    evidence: r.evidence,
    labels: r.labels,
  };
  if (r.group_id !== null) {
    e.group = { id: r.group_id, blockedOn: r.group_blocked_on ?? '', count: r.group_count ?? 0 };
    const h = asFrame(r.group_holder);
    if (h) e.group.holder = h;
    const c = asFrame(r.group_created_by);
    if (c) e.group.createdBy = c;
  }
  return e;
}

/** A group of a latest scrape, with its info when one is stored. */
export function countFromRow(
  r: { gid: string; count: number; leaked: number },
  info: GroupInfo | undefined,
): GroupCount & { info?: GroupInfo } {
  const out: GroupCount & { info?: GroupInfo } = { id: r.gid, count: r.count, leaked: r.leaked };
  if (info) out.info = info;
  return out;
}
