/**
 * One bounded GET of a JSON document (http_sd, Prometheus's target list): a timeout, a cap on
 * the body while it streams in, the caller's signal (shutdown) aborting both. Every failure is
 * a one-line UserError naming the URL (credentials never: they are refused at the flag).
 */
import { UserError } from '../../errors.js';
import { printable } from '../../render/escape.js';

export interface JsonFetchOptions {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  /** What the document should be, for messages (`a Prometheus target list`). */
  expected: string;
}

export async function fetchJson(url: string, o: JsonFetchOptions): Promise<unknown> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const why = (err: unknown): string => {
    if (o.signal?.aborted) return 'cancelled (shutting down)';
    if (timeout.aborted) return `no complete answer within ${o.timeoutMs} ms`;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return `cannot connect (${cause?.code ?? cause?.message ?? (err as Error).message})`;
  };
  const get = (): Promise<Response> =>
    fetch(url, { signal, redirect: 'follow', headers: { accept: 'application/json' } });
  let res: Response;
  try {
    res = await get().catch((err: unknown) => {
      // A kept-alive connection the server closed just as it was reused: once more, anew.
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if (signal.aborted || (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET')) throw err;
      return get();
    });
  } catch (err) {
    throw new UserError(`${url}: ${why(err)}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new UserError(
      `${url}: answered HTTP ${res.status} ${printable(res.statusText)}, expected ${o.expected}`,
    );
  }
  const len = Number(res.headers.get('content-length') ?? NaN);
  if (len > o.maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new UserError(`${url}: answer of ${len} bytes is over the ${o.maxBytes}-byte cap`);
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += (chunk as Uint8Array).length;
      if (size > o.maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw new UserError(`${url}: answer is over the ${o.maxBytes}-byte cap`);
      }
      parts.push(chunk as Uint8Array);
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${url}: ${why(err)}`);
  }
  const text = Buffer.concat(parts).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError(
      `${url}: answered something that is not JSON (${printable(text.slice(0, 60))}…), expected ${o.expected}`,
    );
  }
}
