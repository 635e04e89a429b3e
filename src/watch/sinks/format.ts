/** Text the human-facing sinks (log line, Slack) share: one line per alert, evidence as text. */
import { frameShort } from '../../analysis/frames.js';
import { num } from '../../render/style.js';
import type { AlertEvent } from '../types.js';

/** Control characters (ESC included) out, so a target name can't drive the terminal. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/**
 * The event's summary, completed with what the issue says every alert names: the user frame
 * and the creation site, when the detector's summary left them out.
 */
export function headline(e: AlertEvent): string {
  let text = oneLine(e.summary).trim();
  const g = e.group;
  const holder = g?.holder && oneLine(frameShort(g.holder));
  const created = g?.createdBy && oneLine(frameShort(g.createdBy));
  if (holder && !text.includes(holder)) text = `${holder}: ${text}`;
  if (created && !text.includes(created)) text += `, created by ${created}`;
  return text;
}

/** One evidence value as text: numbers grouped, series joined with arrows, the rest as JSON. */
export function evidenceValue(v: unknown, maxItems = 8): string {
  if (typeof v === 'number') return Number.isInteger(v) ? num(v) : String(+v.toFixed(3));
  if (typeof v === 'string') return oneLine(v);
  if (Array.isArray(v)) {
    const items = v.length > maxItems ? v.slice(v.length - maxItems) : v;
    const parts = items.map((x) => evidenceValue(x, maxItems));
    return (v.length > maxItems ? '… → ' : '') + parts.join(' → ');
  }
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // A point of a series ({at, value}) reads as its value.
    if ('value' in o && Object.keys(o).length <= 2) return evidenceValue(o.value, maxItems);
    return oneLine(JSON.stringify(v));
  }
  return String(v);
}

/** `slope: 1,200/min, threshold: 1.5, counts: 10 → 20 → 40`. */
export function evidenceText(evidence: Record<string, unknown>, maxLen = 600): string {
  const parts = Object.entries(evidence).map(([k, v]) => `${k}: ${evidenceValue(v)}`);
  const s = parts.join(', ');
  return s.length > maxLen ? `${s.slice(0, maxLen - 1)}…` : s;
}
