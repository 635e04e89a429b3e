/**
 * Fetching from a live service's net/http/pprof. Given a base URL (`http://host:6060`), takes the
 * most telling form the target serves: the goroutineleak profile at debug=2 (every goroutine,
 * with the runtime's leak verdicts), else the goroutine dump at debug=2 (ids, states, wait times,
 * creators). A full pprof URL is fetched as given.
 */
import { Readable } from 'node:stream';
import { UserError } from '../errors.js';

export interface FetchOptions {
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
  /** Largest response accepted, in bytes; a bigger one is an error, not a silent cut. */
  maxBytes?: number;
  /** Extra request headers (Authorization for a protected endpoint). */
  headers?: Record<string, string>;
  /** Aborts the request and its body (shutdown). */
  signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 1 << 30;

interface Fetched {
  body: AsyncIterable<Buffer>;
  path: string;
  takenAt?: Date;
}

/** Paths tried, best first, when the user gives only a base URL. */
const BEST_FORMS = ['/debug/pprof/goroutineleak?debug=2', '/debug/pprof/goroutine?debug=2'];

export async function fetchPprof(spec: string, opts: FetchOptions): Promise<Fetched> {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new UserError(`${spec.replace(/\/\/[^/@]*@/, '//…@')}: not a valid URL`);
  }
  if (url.username || url.password) {
    // Never echoed: the message names the host only.
    throw new UserError(
      `${url.protocol}//…@${url.host}${url.pathname}: credentials in the URL are refused (they would be printed and logged); fetch it yourself, e.g. curl -su USER URL | leakwatch analyze -`,
    );
  }
  const isBase = url.pathname === '/' || url.pathname === '';
  if (!isBase) return get(url, opts);
  let last: UserError | undefined;
  for (const form of BEST_FORMS) {
    try {
      return await get(new URL(form, url), opts);
    } catch (err) {
      // A 404 on the leak profile just means the build lacks it: try the next form.
      if (err instanceof NotFound) {
        last = new UserError(`${spec}: no net/http/pprof endpoint found (${form} answered 404)`);
        continue;
      }
      throw err;
    }
  }
  throw last ?? new UserError(`${spec}: no net/http/pprof endpoint found`);
}

class NotFound extends UserError {}

/** The abort reason when the caller's signal, not the timeout, ended a request. */
const CANCELLED = new Error('cancelled');

async function get(url: URL, opts: FetchOptions): Promise<Fetched> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  // The caller's signal (shutdown) aborts this request and its body as the timeout does.
  const onAbort = (): void => ctrl.abort(CANCELLED);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) ctrl.abort(CANCELLED);
  const done = (): void => {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  };
  let res: Response;
  try {
    res = await fetch(url, { signal: ctrl.signal, redirect: 'follow', headers: opts.headers });
  } catch (err) {
    done();
    if (opts.signal?.aborted) throw new UserError(`${url.href}: cancelled (shutting down)`);
    if (ctrl.signal.aborted) throw new UserError(`${url.href}: no answer within ${timeoutMs} ms`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new UserError(
      `${url.href}: cannot connect (${cause?.code ?? cause?.message ?? String(err)})`,
    );
  }
  if (res.status === 404) {
    done();
    throw new NotFound(`${url.href}: answered 404 Not Found, expected a net/http/pprof endpoint`);
  }
  if (!res.ok) {
    done();
    throw new UserError(
      `${url.href}: answered HTTP ${res.status} ${res.statusText}, expected a goroutine dump or profile`,
    );
  }
  const type = res.headers.get('content-type') ?? '';
  if (/text\/html/i.test(type)) {
    done();
    throw new UserError(
      `${url.href}: answered with an HTML page, expected a goroutine dump or profile (is this the pprof address?)`,
    );
  }
  const len = Number(res.headers.get('content-length') ?? NaN);
  if (len > maxBytes) {
    done();
    throw new UserError(
      `${url.href}: response of ${len} bytes exceeds the ${maxBytes}-byte cap (--max-bytes)`,
    );
  }
  const date = res.headers.get('date');
  const takenAt = date ? new Date(date) : undefined;
  if (!res.body) {
    done();
    throw new UserError(`${url.href}: empty response, expected a goroutine dump or profile`);
  }
  const body = capped(
    url.href,
    Readable.fromWeb(res.body as never),
    maxBytes,
    done,
    ctrl,
    timeoutMs,
  );
  return {
    body,
    path: url.pathname,
    takenAt: takenAt && !isNaN(takenAt.getTime()) ? takenAt : undefined,
  };
}

async function* capped(
  href: string,
  body: AsyncIterable<Buffer>,
  maxBytes: number,
  done: () => void,
  ctrl: AbortController,
  timeoutMs: number,
): AsyncGenerator<Buffer> {
  let seen = 0;
  try {
    for await (const chunk of body) {
      seen += chunk.length;
      if (seen > maxBytes) {
        ctrl.abort();
        throw new UserError(`${href}: response exceeds the ${maxBytes}-byte cap (--max-bytes)`);
      }
      yield chunk;
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (ctrl.signal.reason === CANCELLED) throw new UserError(`${href}: cancelled (shutting down)`);
    if (ctrl.signal.aborted)
      throw new UserError(`${href}: no complete answer within ${timeoutMs} ms`);
    throw new UserError(`${href}: connection broke while reading (${(err as Error).message})`);
  } finally {
    done();
    // A reader that stops early (a cap, a parse error) must not leave the body streaming.
    ctrl.abort();
  }
}
