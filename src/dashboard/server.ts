/**
 * The dashboard: two HTML pages (fleet, target), their script and styles, uPlot from its npm
 * package, and a small JSON API over a Store. Pages carry no data: the script fetches JSON and
 * renders every string from a profile with textContent, so a hostile function name or label
 * can only ever be text. A strict Content-Security-Policy (script-src 'self', nothing inline,
 * nothing from outside) backs that up.
 *
 * Everything lives under /ui/ (and / redirects there), so the handler can sit beside the
 * watcher's /api and /metrics on one server: `dashboardHandler` answers true for the paths it
 * served and false for the rest.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AlertEvent, Point, Store } from '../watch/types.js';
import { compareMoments, MomentError, stacksAt } from './moments.js';
import { analyzePage, PANELS_STYLE } from './panels.js';
import { fleetPage, ICON, STYLE, targetPage } from './pages.js';

interface DashboardOptions {
  /** When set, every request must carry it (Authorization: Bearer, or the cookie set by ?token=). */
  token?: string;
  /** The clock (tests of a saved database pass the time it was written). */
  now?: () => number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Groups listed on a target page; their series are read for the growth column. */
const GROUP_LIMIT = 50;
/** Points per fleet sparkline: enough for a shape, small enough for hundreds of targets. */
const SPARK_POINTS = 60;
const COOKIE = 'leakwatch_token';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

type Asset = { type: string; body: () => Buffer };

/** Read once, on first request: `analyze` and `watch` without --listen never pay for it. */
function lazy(load: () => Buffer): () => Buffer {
  let b: Buffer | undefined;
  return () => (b ??= load());
}

const here = dirname(fileURLToPath(import.meta.url));
const req = createRequire(import.meta.url);
const ASSETS: Record<string, Asset> = {
  'app.js': {
    type: 'text/javascript',
    body: lazy(() => readFileSync(join(here, 'assets', 'app.js'))),
  },
  // The compare and flame panels of the target page, and the file analyzer (panels.ts).
  'compare.js': {
    type: 'text/javascript',
    body: lazy(() => readFileSync(join(here, 'assets', 'compare.js'))),
  },
  'dom.js': {
    type: 'text/javascript',
    body: lazy(() => readFileSync(join(here, 'assets', 'dom.js'))),
  },
  'flame.js': {
    type: 'text/javascript',
    body: lazy(() => readFileSync(join(here, 'assets', 'flame.js'))),
  },
  'panels.css': { type: 'text/css', body: lazy(() => Buffer.from(PANELS_STYLE)) },
  // leakwatch's readers and analysis for the browser: made by build/browser.mjs (npm run build).
  'analyze.js': {
    type: 'text/javascript',
    body: lazy(() => readFileSync(join(here, '..', '..', 'browser', 'analyze.js'))),
  },
  'icon.svg': { type: 'image/svg+xml', body: lazy(() => Buffer.from(ICON)) },
  'style.css': { type: 'text/css', body: lazy(() => Buffer.from(STYLE)) },
  'uPlot.min.js': {
    type: 'text/javascript',
    body: lazy(() => readFileSync(req.resolve('uplot/dist/uPlot.iife.min.js'))),
  },
  'uPlot.min.css': {
    type: 'text/css',
    body: lazy(() => readFileSync(req.resolve('uplot/dist/uPlot.min.css'))),
  },
};

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time: both sides are hashed to the same length first. */
function sameToken(given: string | undefined, want: Buffer): boolean {
  return given !== undefined && timingSafeEqual(digest(given), want);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function headers(type: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': type.startsWith('text/') ? `${type}; charset=utf-8` : type,
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    ...extra,
  };
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, headers('application/json'));
  res.end(JSON.stringify(body));
}

/** At most `n` points, keeping the largest of each bucket (a leak's peaks must show). */
function thin(points: Point[], n: number): Point[] {
  if (points.length <= n) return points;
  const out: Point[] = [];
  const size = points.length / n;
  for (let i = 0; i < n; i++) {
    const bucket = points.slice(Math.floor(i * size), Math.floor((i + 1) * size));
    out.push(bucket.reduce((a, b) => (b.value > a.value ? b : a)));
  }
  return out;
}

/** Least-squares slope of the series, per hour; 0 with fewer than two distinct times. */
function perHour(points: Point[]): number {
  if (points.length < 2) return 0;
  const t0 = points[0]!.at;
  const xs = points.map((p) => (p.at - t0) / HOUR);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = points.reduce((a, p) => a + p.value, 0) / points.length;
  let num = 0;
  let den = 0;
  points.forEach((p, i) => {
    num += (xs[i]! - mx) * (p.value - my);
    den += (xs[i]! - mx) ** 2;
  });
  return den === 0 ? 0 : num / den;
}

async function fleet(store: Store, now: number): Promise<unknown> {
  const open = await store.openAlerts();
  const targets = await Promise.all(
    (await store.targets()).map(async (t) => {
      const errors = await store.errors(t.name, t.lastAt + 1, now);
      return {
        name: t.name,
        lastAt: t.lastAt,
        lastTotal: t.lastTotal,
        // Failing since the first error after the last good scrape.
        failingSince: errors.length > 0 ? Math.min(...errors.map((e) => e.at)) : null,
        lastError: errors.length > 0 ? errors[errors.length - 1]!.error : null,
        spark: thin(await store.totals(t.name, now - DAY, now), SPARK_POINTS),
        alerts: open.filter((a) => a.target === t.name).map(alertView),
      };
    }),
  );
  targets.sort(
    (a, b) =>
      Number(b.alerts.length > 0) - Number(a.alerts.length > 0) || a.name.localeCompare(b.name),
  );
  return { now, targets };
}

