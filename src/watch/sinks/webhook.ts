/**
 * Generic webhook: POSTs the AlertEvent as JSON (the same object as a `--json` line) to a URL,
 * with optional headers. Credentials come from the caller (e.g. `headersFromEnv({Authorization:
 * 'LEAKWATCH_HOOK_AUTH'})`) and never reach a log line: the sink's name and errors show only
 * the URL's scheme and host.
 */
import type { AlertEvent, AlertSink } from '../types.js';
import { parseSinkUrl, postJson, redactUrl, type HttpSinkOptions } from './http.js';

export interface WebhookSinkOptions extends HttpSinkOptions {
  url: string;
}

export class WebhookSink implements AlertSink {
  readonly name: string;
  private readonly url: URL;
  constructor(private readonly opts: WebhookSinkOptions) {
    this.url = parseSinkUrl(opts.url, 'webhook');
    this.name = opts.name ?? `webhook(${redactUrl(this.url)})`;
  }

  /** `signal`: aborts the request (the dispatcher's per-request timeout). */
  send(e: AlertEvent, signal?: AbortSignal): Promise<void> {
    return postJson(this.name, this.url, e, this.opts.headers, signal, this.opts.timeoutMs);
  }
}
