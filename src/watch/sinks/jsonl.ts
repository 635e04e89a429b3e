/**
 * JSON lines: one JSON object per event, one event per line, for `leakwatch watch --json` on
 * stdout. The object is the AlertEvent (src/watch/types.ts) as is:
 *
 *   type      "alert" | "resolved"
 *   key       the same for an alert and its resolution (target + detector + group)
 *   target    the watched service's name
 *   detector  "peak" | "growth" | "stuck" | "leaked" | "heap"
 *   at        ISO time
 *   summary   one line: what, where, how fast
 *   group     {id, holder?, createdBy?, blockedOn, count}; absent for whole-process alerts
 *             (e.g. `peak`). holder (the frame holding the group) and createdBy (its creation
 *             site) are frames: {func, pkg, file, line}
 *   evidence  the numbers behind it (counts over time, slope, threshold, projection)
 *   labels    the target's labels
 *
 * Consumers: split stdout on newlines and JSON.parse each line.
 */
import { json } from '../../render/escape.js';
import type { AlertEvent, AlertSink } from '../types.js';
import { writeLine } from './log.js';

export function jsonLine(e: AlertEvent): string {
  // Newlines inside strings are escaped: the line stays one line, whatever a profile holds.
  return json(e);
}

export class JsonlSink implements AlertSink {
  readonly name: string;
  constructor(
    private readonly out: NodeJS.WritableStream,
    name = 'jsonl',
  ) {
    this.name = name;
  }

  send(e: AlertEvent): Promise<void> {
    return writeLine(this.out, jsonLine(e));
  }
}
