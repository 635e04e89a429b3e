/**
 * Text the human-facing sinks (log line, Slack, Alertmanager's annotations) share: one line per
 * alert, frames as `func file:line` in fields of their own and short in prose, evidence as text. Everything here is printable() (one line,
 * no control characters); a destination with markup of its own escapes that on top.
 */
import { frameShort, shortFile } from '../../analysis/frames.js';
import { frameText, type Frame } from '../../model/frame.js';
import { printable } from '../../render/escape.js';
import { num } from '../../render/style.js';
import type { AlertEvent } from '../types.js';

/** A frame in a field of its own: `main.(*Service).deliver /src/notify.go:144`, printable. */
export function frameField(f: Frame): string {
  return printable(frameText(f));
}

/**
 * The event's summary, completed with what every alert names: the frame holding the group and
 * its creation site, in the detectors' prose form (frameShort), when the summary left them out.
 */
export function headline(e: AlertEvent): string {
  let text = printable(e.summary).trim();
  const g = e.group;
  const holder = g?.holder && printable(frameShort(g.holder));
  const created = g?.createdBy && printable(frameShort(g.createdBy));
  if (holder && !text.includes(holder)) text = `${holder}: ${text}`;
  if (created && !text.includes(created)) text += `, created by ${created}`;
  // With --source: the finding that explains it, where the reader can open it.
  const f = e.link?.findings[0];
  if (f) text += `; ${printable(f.rule)} at ${printable(shortFile(f.file))}:${f.line}`;
  return text;
}

/** One evidence value as text: numbers grouped, series joined with arrows, the rest as JSON. */
export function evidenceValue(v: unknown, maxItems = 8): string {
  if (typeof v === 'number') return Number.isInteger(v) ? num(v) : String(+v.toFixed(3));
  if (typeof v === 'string') return printable(v);
  if (Array.isArray(v)) {
    const items = v.length > maxItems ? v.slice(v.length - maxItems) : v;
    const parts = items.map((x) => evidenceValue(x, maxItems));
    return (v.length > maxItems ? '… → ' : '') + parts.join(' → ');
  }
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // A point of a series ({at, value}) reads as its value.
    if ('value' in o && Object.keys(o).length <= 2) return evidenceValue(o.value, maxItems);
    return printable(JSON.stringify(v));
  }
  return printable(String(v));
}

/** `slope: 1,200/min, threshold: 1.5, counts: 10 → 20 → 40`. */
export function evidenceText(evidence: Record<string, unknown>, maxLen = 600): string {
  const parts = Object.entries(evidence).map(([k, v]) => `${printable(k)}: ${evidenceValue(v)}`);
  const s = parts.join(', ');
  return s.length > maxLen ? `${s.slice(0, maxLen - 1)}…` : s;
}
