/**
 * Slack-compatible incoming webhook (Slack, and the many chat tools that accept its payload):
 * `text` (the notification and fallback line) plus Block Kit `blocks`: a header that says ALERT
 * or RESOLVED, the summary, the group (user frame, creation site, what it is blocked on, how
 * many), the evidence, and the time and labels. The webhook URL is itself the secret: it never
 * appears in the sink's name, an error or a log line.
 */
import { frameShort } from '../../analysis/frames.js';
import type { AlertEvent, AlertSink } from '../types.js';
import { evidenceValue, headline, oneLine } from './format.js';
import { num } from '../../render/style.js';
import { parseSinkUrl, postJson, redactUrl, type HttpSinkOptions } from './http.js';

export interface SlackSinkOptions extends HttpSinkOptions {
  url: string;
}

/** Slack's mrkdwn needs &, < and > escaped; everything else is literal. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function code(s: string): string {
  return `\`${esc(oneLine(s).replace(/`/g, "'"))}\``;
}

export type SlackBlock = Record<string, unknown> & { type: string };

export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

/** The payload for one event (exported for tests and for `watch --dry-run`-style previews). */
export function slackPayload(e: AlertEvent): SlackPayload {
  const firing = e.type === 'alert';
  const mark = firing ? ':rotating_light: ALERT' : ':white_check_mark: RESOLVED';
  const title = `${firing ? 'ALERT' : 'RESOLVED'}: ${oneLine(e.target)} ${oneLine(e.detector)}`;
  const line = headline(e);
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cut(`${mark}  ${oneLine(e.target)}`, 150), emoji: true },
    },
    // Plain text: Go frames are full of `*` ((*Service).deliver), which mrkdwn would read
    // as bold markers.
    {
      type: 'section',
      text: {
        type: 'plain_text',
        text: cut(`${oneLine(e.detector)}: ${line}`, 3000),
        emoji: false,
      },
    },
  ];
  const fields: string[] = [`*Target*\n${esc(oneLine(e.target))}`];
  fields.push(`*Detector*\n${esc(oneLine(e.detector))}`);
  const g = e.group;
  if (g) {
    fields.push(`*Group*\n${num(g.count)} goroutines blocked on ${code(g.blockedOn)}`);
    if (g.holder) fields.push(`*User frame*\n${code(frameShort(g.holder))}`);
    if (g.createdBy) fields.push(`*Created by*\n${code(frameShort(g.createdBy))}`);
    fields.push(`*Group id*\n${code(g.id)}`);
  }
  blocks.push({
    type: 'section',
    fields: fields.map((t) => ({ type: 'mrkdwn', text: cut(t, 2000) })),
  });
  const ev = Object.entries(e.evidence);
  if (ev.length > 0) {
    const lines = ev.map(([k, v]) => `• ${oneLine(k)}: ${evidenceValue(v)}`);
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
          `${firing ? 'Fired' : 'Resolved'} ${e.at}${labels.length ? ` · ${oneLine(labels.join(', '))}` : ''}`,
          2000,
        ),
        emoji: false,
      },
    ],
  });
  // `text` is mrkdwn (and the notification): escaped, so `<!channel>` in a summary can't ping.
  return { text: cut(esc(`${title}: ${line}`), 3000), blocks };
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
