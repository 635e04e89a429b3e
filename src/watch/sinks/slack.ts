/**
 * Slack-compatible incoming webhook (Slack, and the many chat tools that accept its payload):
 * `text` (the notification and fallback line) plus Block Kit `blocks`: a header that says ALERT
 * or RESOLVED, the summary, the group (the frame holding it, its creation site, what it is
 * blocked on, how many), the evidence, and the time and labels. The webhook URL is itself the
 * secret: it never appears in the sink's name, an error or a log line.
 *
 * Profile text is printable() everywhere (one line, no controls); in mrkdwn it is also escaped
 * (&, <, >: no `<!channel>`, no link) and set in inline code with its backticks replaced, so it
 * can neither close the code span nor open a fence.
 */
import type { AlertEvent, AlertSink } from '../types.js';
import { evidenceValue, frameField, headline } from './format.js';
import { mrkdwn as esc, printable } from '../../render/escape.js';
import { num } from '../../render/style.js';
import { parseSinkUrl, postJson, redactUrl, type HttpSinkOptions } from './http.js';

export interface SlackSinkOptions extends HttpSinkOptions {
  url: string;
}

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Inline code, cut before escaping so neither an entity nor the closing backtick is cut off. */
function code(s: string): string {
  return `\`${esc(cut(printable(s).replace(/`/g, "'"), 500))}\``;
}

type SlackBlock = Record<string, unknown> & { type: string };

export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

/** The payload for one event (exported for tests and for `watch --dry-run`-style previews). */
export function slackPayload(e: AlertEvent): SlackPayload {
  const firing = e.type === 'alert';
  const mark = firing ? ':rotating_light: ALERT' : ':white_check_mark: RESOLVED';
  const title = `${firing ? 'ALERT' : 'RESOLVED'}: ${printable(e.target)} ${printable(e.detector)}`;
  const line = headline(e);
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cut(`${mark}  ${printable(e.target)}`, 150), emoji: true },
    },
    // Plain text: Go frames are full of `*` ((*Service).deliver), which mrkdwn would read
    // as bold markers.
    {
      type: 'section',
      text: {
        type: 'plain_text',
        text: cut(`${printable(e.detector)}: ${line}`, 3000),
        emoji: false,
      },
    },
  ];
  const fields: string[] = [`*Target*\n${code(e.target)}`];
  fields.push(`*Detector*\n${code(e.detector)}`);
  const g = e.group;
  if (g) {
    fields.push(`*Group*\n${num(g.count)} goroutines blocked on ${code(g.blockedOn)}`);
    if (g.holder) fields.push(`*Held at*\n${code(frameField(g.holder))}`);
    if (g.createdBy) fields.push(`*Created by*\n${code(frameField(g.createdBy))}`);
    fields.push(`*Group id*\n${code(g.id)}`);
  }
  blocks.push({
    type: 'section',
    fields: fields.map((t) => ({ type: 'mrkdwn', text: cut(t, 2000) })),
  });
  const ev = Object.entries(e.evidence);
  if (ev.length > 0) {
    const lines = ev.map(([k, v]) => `• ${printable(k)}: ${evidenceValue(v)}`);
    blocks.push({
      type: 'section',
      text: { type: 'plain_text', text: cut(`Evidence\n${lines.join('\n')}`, 3000), emoji: false },
    });
  }
  const labels = Object.entries(e.labels).map(([k, v]) => `${k}=${v}`);
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'plain_text',
        text: cut(
          `${firing ? 'Fired' : 'Resolved'} ${printable(e.at)}${labels.length ? ` · ${printable(labels.join(', '))}` : ''}`,
          2000,
        ),
        emoji: false,
      },
    ],
  });
  // `text` is mrkdwn (and the notification): escaped, so `<!channel>` in a summary can't ping.
  return { text: esc(cut(`${title}: ${line}`, 3000)), blocks };
}

export class SlackSink implements AlertSink {
  readonly name: string;
  private readonly url: URL;
  constructor(private readonly opts: SlackSinkOptions) {
    this.url = parseSinkUrl(opts.url, 'slack');
    this.name = opts.name ?? `slack(${redactUrl(this.url)})`;
  }

  send(e: AlertEvent, signal?: AbortSignal): Promise<void> {
    return postJson(
      this.name,
      this.url,
      slackPayload(e),
      this.opts.headers,
      signal,
      this.opts.timeoutMs,
    );
  }
}
