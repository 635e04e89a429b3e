/**
 * Text the human-facing sinks (log line, Slack, Alertmanager's annotations) share: one line per
 * alert, frames as `func file:line`, evidence as text. Everything here is printable() (one line,
 * no control characters); a destination with markup of its own escapes that on top.
 */
import type { Frame } from '../../model/frame.js';
import { printable } from '../../render/escape.js';
import { num } from '../../render/style.js';
import type { AlertEvent } from '../types.js';

/** A frame as people read it: `main.(*Service).deliver /src/notify.go:144`. */
export function frameText(f: Frame): string {
  return printable(`${f.func} ${f.file}:${f.line}`);
}

/** `main.(*Service).deliver` → `(*Service).deliver`, as detectors name a function. */
function shortName(func: string): string {
  return func.slice(func.lastIndexOf('/') + 1).replace(/^[^.(]*\./, '');
}

/**
 * The event's summary, completed with what every alert names: the frame holding the group and
 * its creation site, when the detector's summary left them out.
 */
export function headline(e: AlertEvent): string {
  let text = printable(e.summary).trim();
  const g = e.group;
  if (g?.holder && !text.includes(printable(shortName(g.holder.func))))
    text = `${frameText(g.holder)}: ${text}`;
  if (g?.createdBy && !text.includes(printable(shortName(g.createdBy.func))))
    text += `, created by ${frameText(g.createdBy)}`;
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
