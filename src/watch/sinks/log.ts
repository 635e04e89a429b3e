/**
 * The log sink: one readable line per event, for a terminal or a log file.
 *
 *   ALERT  checkout-api  growth  (*Service).deliver (notify.go:144) +1,200/min, 36,000 goroutines, created by main.(*Service).Broadcast /src/notify.go:124
 *   RESOLVED  checkout-api  growth  (*Service).deliver (notify.go:144) ...
 *
 * One event is one line whatever the profile says: every field is printable() (a newline in a
 * function name shows as `\n` and cannot forge a line; an ESC cannot drive the terminal).
 * Color only on a terminal and never with NO_COLOR (render/style.ts decides).
 */
import { styleFor, type Style } from '../../render/style.js';
import type { AlertEvent, AlertSink } from '../types.js';
import { printable } from '../../render/escape.js';
import { headline } from './format.js';

export interface LogSinkOptions {
  /** Prefix each line with the event's ISO time. Default false (the caller's logger may). */
  time?: boolean;
  /** Override the TTY/NO_COLOR decision. */
  style?: Style;
  env?: NodeJS.ProcessEnv;
  name?: string;
}

type Out = NodeJS.WritableStream & { isTTY?: boolean };

/** The line for one event, without a newline. */
export function logLine(e: AlertEvent, style: Style, time = false): string {
  const kind =
    e.type === 'alert' ? style.bold(style.red('ALERT')) : style.bold(style.green('RESOLVED'));
  const fields = [kind, style.bold(printable(e.target)), style.cyan(printable(e.detector))];
  if (time) fields.unshift(style.dim(printable(e.at)));
  return `${fields.join('  ')}  ${headline(e)}`;
}

export function writeLine(out: NodeJS.WritableStream, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // One write per line: lines from concurrent sinks never interleave mid-line.
    out.write(`${line}\n`, (err) => (err ? reject(err) : resolve()));
  });
}

export class LogSink implements AlertSink {
  readonly name: string;
  private readonly style: Style;
  constructor(
    private readonly out: Out,
    private readonly opts: LogSinkOptions = {},
  ) {
    this.name = opts.name ?? 'log';
    this.style = opts.style ?? styleFor(out, opts.env);
  }

  send(e: AlertEvent): Promise<void> {
    return writeLine(this.out, logLine(e, this.style, this.opts.time));
  }
}
