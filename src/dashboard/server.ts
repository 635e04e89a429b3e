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
import { gzip, gzipSync } from 'node:zlib';
import { fixFor, ownership } from '../analysis/suspects.js';
import type { linkJson } from '../link/render.js';
import type { FrameOwner } from '../analysis/frames.js';
import { theilSen } from '../watch/detectors.js';
import type { AlertEvent, GroupInfo, Point, Store } from '../watch/types.js';
import { WAIT_BUCKETS } from '../watch/waits.js';
import { compareMoments, MomentError, stacksAt } from './moments.js';
import { analyzePage, PANELS_STYLE } from './panels.js';
import { fleetPage, ICON, STYLE, targetPage } from './pages.js';

interface DashboardOptions {
  /** When set, every request must carry it (Authorization: Bearer, or the cookie set by ?token=). */
  token?: string;
  /** The clock (tests of a saved database pass the time it was written). */
  now?: () => number;
  /**
   * Where "the last H hours" end: `now` (the clock; a watcher's own dashboard), or
   * `last-scrape`, the target's last stored scrape (`serve` over a saved database, whose last
   * scrape may be days old: its ranges would otherwise be empty).
   */
  anchor?: 'now' | 'last-scrape';
  /**
   * A checkout of the watched services' Go module (`--source DIR`): the group view then shows
   * the source line the goroutine waits on and the lint findings that explain it.
   */
  source?: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Groups listed on a target page; their series are read for the growth column. */
const GROUP_LIMIT = 50;
/** Points per fleet sparkline: enough for a shape, small enough for hundreds of targets. */
const SPARK_POINTS = 60;
/**
 * Points per chart series when the page does not say (?points= is the chart's width in
 * pixels): a 30-day range holds ~15,000 scrapes per target, more than any screen can show.
 */
const CHART_POINTS = 1500;
/** Growth per hour is judged on at least this many scrapes (the growth detector's default)... */
const GROWTH_SAMPLES = 6;
/** ...and a group is flagged as growing when its fitted line rose by at least this many. */
const GROWTH_FLOOR = 5;
/** Linked groups kept (tree-sitter parses are costly; a dashboard shows a few groups). */
const LINK_CACHE = 200;
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

/** Smaller than this, gzip saves less than its own header and a round of work. */
const GZIP_MIN = 1024;

/** The client takes gzip (`Accept-Encoding: gzip`, not refused with q=0). */
function acceptsGzip(req: IncomingMessage): boolean {
  const h = req.headers['accept-encoding'];
  if (typeof h !== 'string') return false;
  return h.split(',').some((part) => {
    const [coding, ...params] = part.trim().split(';');
    if (coding?.trim().toLowerCase() !== 'gzip') return false;
    const q = params.map((x) => /^\s*q=([\d.]+)\s*$/.exec(x)?.[1]).find((x) => x !== undefined);
    return q === undefined || Number(q) > 0;
  });
}

/** Read once, on first request: `analyze` and `watch` without --listen never pay for it. */
function lazy(load: () => Buffer): () => Buffer {
  let b: Buffer | undefined;
  return () => (b ??= load());
}

/** Each asset's (or page's) gzipped form, made once at the first request that takes gzip. */
const packedAssets = new Map<Asset, Buffer>();
function packed(a: Asset): Buffer {
  let z = packedAssets.get(a);
  if (!z) packedAssets.set(a, (z = gzipSync(a.body(), { level: 9 })));
  return z;
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

/** The HTML shells (no data in them), by path. */
const PAGES: Record<string, Asset> = {
  '/ui/': { type: 'text/html', body: lazy(() => Buffer.from(fleetPage)) },
  '/ui/target': { type: 'text/html', body: lazy(() => Buffer.from(targetPage)) },
  '/ui/analyze': { type: 'text/html', body: lazy(() => Buffer.from(analyzePage)) },
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

function json(res: ServerResponse, code: number, body: unknown, zip = false): void {
  const text = Buffer.from(JSON.stringify(body));
  if (!zip || text.length < GZIP_MIN) {
    res.writeHead(code, headers('application/json', { vary: 'accept-encoding' }));
    res.end(text);
    return;
  }
  // Off the event loop (zlib's thread pool): a 30-day target page is a few hundred kB of JSON.
  gzip(text, (err, packed) => {
    if (err) {
      res.writeHead(code, headers('application/json', { vary: 'accept-encoding' }));
      res.end(text);
      return;
    }
    res.writeHead(
      code,
      headers('application/json', { vary: 'accept-encoding', 'content-encoding': 'gzip' }),
    );
    res.end(packed);
  });
}

/** Points as `[at, value]` pairs: a quarter fewer bytes than `{at, value}` objects. */
function pairs(points: Point[]): [number, number][] {
  return points.map((p) => [p.at, p.value]);
}

/**
 * About `n` points over [from, to]: the time is cut into `n` equal buckets and each keeps its
 * largest point, so a leak's peaks survive and a day of 15 s scrapes weighs no more on the
 * chart than 29 days of 5-minute ones (buckets by time, not by index).
 */
export function thin(points: Point[], n: number, from: number, to: number): Point[] {
  if (points.length <= n || to <= from) return points;
  const width = (to - from) / n;
  const out: Point[] = [];
  let key = Number.NaN;
  for (const p of points) {
    const k = Math.floor((p.at - from) / width);
    if (k !== key) {
      out.push(p);
      key = k;
    } else if (p.value > out[out.length - 1]!.value) out[out.length - 1] = p;
  }
  return out;
}

/**
 * Growth of one group over the window, in goroutines per hour (Theil-Sen, as the growth
 * detector: one burst does not make a trend). Null when too few scrapes to judge; `growing`
 * only when the fitted line rose by GROWTH_FLOOR goroutines, so a group of 1 that became 3
 * does not top the table.
 */
function growth(
  points: Point[],
  from: number,
  to: number,
): { perHour: number | null; growing: boolean } {
  if (points.length < GROWTH_SAMPLES) return { perHour: null, growing: false };
  // Theil-Sen is quadratic: 60 points keep it cheap for 50 groups on every page load.
  const pts = thin(points, 60, from, to);
  const perMs = theilSen(pts);
  const span = pts[pts.length - 1]!.at - pts[0]!.at;
  return { perHour: perMs * HOUR, growing: perMs * span >= GROWTH_FLOOR };
}

async function fleet(store: Store, now: number, anchored: boolean): Promise<unknown> {
  const open = await store.openAlerts();
  const targets = await Promise.all(
    (await store.targets()).map(async (t) => {
      const errors = await store.errors(t.name, t.lastAt + 1, now);
      // A saved database: the day before each target's last scrape, not an empty last day.
      const end = anchored ? Math.min(now, t.lastAt) : now;
      return {
        name: t.name,
        lastAt: t.lastAt,
        lastTotal: t.lastTotal,
        // Failing since the first error after the last good scrape.
        failingSince: errors.length > 0 ? Math.min(...errors.map((e) => e.at)) : null,
        lastError: errors.length > 0 ? errors[errors.length - 1]!.error : null,
        spark: pairs(
          thin(await store.totals(t.name, end - DAY, end), SPARK_POINTS, end - DAY, end),
        ),
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

/** The time window and resolution a request asks for. */
interface Range {
  from: number;
  to: number;
  /** At most about this many points per series. */
  points: number;
}

/** Totals and heap over the range, thinned; `scrapes` counts what the store held. */
async function series(store: Store, name: string, r: Range) {
  const [totals, heap] = await Promise.all([
    store.totals(name, r.from, r.to),
    store.heapSeries(name, r.from, r.to),
  ]);
  return {
    from: r.from,
    to: r.to,
    scrapes: totals.length,
    totals: pairs(thin(totals, r.points, r.from, r.to)),
    heap: pairs(thin(heap, r.points, r.from, r.to)),
  };
}

async function target(store: Store, name: string, r: Range): Promise<unknown> {
  const [shown, baseline, alerts, latest] = await Promise.all([
    series(store, name, r),
    store.baseline(name),
    store.alerts(1000),
    store.latestGroups(name, GROUP_LIMIT),
  ]);
  // Growth is measured over the last hour of the shown range (or all of it, if shorter).
  const growthFrom = Math.max(r.from, r.to - HOUR);
  const groups = await Promise.all(
    latest.map(async (g) => {
      const { perHour, growing } = growth(
        await store.groupSeries(name, g.id, growthFrom, r.to),
        growthFrom,
        r.to,
      );
      return {
        id: g.id,
        count: g.count,
        leaked: g.leaked,
        growthPerHour: perHour,
        growing,
        info: g.info ?? null,
      };
    }),
  );
  // Growing groups on top (fastest first), then the largest.
  groups.sort(
    (a, b) =>
      Number(b.growing) - Number(a.growing) ||
      (b.growing ? (b.growthPerHour ?? 0) - (a.growthPerHour ?? 0) : 0) ||
      b.count - a.count,
  );
  const normalPeak = baseline?.normalPeak ?? null;
  return {
    name,
    now: r.to,
    ...shown,
    normalPeak,
    threshold: normalPeak === null ? null : normalPeak * 1.5,
    alerts: alerts.filter((a) => a.target === name).map(alertView),
    groups,
  };
}

type Linker = (id: string, info: GroupInfo) => Promise<ReturnType<typeof linkJson>>;

/**
 * With a checkout: one group linked to it (src/link), loaded only then (it brings tree-sitter),
 * each group's answer kept, since the same group is clicked again and again.
 */
function linker(dir: string): Linker {
  const cache = new Map<string, Promise<ReturnType<typeof linkJson>>>();
  return (id, info) => {
    let p = cache.get(id);
    if (!p) {
      p = (async () => {
        const [{ linkGroup }, { linkJson }] = await Promise.all([
          import('../link/analyze.js'),
          import('../link/render.js'),
        ]);
        const stack: { frames: GroupInfo['frames']; createdBy?: GroupInfo['createdBy'] } = {
          frames: info.frames,
        };
        if (info.createdBy) stack.createdBy = info.createdBy;
        return linkJson(await linkGroup(dir, { stack, blockedOn: info.blockedOn }));
      })();
      if (cache.size >= LINK_CACHE) cache.delete(cache.keys().next().value!);
      cache.set(id, p);
      // A failure is not kept: the checkout may be fixed while the dashboard runs.
      p.catch(() => cache.delete(id));
    }
    return p;
  };
}

async function group(store: Store, name: string, id: string, r: Range, link?: Linker) {
  const [info, points, waits, spread, latest] = await Promise.all([
    store.groupInfo(id),
    store.groupSeries(name, id, r.from, r.to),
    store.latestWaits(name),
    store.groupWaits(name, id, r.from, r.to),
    store.latestGroups(name, GROUP_LIMIT),
  ]);
  const now = latest.find((g) => g.id === id);
  const holder: { frame: GroupInfo['frames'][number]; owner: FrameOwner } | undefined = info?.holder
    ? { frame: info.holder, owner: info.holderOwner ?? 'user' }
    : undefined;
  let linked: ReturnType<typeof linkJson> | null = null;
  let linkError: string | null = null;
  if (link && info) {
    try {
      linked = await link(id, info);
    } catch (err) {
      linkError = (err as Error).message;
    }
  }
  return {
    name,
    id,
    info: info ?? null,
    from: r.from,
    to: r.to,
    series: pairs(thin(points, r.points, r.from, r.to)),
    count: now?.count ?? null,
    leaked: now?.leaked ?? 0,
    // The longest wait of the latest debug=2 dump (what the stuck detector judges)...
    waitMinutes: waits?.waits.get(id) ?? null,
    waitsAt: waits?.at ?? null,
    // ...and the group's goroutines per wait bucket at the first and last dump of the range.
    waitBuckets: WAIT_BUCKETS.map((b) => b.label),
    waits: spread ?? null,
    ownership: info
      ? ownership({
          stack: info,
          blockedOn: info.blockedOn,
          holder,
          // A stored group has no goroutine ids or parents: those answers need a dump.
          ids: [],
          parents: [],
          parentCount: 0,
        })
      : null,
    fix: info ? (fixFor(info.blockedOn) ?? null) : null,
    link: linked,
    linkError,
    source: link !== undefined,
  };
}

/**
 * The range of a request: `from`&`to` (ms, a zoom), else the last `hours` (default 24) before
 * `now` (the clock, or the target's last scrape).
 */
function rangeOf(q: URLSearchParams, now: number): Range {
  const n = (k: string): number => Number(q.get(k) ?? Number.NaN);
  const pts = n('points');
  const points = Number.isFinite(pts)
    ? Math.min(Math.max(Math.round(pts), 50), 4000)
    : CHART_POINTS;
  const from = n('from');
  const to = n('to');
  if (Number.isFinite(from) && Number.isFinite(to) && to > from) return { from, to, points };
  const h = n('hours');
  const hours = Number.isFinite(h) && h > 0 ? Math.min(h, 24 * 400) : 24;
  return { from: now - hours * HOUR, to: now, points };
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
  const link = opts.source !== undefined ? linker(opts.source) : undefined;
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const zip = acceptsGzip(req);
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
    const send = (a: Asset, extra: Record<string, string>): boolean => {
      let body: Buffer;
      try {
        body = a.body();
      } catch {
        // Only the browser bundle can be missing: a checkout built by tsc alone.
        json(res, 404, { error: 'asset not built: run npm run build' });
        return true;
      }
      const h = headers(a.type, { ...extra, vary: 'accept-encoding' });
      if (zip && body.length >= GZIP_MIN) {
        res.writeHead(200, { ...h, 'content-encoding': 'gzip' });
        res.end(packed(a));
      } else {
        res.writeHead(200, h);
        res.end(body);
      }
      return true;
    };
    // Own keys only: `/ui/assets/constructor` is not an asset.
    if (Object.hasOwn(PAGES, path)) return send(PAGES[path]!, {});
    if (path.startsWith('/ui/assets/')) {
      const k = path.slice('/ui/assets/'.length);
      const a = Object.hasOwn(ASSETS, k) ? ASSETS[k] : undefined;
      if (!a) {
        json(res, 404, { error: 'no such asset' });
        return true;
      }
      return send(a, { 'cache-control': 'max-age=300' });
    }
    const now = clock();
    const name = url.searchParams.get('name') ?? '';
    const id = url.searchParams.get('id');
    const anchored = opts.anchor === 'last-scrape';
    const ranged = async <T>(then: (r: Range) => Promise<T>): Promise<T> => {
      let end = now;
      if (anchored) {
        const last = (await store.targets()).find((t) => t.name === name)?.lastAt;
        if (last !== undefined && last < now) end = last;
      }
      return then(rangeOf(url.searchParams, end));
    };
    let work: Promise<unknown> | undefined;
    if (path === '/ui/api/fleet') work = fleet(store, now, anchored);
    else if (path === '/ui/api/target' && name) work = ranged((r) => target(store, name, r));
    else if (path === '/ui/api/series' && name) work = ranged((r) => series(store, name, r));
    else if (path === '/ui/api/group' && name && id)
      work = ranged((r) => group(store, name, id, r, link));
    else if (path === '/ui/api/compare' && name)
      work = compareMoments(store, name, url.searchParams.get('a'), url.searchParams.get('b'));
    else if (path === '/ui/api/stacks' && name)
      work = stacksAt(store, name, url.searchParams.get('at'));
    if (!work) {
      json(res, 404, { error: 'not found; the dashboard is at /ui/' });
      return true;
    }
    work.then(
      (body) => json(res, 200, body, zip),
      (err: unknown) =>
        json(res, err instanceof MomentError ? 400 : 500, { error: (err as Error).message }),
    );
    return true;
  };
}
