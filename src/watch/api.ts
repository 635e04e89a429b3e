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
import { json, promLabel as esc, promLabelName } from '../render/escape.js';
import type { FleetView } from './fleet.js';
import type { SinkStatus } from './sinks/dispatch.js';
import type { StoreHealth } from './spool.js';
import type { GroupCount, GroupInfo, Point, Store } from './types.js';
import type { TargetStatus } from './watcher.js';

/**
 * What the API reads of the watcher: target status, and each target's latest groups (with their
 * recent series and the learnt normal peak, for /metrics).
 */
export interface WatchState {
  status(): TargetStatus[];
  history(name: string):
    | {
        latest: GroupCount[];
        infos: Map<string, GroupInfo>;
        groups?: Map<string, Point[]>;
        normalPeak?: number;
      }
    | undefined;
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
  /** Groups per target in /metrics (`watch --metrics-groups`): the cardinality bound. */
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

/** Labels the series of a target own; no label of the target's may replace one of them. */
const OWN_LABELS = new Set(['target', 'group', 'function', 'blocked_on']);
/** Longest label value taken from a profile or a targets file; longer ones are cut. */
const MAX_LABEL_VALUE = 200;

const bounded = (v: string): string =>
  v.length > MAX_LABEL_VALUE ? `${v.slice(0, MAX_LABEL_VALUE - 1)}\u2026` : v;

/**
 * A target's labels on its series, so rules and Alertmanager can route by team or namespace:
 * names made valid for Prometheus, names it reserves (`__...`) and empty values left out, the
 * first of two names that become the same kept; then `target`, which nothing replaces.
 */
function targetLabels(s: TargetStatus): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.labels ?? {})) {
    const name = promLabelName(k);
    if (v === '' || name.startsWith('__') || OWN_LABELS.has(name) || name in out) continue;
    out[name] = bounded(v);
  }
  out.target = s.name;
  return out;
}

/**
 * The groups of a target /metrics exports: at most `k`, never one idle by design (a server's
 * connections, the runtime's own), those that rose most over the history kept for the growth
 * detector first, then the largest. A leak is what rises; filling up with the largest keeps a
 * group's series in place before it starts to climb, so Prometheus sees the whole climb.
 */
function exportedGroups(
  h: NonNullable<ReturnType<WatchState['history']>>,
  k: number,
): GroupCount[] {
  // Kept sorted, at most k long: a scan of G groups costs G x k compares, not a sort of G,
  // which matters with 1,000 targets of 200 groups behind every scrape of /metrics.
  const top: { g: GroupCount; rise: number }[] = [];
  const before = (x: { g: GroupCount; rise: number }, y: { g: GroupCount; rise: number }) =>
    x.rise - y.rise || x.g.count - y.g.count || (x.g.id < y.g.id ? 1 : x.g.id > y.g.id ? -1 : 0);
  for (const g of h.latest) {
    if (k === 0 || h.infos.get(g.id)?.idle) continue;
    const first = h.groups?.get(g.id)?.[0];
    const c = { g, rise: first ? g.count - first.value : 0 };
    if (top.length === k && before(c, top[k - 1]!) <= 0) continue;
    let i = Math.min(top.length, k - 1);
    while (i > 0 && before(c, top[i - 1]!) > 0) i--;
    top.splice(i, 0, c);
    if (top.length > k) top.pop();
  }
  return top.map((x) => x.g);
}

function metrics(o: ApiOptions): string {
  const out: string[] = [];
  const status = o.watcher.status();
  const labels = new Map(status.map((s) => [s.name, targetLabels(s)]));
  const per = (f: (s: TargetStatus) => number | undefined): [Record<string, string>, number][] =>
    status.flatMap((s) => {
      const v = f(s);
      return v === undefined ? [] : [[labels.get(s.name)!, v]];
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
    'leakwatch_normal_peak_goroutines',
    'gauge',
    'The normal peak leakwatch learnt for the target (absent until learnt, and after a restart until learnt again).',
    per((s) => o.watcher.history(s.name)?.normalPeak),
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
    for (const g of exportedGroups(h, o.topN)) {
      const info = h.infos.get(g.id);
      groups.push([
        {
          ...labels.get(s.name)!,
          group: g.id,
          function: bounded(info?.holder?.func ?? ''),
          blocked_on: info?.blockedOn ?? '',
        },
        g.count,
      ]);
    }
  }
  family(
    out,
    'leakwatch_group_goroutines',
    'gauge',
    'Goroutines per stack group: per target, the groups not idle by design that rose most, then the largest.',
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
  if (o.fleet) {
    const f = o.fleet();
    const one = (v: number): [Record<string, string>, number][] => [[{ replica: f.replica }, v]];
    family(
      out,
      'leakwatch_fleet_replicas',
      'gauge',
      'Live replicas, as this one sees them.',
      one(f.members.length),
    );
    family(
      out,
      'leakwatch_fleet_owned_targets',
      'gauge',
      'Targets this replica owns.',
      one(f.targets.filter((t) => t.owner === f.replica).length),
    );
    family(
      out,
      'leakwatch_fleet_heartbeat_stale',
      'gauge',
      '1 while the last heartbeat failed (the replica keeps its last view).',
      one(f.stale ? 1 : 0),
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
