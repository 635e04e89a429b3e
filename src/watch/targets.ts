/**
 * Targets from the command line and from a config file (JSON; see docs/watch.md). This is the
 * one-machine discovery; a fleet's (Kubernetes) would produce the same Target list.
 *
 * Credentials never ride in a target's URL (`http://user:pass@host`): such a URL is refused, as
 * it would end up in logs, history and the API; they come from environment variables named in
 * the file's `auth`. Messages about a URL never quote its user-info.
 *
 *   { "interval": "15s",
 *     "targets": [ { "name": "checkout", "url": "http://10.0.0.7:6060", "labels": {"team": "pay"},
 *                    "interval": "30s", "auth": { "bearer_env": "CHECKOUT_PPROF_TOKEN" } } ] }
 */
import { readFileSync } from 'node:fs';
import { messageOf, UserError } from '../errors.js';
import { printable } from '../render/escape.js';
import type { Target } from './types.js';

/** `15s`, `2m`, `500ms`, `1h` → milliseconds. */
export function parseDuration(v: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim());
  if (!m) throw new UserError(`${what}: "${v}" is not a duration (like 500ms, 15s, 2m, 1h)`);
  const n =
    Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  if (n <= 0) throw new UserError(`${what}: must be more than zero`);
  return n;
}

/** A URL as typed, safe to quote: whatever sits between `://` and the last `@` is hidden. */
function quoted(u: string): string {
  return `"${printable(u.replace(/:\/\/.*@/, '://…@'))}"`;
}

const AUTH_HINT =
  'put them in environment variables named by the targets file: "auth": {"bearer_env": "VAR"} or {"user_env": "VAR", "password_env": "VAR"} (docs/watch.md)';

function checkUrl(u: string, where: string): string {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new UserError(`${where}: ${quoted(u)} is not a URL (expected http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`${where}: ${quoted(u)} must be http:// or https://`);
  }
  if (url.username || url.password) {
    throw new UserError(
      `${where}: ${quoted(u)} carries credentials, which are not accepted in a URL (they would show in logs, history and the API); ${AUTH_HINT}`,
    );
  }
  return url.href.replace(/\/$/, '');
}

/** A name for a target given only as a URL: host:port. */
function nameFromUrl(u: string): string {
  const url = new URL(u);
  return url.host + (url.pathname !== '/' ? url.pathname : '');
}

export function targetsFromUrls(urls: string[], intervalMs: number): Target[] {
  return urls.map((u) => {
    const url = checkUrl(u, 'target');
    return { name: nameFromUrl(url), url, labels: {}, intervalMs };
  });
}

function env(name: unknown, where: string): string {
  if (typeof name !== 'string' || !name)
    throw new UserError(`${where}: must name an environment variable`);
  const v = process.env[name];
  if (v === undefined || v === '')
    throw new UserError(`${where}: environment variable ${name} is not set`);
  return v;
}

export function targetsFromFile(path: string, defaultIntervalMs: number): Target[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path}: cannot read targets: ${messageOf(err)}`);
  }
  if (
    typeof raw !== 'object' ||
    raw === null ||
    !Array.isArray((raw as { targets?: unknown }).targets)
  ) {
    throw new UserError(`${path}: expected {"targets": [ {"name": ..., "url": ...}, ... ]}`);
  }
  const top = raw as { interval?: unknown; targets: unknown[] };
  const interval =
    top.interval === undefined
      ? defaultIntervalMs
      : parseDuration(String(top.interval), `${path}: interval`);
  const names = new Set<string>();
  return top.targets.map((t, i) => {
    const where = `${path}: targets[${i}]`;
    if (typeof t !== 'object' || t === null) throw new UserError(`${where}: expected an object`);
    const o = t as Record<string, unknown>;
    if (typeof o.url !== 'string') throw new UserError(`${where}: "url" is required`);
    const named = typeof o.name === 'string' && o.name ? ` ("${printable(o.name)}")` : '';
    const url = checkUrl(o.url, `${where}${named}.url`);
    const name = typeof o.name === 'string' && o.name ? o.name : nameFromUrl(url);
    if (names.has(name)) throw new UserError(`${where}: duplicate name "${printable(name)}"`);
    names.add(name);
    const labels: Record<string, string> = {};
    if (o.labels !== undefined) {
      if (typeof o.labels !== 'object' || o.labels === null)
        throw new UserError(`${where}.labels: expected an object`);
      for (const [k, v] of Object.entries(o.labels)) labels[k] = String(v);
    }
    const target: Target = {
      name,
      url,
      labels,
      intervalMs:
        o.interval === undefined
          ? interval
          : parseDuration(String(o.interval), `${where}.interval`),
    };
    if (o.auth !== undefined) {
      const a = o.auth as Record<string, unknown>;
      if (a.bearer_env !== undefined)
        target.auth = { kind: 'bearer', token: env(a.bearer_env, `${where}.auth.bearer_env`) };
      else if (a.user_env !== undefined || a.password_env !== undefined) {
        target.auth = {
          kind: 'basic',
          user: env(a.user_env, `${where}.auth.user_env`),
          password: env(a.password_env, `${where}.auth.password_env`),
        };
      } else
        throw new UserError(`${where}.auth: expected bearer_env, or user_env and password_env`);
    }
    if (o.tls !== undefined) {
      // Node's fetch takes per-request TLS settings only through an undici dispatcher, which
      // this release does not ship: say so rather than silently ignore the setting.
      throw new UserError(
        `${where}.tls: per-target TLS options are not supported yet; for a private CA set NODE_EXTRA_CA_CERTS`,
      );
    }
    return target;
  });
}
