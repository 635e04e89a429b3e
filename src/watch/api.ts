/**
 * The watcher's local HTTP API: `/metrics` in Prometheus text format, and JSON for targets,
 * their history and groups, and alerts (what a dashboard reads). On 127.0.0.1 by default;
 * listening anywhere else requires a token (Authorization: Bearer ...).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { UserError } from '../errors.js';
import type { Store } from './types.js';
import type { Watcher } from './watcher.js';

export interface ApiOptions {
  host: string;
  port: number;
  token?: string;
  store: Store;
  watcher: Watcher;
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

const esc = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function metrics(o: ApiOptions): string {
  const lines: string[] = [];
  const status = o.watcher.status();
  lines.push(
    '# HELP leakwatch_goroutines Goroutines at the last scrape.',
    '# TYPE leakwatch_goroutines gauge',
  );
  for (const s of status)
    if (s.lastTotal !== undefined)
      lines.push(`leakwatch_goroutines{target="${esc(s.name)}"} ${s.lastTotal}`);
  lines.push(
    '# HELP leakwatch_scrape_up 1 if the last scrape succeeded.',
    '# TYPE leakwatch_scrape_up gauge',
  );
  for (const s of status)
    lines.push(`leakwatch_scrape_up{target="${esc(s.name)}"} ${s.state === 'ok' ? 1 : 0}`);
  lines.push(
    '# HELP leakwatch_scrape_failures Consecutive failed scrapes.',
    '# TYPE leakwatch_scrape_failures gauge',
  );
  for (const s of status)
    lines.push(`leakwatch_scrape_failures{target="${esc(s.name)}"} ${s.failures}`);
  lines.push(
    '# HELP leakwatch_scrape_duration_seconds Duration of the last scrape.',
    '# TYPE leakwatch_scrape_duration_seconds gauge',
  );
  for (const s of status) {
    if (s.lastDurationMs !== undefined)
      lines.push(
        `leakwatch_scrape_duration_seconds{target="${esc(s.name)}"} ${s.lastDurationMs / 1000}`,
      );
  }
  lines.push(
    '# HELP leakwatch_group_goroutines Goroutines in the largest stack groups.',
    '# TYPE leakwatch_group_goroutines gauge',
  );
  for (const s of status) {
    const h = o.watcher.history(s.name);
    if (!h) continue;
    const top = [...h.latest].sort((a, b) => b.count - a.count).slice(0, o.topN);
    for (const g of top) {
      const info = h.infos.get(g.id);
      const frame = info?.holder?.func ?? '';
      lines.push(
        `leakwatch_group_goroutines{target="${esc(s.name)}",group="${g.id}",function="${esc(frame)}",blocked_on="${esc(info?.blockedOn ?? '')}"} ${g.count}`,
      );
    }
  }
  lines.push(
    '# HELP leakwatch_alerts_firing Alerts firing.',
    '# TYPE leakwatch_alerts_firing gauge',
  );
  for (const s of status)
    lines.push(`leakwatch_alerts_firing{target="${esc(s.name)}"} ${s.firing.length}`);
  return lines.join('\n') + '\n';
}

function send(res: ServerResponse, code: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? JSON.stringify(body, null, 1) : String(body);
  res.writeHead(code, {
    'content-type': type === 'application/json' ? 'application/json' : `${type}; charset=utf-8`,
  });
  res.end(text);
}

async function route(o: ApiOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (o.token && req.headers.authorization !== `Bearer ${o.token}`)
    return send(res, 401, { error: 'token required' });
  if (req.method !== 'GET') return send(res, 405, { error: 'GET only' });
  const url = new URL(req.url ?? '/', 'http://x');
  const p = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const num = (k: string, d: number): number => {
    const v = Number(url.searchParams.get(k));
    return Number.isFinite(v) && v > 0 ? v : d;
  };
  const now = Date.now();
  if (url.pathname === '/metrics') return send(res, 200, metrics(o), 'text/plain; version=0.0.4');
  if (p[0] !== 'api')
    return send(res, 404, { error: 'not found; see /api/targets, /api/alerts, /metrics' });
  if (p[1] === 'targets' && p.length === 2) return send(res, 200, { targets: o.watcher.status() });
  if (p[1] === 'targets' && p[2] && p[3] === 'history') {
    const from = now - num('minutes', 60) * 60_000;
    return send(res, 200, { target: p[2], totals: await o.store.totals(p[2], from, now) });
  }
  if (p[1] === 'targets' && p[2] && p[3] === 'groups' && !p[4]) {
    return send(res, 200, {
      target: p[2],
      groups: await o.store.latestGroups(p[2], num('limit', 50)),
    });
  }
  if (p[1] === 'targets' && p[2] && p[3] === 'groups' && p[4]) {
    const from = now - num('minutes', 60) * 60_000;
    return send(res, 200, {
      target: p[2],
      group: (await o.store.groupInfo(p[4])) ?? null,
      series: await o.store.groupSeries(p[2], p[4], from, now),
    });
  }
  if (p[1] === 'alerts') return send(res, 200, { alerts: await o.store.alerts(num('limit', 100)) });
  return send(res, 404, { error: 'not found' });
}

export async function startApi(o: ApiOptions): Promise<Server> {
  if (!isLoopback(o.host) && !o.token) {
    throw new UserError(
      `--listen ${o.host}:${o.port}: listening beyond this machine needs a token (--token or LEAKWATCH_TOKEN)`,
    );
  }
  const server = createServer((req, res) => {
    route(o, req, res).catch((err: unknown) => send(res, 500, { error: (err as Error).message }));
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
