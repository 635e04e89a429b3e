/**
 * The live status view on a terminal: one line per target (state, goroutines, trend, last
 * scrape, what is firing) and the latest alerts, redrawn every second. Off when not a TTY;
 * then alerts and scrape failures are logged lines instead.
 *
 * Names, errors and summaries come from targets and their profiles: each is printable() (one
 * line, no control characters), so a target cannot move the cursor or repaint the screen.
 */
import { printable } from '../render/escape.js';
import { num, type Style } from '../render/style.js';
import type { AlertEvent } from './types.js';
import type { TargetStatus } from './watcher.js';

export function renderStatus(
  status: TargetStatus[],
  recent: AlertEvent[],
  c: Style,
  header: string,
  now: number,
): string {
  const out: string[] = [c.bold(header), ''];
  const names = status.map((s) => printable(s.name));
  const w = Math.max(8, ...names.map((n) => n.length));
  out.push(c.dim(`${'TARGET'.padEnd(w)}  STATE    GOROUTINES   TREND/min  LAST SCRAPE  FIRING`));
  status.forEach((s, i) => {
    const state =
      s.state === 'ok'
        ? c.green('ok     ')
        : s.state === 'failing'
          ? c.red('FAILING')
          : c.dim('pending');
    const total = s.lastTotal === undefined ? '-' : num(s.lastTotal);
    const trend =
      s.trendPerMin === undefined
        ? '-'
        : `${s.trendPerMin > 0 ? '+' : ''}${s.trendPerMin.toFixed(1)}`;
    const ago = s.lastAt === undefined ? '-' : `${((now - s.lastAt) / 1000).toFixed(1)} s ago`;
    const firing = s.firing.length
      ? c.red(printable(s.firing.join(', ')))
      : s.lastError
        ? c.yellow(printable(s.lastError).slice(0, 60))
        : '';
    out.push(
      `${names[i]!.padEnd(w)}  ${state}  ${total.padStart(10)}  ${trend.padStart(10)}  ${ago.padStart(11)}  ${firing}`,
    );
  });
  if (recent.length > 0) {
    out.push('', c.dim('Latest alerts:'));
    for (const e of recent.slice(0, 6)) {
      const tag = e.type === 'alert' ? c.red('ALERT   ') : c.green('RESOLVED');
      const what = `${e.target}  ${e.detector}: ${e.summary}`;
      out.push(`  ${printable(e.at.slice(11, 19))} ${tag} ${printable(what)}`);
    }
  }
  return out.join('\n') + '\n';
}