function alertView(a: AlertEvent): unknown {
  return {
    type: a.type,
    key: a.key,
    detector: a.detector,
    at: Date.parse(a.at),
    summary: a.summary,
    group: a.group?.id ?? null,
    labels: a.labels,
  };
}

async function target(store: Store, name: string, hours: number, now: number): Promise<unknown> {
  const from = now - hours * HOUR;
  const [totals, heap, baseline, alerts, latest] = await Promise.all([
    store.totals(name, from, now),
    store.heapSeries(name, from, now),
    store.baseline(name),
    store.alerts(1000),
    store.latestGroups(name, GROUP_LIMIT),
  ]);
  // Growth is measured over the last hour of the shown range (or all of it, if shorter).
  const growthFrom = Math.max(from, now - HOUR);
  const groups = await Promise.all(
    latest.map(async (g) => ({
      id: g.id,
      count: g.count,
      leaked: g.leaked,
      growthPerHour: perHour(await store.groupSeries(name, g.id, growthFrom, now)),
      info: g.info ?? null,
    })),
  );
  groups.sort((a, b) => b.growthPerHour - a.growthPerHour || b.count - a.count);
  const normalPeak = baseline?.normalPeak ?? null;
  return {
    name,
    now,
    from,
    totals,
    heap,
    normalPeak,
    threshold: normalPeak === null ? null : normalPeak * 1.5,
    alerts: alerts.filter((a) => a.target === name).map(alertView),
    groups,
  };
}

async function group(store: Store, name: string, id: string, hours: number, now: number) {
  const [info, series, waits] = await Promise.all([
    store.groupInfo(id),
    store.groupSeries(name, id, now - hours * HOUR, now),
    store.latestWaits(name),
  ]);
  return { name, id, info: info ?? null, series, waitMinutes: waits?.waits.get(id) ?? null };
}

/**
 * The dashboard as a request handler: answers the paths it owns (/ and /ui/...) and returns
 * true, or returns false and leaves the response alone for the caller's own routes.
 */
export function dashboardHandler(
  store: Store,
  opts: DashboardOptions = {},
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const want = opts.token ? digest(opts.token) : undefined;
  const clock = opts.now ?? Date.now;
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path !== '/' && path !== '/ui' && !path.startsWith('/ui/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(res, 405, { error: 'GET only' });
      return true;
    }
    if (want) {
      const given = url.searchParams.get('token');
      if (given !== null && sameToken(given, want)) {
        // A link with ?token= becomes a cookie, and the token leaves the address bar.
        url.searchParams.delete('token');
        res.writeHead(303, {
          location: url.pathname + url.search,
          'set-cookie': `${COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/`,
        });
        res.end();
        return true;
      }
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!sameToken(bearer, want) && !sameToken(cookieToken(req), want)) {
        json(res, 401, { error: 'token required: open the page once with ?token=...' });
        return true;
      }
    }
    if (path === '/' || path === '/ui') {
      res.writeHead(302, { location: '/ui/' });
      res.end();
      return true;
    }
    const page = (html: string): boolean => {
      res.writeHead(200, headers('text/html'));
      res.end(html);
      return true;
    };
    if (path === '/ui/') return page(fleetPage);
    if (path === '/ui/target') return page(targetPage);
    if (path === '/ui/analyze') return page(analyzePage);
    if (path.startsWith('/ui/assets/')) {
      const a = ASSETS[path.slice('/ui/assets/'.length)];
      if (!a) {
        json(res, 404, { error: 'no such asset' });
        return true;
      }
      let body: Buffer;
      try {
        body = a.body();
      } catch {
        // Only the browser bundle can be missing: a checkout built by tsc alone.
        json(res, 404, { error: 'asset not built: run npm run build' });
        return true;
      }
      res.writeHead(200, { ...headers(a.type), 'cache-control': 'max-age=300' });
      res.end(body);
      return true;
    }
    const now = clock();
    const name = url.searchParams.get('name') ?? '';
    const hoursParam = Number(url.searchParams.get('hours') ?? '24');
    const hours =
      Number.isFinite(hoursParam) && hoursParam > 0 ? Math.min(hoursParam, 24 * 400) : 24;
    let work: Promise<unknown> | undefined;
    if (path === '/ui/api/fleet') work = fleet(store, now);
    else if (path === '/ui/api/target' && name) work = target(store, name, hours, now);
    else if (path === '/ui/api/group' && name && url.searchParams.get('id'))
      work = group(store, name, url.searchParams.get('id')!, hours, now);
    else if (path === '/ui/api/compare' && name)
      work = compareMoments(store, name, url.searchParams.get('a'), url.searchParams.get('b'));
    else if (path === '/ui/api/stacks' && name)
      work = stacksAt(store, name, url.searchParams.get('at'));
    if (!work) {
      json(res, 404, { error: 'not found; the dashboard is at /ui/' });
      return true;
    }
    work.then(
      (body) => json(res, 200, body),
      (err: unknown) =>
        json(res, err instanceof MomentError ? 400 : 500, { error: (err as Error).message }),
    );
    return true;
  };
}
