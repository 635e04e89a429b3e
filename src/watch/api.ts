/**
 * The watcher's local HTTP API: `/metrics` in Prometheus text format, and JSON for targets,
 * their history and groups, alerts, alert delivery per sink and the store's health (what a
 * dashboard reads). On 127.0.0.1 by default; listening anywhere else requires a token
 * (Authorization: Bearer ...), compared in constant time.
 *
 * Strings from profiles reach both outputs: label values are escaped as the Prometheus text
 * format defines (render/escape.ts promLabel), JSON through render/escape.ts json.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { messageOf, UserError } from '../errors.js';
import { json, promLabel as esc } from '../render/escape.js';
import type { FleetView } from './fleet.js';
import type { SinkStatus } from './sinks/dispatch.js';
import type { StoreHealth } from './spool.js';
import type { GroupCount, GroupInfo, Store } from './types.js';
import type { TargetStatus } from './watcher.js';

/** What the API reads of the watcher: target status, and each target's latest groups. */
export interface WatchState {
  status(): TargetStatus[];
  history(name: string): { latest: GroupCount[]; infos: Map<string, GroupInfo> } | undefined;
}

export interface ApiOptions {
  host: string;
  port: number;
  token?: string;
  /** Pages served beside the API (the dashboard): true when it answered the request. */
  pages?: (req: IncomingMessage, res: ServerResponse) => boolean;
  store: Store;
  watcher: WatchState;
  /** Alert delivery per sink (AlertDispatcher.status). */
  sinks?: () => Record<string, SinkStatus>;
  /** A fleet on PostgreSQL: the live replicas and the owner of each target (/api/fleet). */
  fleet?: () => FleetView;
  /** The store's health, exported on /metrics and /api/store. */
  storeHealth?: () => StoreHealth;
  /** Groups per target in /metrics. */
  topN: number;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}

/** `HOST:PORT` → parts; a bad value is a UserError. */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535)
    throw new UserError(`--listen ${v}: expected HOST:PORT, e.g. 127.0.0.1:9090`);
  return { host: m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1', port };
}

/** A URL as the API shows it: credentials never, even if a caller let some through. */
function shownUrl(u: string): string {
  try {
    const url = new URL(u);
    if (!url.username && !url.password) return u;
    url.username = '';
    url.password = '';
    return url.href;
  } catch {
    return '(invalid URL)';
  }
}

/** One metric family: HELP, TYPE, and a sample per [labels, value]. */
function family(
  out: string[],
  name: string,
  type: 'gauge' | 'counter',
  help: string,
  samples: [Record<string, string>, number][],
): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, v] of samples) {
    const l = Object.entries(labels).map(([k, x]) => `${k}="${esc(x)}"`);
    out.push(`${name}${l.length ? `{${l.join(',')}}` : ''} ${v}`);
  }
}

function metrics(o: ApiOptions): string {
  const out: string[] = [];
  const status = o.watcher.status();
  const per = (f: (s: TargetStatus) => number | undefined): [Record<string, string>, number][] =>
    status.flatMap((s) => {
      const v = f(s);
      return v === undefined ? [] : [[{ target: s.name }, v]];
    });
  family(
    out,
    'leakwatch_goroutines',
    'gauge',
    'Goroutines at the last scrape.',
    per((s) => s.lastTotal),
  );
  family(
    out,
    'leakwatch_scrape_up',
    'gauge',
    '1 if the last scrape succeeded.',
    per((s) => (s.state === 'ok' ? 1 : 0)),
  );
  family(
    out,
    'leakwatch_scrape_failures',
    'gauge',
    'Consecutive failed scrapes.',
    per((s) => s.failures),
  );
  family(
    out,
    'leakwatch_scrape_duration_seconds',
    'gauge',
    'Duration of the last scrape.',
    per((s) => (s.lastDurationMs === undefined ? undefined : s.lastDurationMs / 1000)),
  );
  const groups: [Record<string, string>, number][] = [];
  for (const s of status) {
    const h = o.watcher.history(s.name);
    if (!h) continue;
    const top = [...h.latest].sort((a, b) => b.count - a.count).slice(0, o.topN);
    for (const g of top) {
      const info = h.infos.get(g.id);
      const labels = {
        target: s.name,
        group: g.id,
        function: info?.holder?.func ?? '',
        blocked_on: info?.blockedOn ?? '',
      };
      groups.push([labels, g.count]);
    }
  }
  family(
    out,
    'leakwatch_group_goroutines',
    'gauge',
    'Goroutines in the largest stack groups.',
    groups,
  );
  family(
    out,
    'leakwatch_alerts_firing',
    'gauge',
    'Alerts firing.',
    per((s) => s.firing.length),
  );

  if (o.sinks) {
    const sinks = Object.entries(o.sinks());
    const by = (f: (s: SinkStatus) => number): [Record<string, string>, number][] =>
      sinks.map(([sink, st]) => [{ sink }, f(st)]);
    family(
      out,
      'leakwatch_alert_deliveries_total',
      'counter',
      'Alert events delivered, per sink.',
      by((s) => s.sent),
    );
    family(
      out,
      'leakwatch_alert_deliveries_failed_total',
      'counter',
      'Alert events given up on after their retries, per sink.',
      by((s) => s.failed),
    );
    family(
      out,
      'leakwatch_alert_deliveries_dropped_total',
      'counter',
      'Alert events dropped unsent (queue full, or shutdown), per sink.',
      by((s) => s.dropped),
    );
    family(
      out,
      'leakwatch_alert_delivery_retries_total',
      'counter',
      'Delivery retries, per sink.',
      by((s) => s.retried),
    );
    family(
      out,
      'leakwatch_alert_deliveries_pending',
      'gauge',
      'Alert events queued or in flight, per sink.',
      by((s) => s.pending),
    );
    family(
      out,
      'leakwatch_alert_sink_failing',
      'gauge',
      '1 while the last event for the sink failed.',
      by((s) => (s.failing ? 1 : 0)),
    );
  }
  if (o.storeHealth) {
    const h = o.storeHealth();
    const one = (v: number): [Record<string, string>, number][] => [[{}, v]];
    family(
      out,
      'leakwatch_store_errors_total',
      'counter',
      'Store writes that failed.',
      one(h.errors),
    );
    family(
      out,
      'leakwatch_store_writes_lost_total',
      'counter',
      'Store writes dropped because too many were waiting.',
      one(h.lost),
    );
    family(
      out,
      'leakwatch_store_writes_pending',
      'gauge',
      'Store writes kept in memory until the store accepts them again.',
      one(h.pending),
    );
  }
  return out.join('\n') + '\n';
}

