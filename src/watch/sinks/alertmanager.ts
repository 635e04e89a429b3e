/**
 * Prometheus Alertmanager, API v2: `POST <base>/api/v2/alerts` with a JSON array of alerts
 * `{labels, annotations, startsAt, endsAt, generatorURL}`.
 *
 * Labels identify an alert (Alertmanager deduplicates and groups on them): `alertname`
 * (GoroutineLeak), `target`, `detector`, `group` (the stack group's id, when the alert is about
 * one), plus the target's labels. The identifying four win over a target label of the same
 * name, so two leakwatch alerts can never collapse into one. Label names are reduced to
 * `[a-zA-Z_][a-zA-Z0-9_]*`, which every Alertmanager version accepts; empty values are left
 * out (Alertmanager treats an empty label as an absent one). Values are printable(): its
 * templates paste them into chat and mail as they are.
 *
 * Annotations carry the rest: summary, description, holder and created_by (`func file:line`),
 * blocked_on, count, evidence (JSON). Text from the profile is printable() (one line, no control
 * characters): Alertmanager's templates pass annotations on to chat and mail as they are.
 *
 * Alertmanager's contract for clients: re-send an alert while it is active (every 30 s to
 * 3 min); a firing alert's endsAt is when Alertmanager may consider it resolved if it hears
 * nothing more, so it is set in the future; a resolved alert's endsAt is the time it resolved.
 * Like Prometheus, this sink sets a firing alert's endsAt to now + 4 × the re-send interval:
 * a watcher that dies lets its alerts resolve by themselves a few minutes later, and a missed
 * re-send or two changes nothing. Re-sending is the caller's: AlertDispatcher.resendFiring()
 * every `resendIntervalMs` queues the firing alerts again for the sinks that want it (this one).
 */
import type { AlertEvent, AlertSink } from '../types.js';
import { printable, promLabelName } from '../../render/escape.js';
import { evidenceText, frameField, headline } from './format.js';
import { num } from '../../render/style.js';
import { parseSinkUrl, postJson, redactUrl, type HttpSinkOptions } from './http.js';

const ALERTNAME = 'GoroutineLeak';
const DEFAULT_RESEND_MS = 60_000;

export interface AlertmanagerSinkOptions extends HttpSinkOptions {
  /** Alertmanager's base URL (`http://127.0.0.1:9093`, or with a route prefix). */
  url: string;
  alertname?: string;
  /** How often the caller re-sends firing alerts. Default 60 s. */
  resendIntervalMs?: number;
  /** A firing alert's endsAt = now + this. Default 4 × resendIntervalMs. */
  validForMs?: number;
  /** A back-link to the alert in leakwatch's API or dashboard; must be an absolute URL. */
  generatorURL?: string | ((e: AlertEvent) => string | undefined);
  now?: () => number;
}

/** One alert as `POST /api/v2/alerts` takes it (postableAlert in Alertmanager's OpenAPI). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

interface ToAlertOptions {
  alertname?: string;
  now: number;
  validForMs: number;
  /** When the alert first fired, for a resolution (Alertmanager keeps the earliest). */
  startsAt?: string;
  generatorURL?: string;
}

/** The Alertmanager alert for one event. */
export function toAlertmanager(e: AlertEvent, o: ToAlertOptions): PostableAlert {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.labels))
    if (v !== '') labels[promLabelName(k)] = printable(v);
  labels.alertname = o.alertname ?? ALERTNAME;
  labels.target = printable(e.target);
  labels.detector = printable(e.detector);
  if (e.group) labels.group = e.group.id;
  else delete labels.group;

  const g = e.group;
  const annotations: Record<string, string> = { summary: printable(e.summary) };
  const desc = [headline(e)];
  if (g) {
    desc.push(`${num(g.count)} goroutines blocked on ${printable(g.blockedOn)}`);
    if (g.holder) desc.push(`held at: ${frameField(g.holder)}`);
    if (g.createdBy) desc.push(`created by: ${frameField(g.createdBy)}`);
  }
  const ev = evidenceText(e.evidence, 2000);
  if (ev) desc.push(`evidence: ${ev}`);
  annotations.description = desc.join('\n');
  if (g?.holder) annotations.holder = frameField(g.holder);
  if (g?.createdBy) annotations.created_by = frameField(g.createdBy);
  if (g) {
    annotations.blocked_on = printable(g.blockedOn);
    annotations.count = String(g.count);
  }
  annotations.evidence = JSON.stringify(e.evidence);

  const at = new Date(e.at);
  const out: PostableAlert = { labels, annotations };
  if (e.type === 'alert') {
    out.startsAt = at.toISOString();
    out.endsAt = new Date(Math.max(o.now, at.getTime()) + o.validForMs).toISOString();
  } else {
    out.endsAt = at.toISOString();
    // Without a known start, Alertmanager takes endsAt as the start and merges with the
    // firing alert it has (keeping the earlier start); a start after the end it rejects.
    if (o.startsAt && Date.parse(o.startsAt) <= at.getTime()) out.startsAt = o.startsAt;
  }
  if (o.generatorURL) out.generatorURL = o.generatorURL;
  return out;
}

/** `http://am:9093` → `http://am:9093/api/v2/alerts`; a URL already ending so is kept. */
export function alertsEndpoint(base: URL): URL {
  if (/\/api\/v2\/alerts\/?$/.test(base.pathname)) return base;
  const u = new URL(base.href);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
  return u;
}

const MAX_STARTS = 10_000;

export class AlertmanagerSink implements AlertSink {
  readonly name: string;
  /** The dispatcher's cue: re-send this sink's firing alerts every so often. */
  readonly resendIntervalMs: number;
  private readonly url: URL;
  private readonly validForMs: number;
  private readonly now: () => number;
  /** First-fired time per key, so a resolution carries its alert's startsAt. */
  private readonly starts = new Map<string, string>();

  constructor(private readonly opts: AlertmanagerSinkOptions) {
    const base = parseSinkUrl(opts.url, 'alertmanager');
    this.url = alertsEndpoint(base);
    this.name = opts.name ?? `alertmanager(${redactUrl(base)})`;
    this.resendIntervalMs = opts.resendIntervalMs ?? DEFAULT_RESEND_MS;
    this.validForMs = opts.validForMs ?? 4 * this.resendIntervalMs;
    this.now = opts.now ?? Date.now;
  }

  /** The JSON body for these events (exported for tests and previews). */
  body(events: AlertEvent[]): PostableAlert[] {
    return events.map((e) => {
      const gen = this.opts.generatorURL;
      const generatorURL = typeof gen === 'function' ? gen(e) : gen;
      return toAlertmanager(e, {
        alertname: this.opts.alertname,
        now: this.now(),
        validForMs: this.validForMs,
        startsAt: e.type === 'resolved' ? this.starts.get(e.key) : undefined,
        generatorURL,
      });
    });
  }

  async send(e: AlertEvent, signal?: AbortSignal): Promise<void> {
    const body = this.body([e]);
    await postJson(this.name, this.url, body, this.opts.headers, signal, this.opts.timeoutMs);
    if (e.type === 'resolved') {
      this.starts.delete(e.key);
    } else if (!this.starts.has(e.key)) {
      if (this.starts.size >= MAX_STARTS) {
        const oldest = this.starts.keys().next();
        if (!oldest.done) this.starts.delete(oldest.value);
      }
      this.starts.set(e.key, body[0]!.startsAt!);
    }
  }
}
