/**
 * What the HTTP sinks share: one JSON POST with a timeout, errors that say whether a retry can
 * help, and redaction. Webhook URLs are secrets (a Slack incoming-webhook URL is a bearer
 * token in its path) and so are header values: neither ever appears in an error message, a
 * sink name or a log line. Only the scheme and host of a URL are shown.
 */
import { UserError } from '../../errors.js';
import { printable } from '../../render/escape.js';

/** A delivery failure. `retryable` false: the request is wrong, sending it again won't help. */
export class SinkError extends Error {
  override readonly name = 'SinkError';
  constructor(
    message: string,
    readonly retryable: boolean,
    /** From a Retry-After header (429, 503): how long the receiver asked us to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Options every HTTP sink takes. */
export interface HttpSinkOptions {
  /** Extra request headers (e.g. Authorization). Their values are never logged. */
  headers?: Record<string, string>;
  /**
   * Per-request timeout. Default: the caller's AbortSignal alone when it passes one (the
   * dispatcher does, with its own timeout), else 10 s.
   */
  timeoutMs?: number;
  /** Name shown in logs and status; default `<kind>(<scheme>://<host>)`. */
  name?: string;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/** `https://hooks.slack.com/services/T0/B0/xyz` → `https://hooks.slack.com`: safe to show. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** Parses a sink URL; a bad one is the user's mistake, reported without echoing the URL. */
export function parseSinkUrl(raw: string, kind: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError(`${kind} sink: the URL is not a valid absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`${kind} sink: the URL must be http:// or https://, not ${url.protocol}`);
  }
  return url;
}

/**
 * Headers whose values come from environment variables: `{ Authorization: 'HOOK_AUTH' }`
 * reads `$HOOK_AUTH`. A missing variable is a user error naming the variable, never a value.
 */
export function headersFromEnv(
  spec: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, variable] of Object.entries(spec)) {
    const v = env[variable];
    if (v === undefined || v === '') {
      throw new UserError(`header ${header}: environment variable ${variable} is not set`);
    }
    out[header] = v;
  }
  return out;
}

/**
 * Request headers for `url`: user-info in the URL (`https://user:pass@host`) becomes a Basic
 * Authorization header (fetch refuses URLs with credentials), unless one is given.
 */
function requestParts(
  url: URL,
  headers: Record<string, string> = {},
): { url: URL; headers: Record<string, string>; secrets: string[] } {
  const clean = new URL(url.href);
  const out: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'leakwatch',
  };
  const secrets: string[] = [url.href, url.pathname + url.search];
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    clean.username = '';
    clean.password = '';
    out.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    secrets.push(user, pass, out.authorization);
  }
  for (const [k, v] of Object.entries(headers)) {
    out[k.toLowerCase()] = v;
    secrets.push(v);
    // `Bearer abc`: the token alone must not leak either.
    const sp = v.indexOf(' ');
    if (sp > 0) secrets.push(v.slice(sp + 1));
  }
  return { url: clean, headers: out, secrets };
}

/** Removes every secret (length ≥ 4, so `/` or `a` don't eat the message) from a text. */
function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length >= 4) out = out.split(s).join('[redacted]');
  }
  return out;
}

/** `Retry-After: 120` or an HTTP date → milliseconds from now. */
function retryAfter(h: string | null): number | undefined {
  if (!h) return undefined;
  const secs = Number(h);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function causeOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} (${cause.message})` : cause.message;
  }
  return err.message;
}

/** What an error message quotes of a response body, at most. */
const BODY_BYTES = 4096;

/**
 * The start of a response body (for an error message), then the rest cancelled: a receiver
 * answering with an endless body holds neither memory nor the connection.
 */
async function start(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      n += value.length;
    }
  } catch {
    // The status is what matters; a body cut short changes nothing.
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(parts).subarray(0, BODY_BYTES).toString('utf8');
}

/**
 * POSTs `body` as JSON. Resolves on 2xx; throws a SinkError otherwise: retryable for network
 * errors, timeouts, 408, 429 and 5xx; not for other statuses (a 400 stays a 400). Redirects are
 * not followed: a webhook that redirects is misconfigured, and following one could hand the
 * Authorization header to another host. The error message names `label`, never the URL's path
 * or a header value.
 */
export async function postJson(
  label: string,
  target: URL,
  body: unknown,
  headers: Record<string, string> | undefined,
  signal: AbortSignal | undefined,
  timeoutMs?: number,
): Promise<void> {
  const req = requestParts(target, headers);
  const ms = timeoutMs ?? (signal ? undefined : DEFAULT_TIMEOUT_MS);
  const timeout = ms === undefined ? undefined : AbortSignal.timeout(ms);
  const sig = signal && timeout ? AbortSignal.any([signal, timeout]) : (signal ?? timeout);
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: 'POST',
      headers: req.headers,
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: sig,
    });
  } catch (err) {
    const why = timeout?.aborted
      ? `timed out after ${ms} ms`
      : signal?.aborted
        ? `aborted: ${causeOf(signal.reason)}`
        : causeOf(err);
    throw new SinkError(scrub(`${label}: ${why}`, req.secrets), true);
  }
  const text = await start(res);
  if (res.status >= 200 && res.status < 300) return;
  const snippet = printable(text.replace(/\s+/g, ' ').trim().slice(0, 200));
  const where = res.status >= 300 && res.status < 400 ? ' (redirect not followed)' : '';
  const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
  throw new SinkError(
    scrub(`${label}: HTTP ${res.status}${where}${snippet ? `: ${snippet}` : ''}`, req.secrets),
    retryable,
    retryAfter(res.headers.get('retry-after')),
  );
}