function send(res: ServerResponse, code: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? json(body, 1) : String(body);
  res.writeHead(code, {
    'content-type': type === 'application/json' ? 'application/json' : `${type}; charset=utf-8`,
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * The Authorization header checked against the token in constant time: both sides are hashed
 * first, so the comparison takes the same time whatever the header's length or content.
 */
function authorized(header: string | undefined, expected: Buffer): boolean {
  return timingSafeEqual(digest(header ?? ''), expected);
}

async function route(
  o: ApiOptions,
  expected: Buffer | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (expected && !authorized(req.headers.authorization, expected))
    return send(res, 401, { error: 'token required' });
  if (req.method !== 'GET') return send(res, 405, { error: 'GET only' });
  const url = new URL(req.url ?? '/', 'http://x');
  let p: string[];
  try {
    p = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return send(res, 400, { error: 'bad percent-encoding in the path' });
  }
  const num = (k: string, d: number): number => {
    const v = Number(url.searchParams.get(k));
    return Number.isFinite(v) && v > 0 ? v : d;
  };
  const now = Date.now();
  if (url.pathname === '/metrics') return send(res, 200, metrics(o), 'text/plain; version=0.0.4');
  if (p[0] !== 'api')
    return send(res, 404, {
      error: 'not found; see /api/targets, /api/alerts, /api/sinks, /api/store, /metrics',
    });
  if (p[1] === 'targets' && p.length === 2) {
    const targets = o.watcher.status().map((s) => ({ ...s, url: shownUrl(s.url) }));
    return send(res, 200, { targets });
  }
  if (p[1] === 'targets' && p[2] && p[3] === 'history') {
    const from = now - num('minutes', 60) * 60_000;
    return send(res, 200, { target: p[2], totals: await o.store.totals(p[2], from, now) });
  }
  if (p[1] === 'targets' && p[2] && p[3] === 'groups' && !p[4]) {
    const groups = await o.store.latestGroups(p[2], num('limit', 50));
    return send(res, 200, { target: p[2], groups });
  }
  if (p[1] === 'targets' && p[2] && p[3] === 'groups' && p[4]) {
    const from = now - num('minutes', 60) * 60_000;
    return send(res, 200, {
      target: p[2],
      group: (await o.store.groupInfo(p[4])) ?? null,
      series: await o.store.groupSeries(p[2], p[4], from, now),
    });
  }
  if (p[1] === 'alerts' && p.length === 2)
    return send(res, 200, { alerts: await o.store.alerts(num('limit', 100)) });
  if (p[1] === 'sinks' && p.length === 2) {
    const sinks = Object.entries(o.sinks?.() ?? {}).map(([name, st]) => ({ name, ...st }));
    return send(res, 200, { sinks });
  }
  if (p[1] === 'fleet' && p.length === 2) {
    if (!o.fleet) return send(res, 404, { error: 'not a fleet: replicas need a PostgreSQL --db' });
    return send(res, 200, o.fleet());
  }
  if (p[1] === 'store' && p.length === 2)
    return send(res, 200, o.storeHealth?.() ?? { errors: 0, lost: 0, pending: 0 });
  return send(res, 404, { error: 'not found' });
}

export async function startApi(o: ApiOptions): Promise<Server> {
  if (!isLoopback(o.host) && !o.token) {
    throw new UserError(
      `--listen ${o.host}:${o.port}: listening beyond this machine needs a token (--token or LEAKWATCH_TOKEN)`,
    );
  }
  const expected = o.token ? digest(`Bearer ${o.token}`) : undefined;
  const server = createServer((req, res) => {
    if (o.pages?.(req, res)) return;
    route(o, expected, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: messageOf(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new UserError(
          `--listen ${o.host}:${o.port}: ${e.code === 'EADDRINUSE' ? 'address in use' : e.message}`,
        ),
      ),
    );
    server.listen(o.port, o.host, resolve);
  });
  return server;
}
