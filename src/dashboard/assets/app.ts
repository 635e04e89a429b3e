/**
 * The dashboard's browser script (compiled by tsc like the rest, served as /ui/assets/app.js).
 * Every string that comes from a profile or a target reaches the page through textContent or
 * an attribute set by the DOM API, never through HTML parsing.
 */
import type uPlotT from 'uplot';
import { setupCompare } from './compare.js';
import {
  clock as time,
  el,
  fetchJson,
  frameNodes,
  type Child,
  type Frame,
  type Point,
} from './dom.js';

// Loaded by the target page as a classic script before this module runs.
declare const uPlot: typeof uPlotT;

interface Alert {
  type: string;
  key: string;
  detector: string;
  at: number;
  summary: string;
  group: string | null;
  labels: Record<string, string>;
}
interface FleetTarget {
  name: string;
  lastAt: number;
  lastTotal: number;
  failingSince: number | null;
  lastError: string | null;
  spark: Point[];
  alerts: Alert[];
}
interface GroupInfo {
  frames: Frame[];
  holder?: Frame;
  holderOwner?: string;
  createdBy?: Frame;
  blockedOn: string;
  idle?: string;
}
interface GroupRow {
  id: string;
  count: number;
  leaked: number;
  /** Goroutines per hour; null when too few scrapes to judge. */
  growthPerHour: number | null;
  /** Grew by enough goroutines to matter (server-side floor). */
  growing: boolean;
  info: GroupInfo | null;
}
interface SeriesView {
  from: number;
  to: number;
  /** Scrapes in the range before thinning. */
  scrapes: number;
  totals: Point[];
  heap: Point[];
}
interface TargetView extends SeriesView {
  name: string;
  now: number;
  normalPeak: number | null;
  threshold: number | null;
  alerts: Alert[];
  groups: GroupRow[];
}
interface CodeFrame {
  function: string;
  file: string;
  line: number;
  code: { line: number; text: string }[];
}
interface Link {
  source: {
    status: string;
    blocking: CodeFrame | null;
    createdBy: CodeFrame | null;
    mismatches: string[];
  } | null;
  findings: { rule: string; file: string; line: number; message: string; fix: string }[];
  lifetime: {
    startedBy: { function: string; file: string; line: number; code: string } | null;
    endsBy: { expr: string; ends: string; unreleased: boolean }[];
  } | null;
}
interface GroupView {
  id: string;
  info: GroupInfo | null;
  from: number;
  to: number;
  series: Point[];
  count: number | null;
  leaked: number;
  waitMinutes: number | null;
  waitsAt: number | null;
  /** The wait buckets' names, shortest first. */
  waitBuckets: string[];
  /** The group's goroutines per bucket at the first and last debug=2 dump of the range. */
  waits: { first: WaitCounts; last: WaitCounts } | null;
  ownership: { who: string; what: string; holds: string } | null;
  fix: string | null;
  link: Link | null;
  linkError: string | null;
  source: boolean;
}

interface WaitCounts {
  at: number;
  counts: number[];
}

function byId(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page lacks #${id}`);
  return e;
}

let pending = 0;
/** While a query runs: the header says so and the page is marked busy (a bar on top). */
async function getJson<T>(path: string): Promise<T> {
  const busy = byId('busy');
  pending++;
  busy.hidden = false;
  document.body.classList.add('busy');
  try {
    return await fetchJson<T>(path);
  } finally {
    if (--pending === 0) {
      busy.hidden = true;
      document.body.classList.remove('busy');
    }
  }
}

function showError(err: unknown): void {
  const e = byId('error');
  e.hidden = false;
  e.textContent = `Could not load: ${err instanceof Error ? err.message : String(err)}`;
}

function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

const HOUR_MS = 3_600_000;

const SVG = 'http://www.w3.org/2000/svg';
function sparkline(points: Point[]): Element {
  const w = 160;
  const h = 28;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(h));
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  if (points.length > 1) {
    const t0 = points[0]![0];
    const t1 = points[points.length - 1]![0];
    const max = Math.max(...points.map((p) => p[1]));
    const min = Math.min(...points.map((p) => p[1]));
    const x = (t: number): number => (t1 === t0 ? 0 : ((t - t0) / (t1 - t0)) * (w - 2) + 1);
    const y = (v: number): number =>
      max === min ? h / 2 : h - 2 - ((v - min) / (max - min)) * (h - 4);
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute(
      'points',
      points.map(([at, value]) => `${x(at).toFixed(1)},${y(value).toFixed(1)}`).join(' '),
    );
    svg.append(line);
  }
  return svg;
}

async function fleetPage(): Promise<void> {
  const data = await getJson<{ now: number; targets: FleetTarget[] }>('/ui/api/fleet');
  const body = document.querySelector('#fleet tbody')!;
  const alerting = data.targets.filter((t) => t.alerts.length > 0).length;
  byId('summary').textContent =
    `${data.targets.length} target${data.targets.length === 1 ? '' : 's'}, ${alerting} with open alerts.`;
  for (const t of data.targets) {
    const link = el('a', {}, t.name) as HTMLAnchorElement;
    link.href = `/ui/target?name=${encodeURIComponent(t.name)}`;
    const status =
      t.failingSince !== null
        ? el(
            'span',
            { class: 'status-failing', title: t.lastError ?? '' },
            `failing since ${time(t.failingSince)}`,
          )
        : el('span', { class: 'status-ok' }, 'up');
    const alerts = el('td', { class: 'alerts' });
    for (const a of t.alerts)
      alerts.append(el('div', { class: 'alert' }, `${a.detector}: ${a.summary}`));
    const row = el(
      'tr',
      { class: t.alerts.length > 0 ? 'alerting' : '' },
      el('td', {}, link),
      el('td', {}, status),
      el('td', { class: 'num' }, String(t.lastTotal)),
      el('td', {}, sparkline(t.spark)),
      el('td', { title: time(t.lastAt) }, ago(t.lastAt, data.now)),
      alerts,
    );
    row.dataset.target = t.name;
    body.append(row);
  }
}

/** Draws a vertical line at each alert's time. */
function alertMarkers(alerts: Alert[]): uPlotT.Plugin {
  return {
    hooks: {
      draw: (u: uPlotT) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#b42318';
        ctx.setLineDash([4, 3]);
        ctx.lineWidth = 1.5 * devicePixelRatio;
        for (const a of alerts) {
          if (a.type !== 'alert') continue;
          const x = u.valToPos(a.at / 1000, 'x', true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      },
    },
  };
}

function chartWidth(host: HTMLElement): number {
  return Math.max(320, Math.min(host.clientWidth || 900, 2400));
}

/** The query string for a range: a zoom's from/to, else the picked hours; points = pixels. */
function rangeQuery(r: ShownRange, host: HTMLElement): string {
  const w = `points=${chartWidth(host)}`;
  return r.zoom ? `from=${r.zoom.from}&to=${r.zoom.to}&${w}` : `hours=${r.hours}&${w}`;
}

interface ShownRange {
  hours: number;
  zoom?: { from: number; to: number };
}

/** The picker's choices; the URL's ?hours= keeps the choice across reloads and links. */
const RANGES: [string, number][] = [
  ['1 h', 1],
  ['6 h', 6],
  ['24 h', 24],
  ['7 days', 168],
  ['30 days', 720],
];

function rangeWords(hours: number): string {
  return RANGES.find(([, h]) => h === hours)?.[0] ?? `${hours} h`;
}

/**
 * The goroutine total with heap in use on one time axis: the two are scraped at different
 * rounds, so the x axis is the union of their times and each line spans the other's gaps.
 * Dragging across the chart asks the server for that window at full resolution (`onZoom`).
 */
function drawTotals(
  v: TargetView,
  s: SeriesView,
  onZoom: (from: number, to: number) => void,
): uPlotT {
  const host = byId('chart');
  host.replaceChildren();
  const times = [...new Set([...s.totals.map((p) => p[0]), ...s.heap.map((p) => p[0])])].sort(
    (a, b) => a - b,
  );
  const total = new Map(s.totals);
  const xs = times.map((t) => t / 1000);
  const data: (number | null)[][] = [xs, times.map((t) => total.get(t) ?? null)];
  const series: uPlotT.Series[] = [
    {},
    { label: 'goroutines', stroke: '#2e90fa', width: 2, spanGaps: true },
  ];
  if (s.heap.length > 0) {
    const mib = new Map(s.heap.map(([at, value]) => [at, value / 1048576]));
    data.push(times.map((t) => mib.get(t) ?? null));
    series.push({ label: 'heap in use (MiB)', stroke: '#7a5af8', scale: 'mib', spanGaps: true });
  }
  if (v.normalPeak !== null && v.threshold !== null) {
    data.push(xs.map(() => v.normalPeak));
    data.push(xs.map(() => v.threshold));
    series.push({ label: 'normal peak', stroke: '#667085', dash: [6, 4] });
    series.push({ label: '1.5x alert line', stroke: '#b42318', dash: [6, 4], width: 2 });
  }
  return new uPlot(
    {
      width: chartWidth(host),
      height: 300,
      scales: { x: { time: true, min: fitFrom(times, s) / 1000, max: s.to / 1000 } },
      axes: [
        {},
        { label: 'goroutines' },
        ...(s.heap.length > 0
          ? [{ scale: 'mib', side: 1, grid: { show: false }, label: 'heap MiB' }]
          : []),
      ],
      series,
      plugins: [alertMarkers(v.alerts)],
      // The drag selects a window; the server sends it again at the chart's resolution.
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [
          (u: uPlotT) => {
            if (u.select.width < 4) return;
            const from = u.posToVal(u.select.left, 'x') * 1000;
            const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            onZoom(Math.round(from), Math.round(to));
          },
        ],
      },
    },
    data as uPlotT.AlignedData,
    host,
  );
}

/**
 * Where the x axis starts: the range's start, or a little before the first point when history
 * begins later (a watcher started an hour ago would otherwise draw a day of empty axis).
 */
function fitFrom(times: number[], r: { from: number; to: number }): number {
  const first = times[0];
  return first !== undefined && first > r.from
    ? Math.max(r.from, first - (r.to - first) * 0.02)
    : r.from;
}

/** `dt`/`dd` pairs; values are text. */
function facts(list: HTMLElement, pairs: [string, Child | Child[]][]): void {
  list.replaceChildren();
  for (const [k, val] of pairs) {
    list.append(el('dt', {}, k));
    list.append(el('dd', {}, ...(Array.isArray(val) ? val : [val])));
  }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** A count with a bar as wide as its share of `max` (set through the CSSOM: the CSP allows it). */
function barCell(n: number, max: number): HTMLElement {
  const bar = el('span', { class: 'bar' });
  bar.style.width = `${max > 0 ? (n / max) * 100 : 0}%`;
  return el(
    'td',
    { class: n > 0 ? 'waits' : 'waits muted' },
    el('span', { class: 'track' }, bar),
    ` ${n}`,
  );
}

/**
 * The group's goroutines per wait bucket at the last debug=2 dump of the range and, when the
 * range holds an earlier one, at the first beside it: a leak's goroutines age, so its mass moves
 * down the table from dump to dump, while a busy pool's stays in the first rows.
 */
function showWaits(view: GroupView): void {
  const box = byId('group-waits');
  box.replaceChildren();
  const longest =
    view.waitMinutes !== null
      ? `The longest waiter had waited ${view.waitMinutes} min at the latest dump that measured a wait${view.waitsAt !== null ? ` (${time(view.waitsAt)})` : ''}.`
      : null;
  const w = view.waits;
  if (!w) {
    box.append(
      el(
        'p',
        { class: 'muted' },
        'No debug=2 dump in this range: the watcher takes one now and then (--debug2-interval) while a target has suspects.',
      ),
    );
    if (longest) box.append(el('p', { class: 'muted' }, longest));
    return;
  }
  const both = w.first.at !== w.last.at;
  const dumps = both ? [w.first, w.last] : [w.last];
  const max = Math.max(...dumps.flatMap((d) => d.counts));
  const head = el('tr', {}, el('th', {}, 'Waited'));
  for (const d of dumps)
    head.append(el('th', {}, `${d === w.last ? 'Last' : 'First'} dump, ${time(d.at)}`));
  const body = el('tbody');
  view.waitBuckets.forEach((label, i) => {
    const row = el('tr', {}, el('td', {}, label));
    for (const d of dumps) row.append(barCell(d.counts[i] ?? 0, max));
    body.append(row);
  });
  const total = el('tr', { class: 'total' }, el('td', {}, 'Goroutines'));
  for (const d of dumps) total.append(el('td', { class: 'waits' }, String(sum(d.counts))));
  body.append(total);
  box.append(
    el('table', { class: 'waits' }, el('thead', {}, head), body),
    el(
      'p',
      { class: 'muted hint' },
      'Go prints a wait in whole minutes, from one minute up; goroutines without one count as under a minute.',
      longest ? ` ${longest}` : null,
    ),
  );
}

/** A few lines of code around a line, the line itself marked. */
function codeBlock(c: CodeFrame): HTMLElement {
  const pre = el('pre', { class: 'code' });
  for (const l of c.code)
    pre.append(
      el(
        'span',
        { class: l.line === c.line ? 'hit' : '' },
        `${String(l.line).padStart(5)}  ${l.text}\n`,
      ),
    );
  return el('div', {}, el('div', { class: 'pos' }, `${c.function}  ${c.file}:${c.line}`), pre);
}

function showSource(view: GroupView): void {
  const box = byId('group-source');
  box.replaceChildren();
  if (!view.source) {
    box.append(
      el(
        'p',
        { class: 'muted' },
        'Start the dashboard with --source DIR (a checkout of the service) to see the line it waits on and the lint findings that explain it.',
      ),
    );
    return;
  }
  if (view.linkError) {
    box.append(el('p', { class: 'error' }, `Could not link to the checkout: ${view.linkError}`));
    return;
  }
  const l = view.link;
  if (!l?.source) return;
  if (l.source.status !== 'linked') {
    box.append(
      el(
        'p',
        { class: 'muted' },
        l.source.status === 'mismatch'
          ? `The checkout is not the code that ran: ${l.source.mismatches.join('; ')}`
          : 'None of its frames are code of the checkout.',
      ),
    );
    return;
  }
  // The finding first: it says why, in words; the code below shows where.
  const findings = el('ul', { class: 'findings' });
  for (const f of l.findings)
    findings.append(
      el(
        'li',
        {},
        el('strong', {}, f.rule),
        ` ${f.file}:${f.line}: ${f.message}`,
        f.fix ? el('div', { class: 'muted' }, `Fix: ${f.fix}`) : null,
      ),
    );
  box.append(
    el('h4', {}, 'Lint findings'),
    l.findings.length > 0 ? findings : el('p', { class: 'muted' }, 'No lint finding on this code.'),
  );
  if (l.source.blocking) box.append(el('h4', {}, 'Where it waits'), codeBlock(l.source.blocking));
  if (l.source.createdBy)
    box.append(el('h4', {}, 'Where it is started'), codeBlock(l.source.createdBy));
  if (l.lifetime && l.lifetime.endsBy.length > 0) {
    const ends = el('ul', {});
    for (const e of l.lifetime.endsBy)
      ends.append(el('li', { class: e.unreleased ? 'alert' : '' }, `${e.expr}: ${e.ends}`));
    box.append(el('h4', {}, 'What could end the wait'), ends);
  }
}

async function showGroup(
  name: string,
  g: GroupRow,
  rows: HTMLElement[],
  row: HTMLElement,
  range: ShownRange,
): Promise<void> {
  for (const r of rows) r.classList.remove('selected');
  row.classList.add('selected');
  const chart = byId('group-chart');
  const view = await getJson<GroupView>(
    `/ui/api/group?name=${encodeURIComponent(name)}&id=${encodeURIComponent(g.id)}&${rangeQuery(range, chart)}`,
  );
  history.replaceState(null, '', `#group=${encodeURIComponent(g.id)}`);
  const section = byId('group');
  section.hidden = false;
  byId('group-title').textContent =
    `Group ${view.id}: ${view.info?.holder?.func ?? 'unknown holder'}`;
  const leaked = view.leaked || g.leaked;
  byId('group-summary').textContent = [
    `${view.count ?? g.count} goroutines now`,
    g.growing && g.growthPerHour !== null
      ? `growing ${Math.round(g.growthPerHour)}/h`
      : 'not growing',
    `blocked on ${view.info?.blockedOn ?? 'unknown'}`,
    view.info?.idle ? `idle by design: ${view.info.idle}` : null,
  ]
    .filter((f) => f !== null)
    .join(' · ');
  const verdict = byId('group-verdict');
  verdict.className = leaked > 0 ? 'verdict leaked' : 'verdict muted';
  verdict.textContent =
    leaked > 0
      ? `(leaked): the runtime proved ${leaked} of these goroutines can never run again (goroutineleak profile).`
      : 'No (leaked) verdict from the runtime for this group (it needs Go with the goroutineleak profile, and proves only goroutines blocked on unreachable objects).';
  chart.replaceChildren();
  new uPlot(
    {
      width: chartWidth(chart),
      height: 180,
      scales: {
        x: {
          time: true,
          min:
            fitFrom(
              view.series.map((p) => p[0]),
              view,
            ) / 1000,
          max: view.to / 1000,
        },
      },
      series: [{}, { label: 'count', stroke: '#b42318', width: 2 }],
    },
    [view.series.map((p) => p[0] / 1000), view.series.map((p) => p[1])],
    chart,
  );
  const o = view.ownership;
  facts(byId('ownership'), [
    ['Who started it', o?.who ?? '—'],
    ['What it waits for', o?.what ?? '—'],
    ['What it holds', o?.holds ?? '—'],
    ['Usual fix', view.fix ?? '—'],
  ]);
  showWaits(view);
  showSource(view);
  const stack = byId('stack');
  stack.replaceChildren();
  for (const f of view.info?.frames ?? [])
    stack.append(el('li', { class: 'frame' }, ...frameNodes(f)));
  if (view.info?.createdBy)
    stack.append(
      el('li', { class: 'frame created' }, 'created by ', ...frameNodes(view.info.createdBy)),
    );
  section.scrollIntoView({ block: 'nearest' });
}

/** Column keys of the groups table, in header order; a click on a header sorts by it. */
const SORT_KEYS: ((g: GroupRow) => number | string)[] = [
  (g) => -g.count,
  (g) => -(g.growthPerHour ?? Number.NEGATIVE_INFINITY),
  (g) => g.info?.blockedOn ?? '',
  (g) => g.info?.holder?.func ?? '',
  (g) => g.info?.createdBy?.func ?? '',
];

function sortable(body: HTMLElement, groups: GroupRow[]): void {
  const heads = document.querySelectorAll<HTMLElement>('#groups thead th');
  heads.forEach((th, i) => {
    th.classList.add('sortable');
    th.addEventListener('click', () => {
      const key = SORT_KEYS[i]!;
      const rank = new Map(groups.map((g) => [g.id, key(g)]));
      const rows = [...body.querySelectorAll<HTMLElement>('tr')];
      rows.sort((a, b) => {
        const x = rank.get(a.dataset.group ?? '') ?? '';
        const y = rank.get(b.dataset.group ?? '') ?? '';
        return x < y ? -1 : x > y ? 1 : 0;
      });
      body.append(...rows);
      heads.forEach((h) => h.removeAttribute('aria-sort'));
      th.setAttribute('aria-sort', i < 2 ? 'descending' : 'ascending');
    });
  });
}

/** Growth as a person reads it: +N/h when it counts, "—" when too few scrapes, else small. */
function growthCell(g: GroupRow): HTMLElement {
  if (g.growthPerHour === null)
    return el(
      'td',
      { class: 'num muted', title: 'fewer than 6 scrapes in the last hour: too few to judge' },
      '—',
    );
  const r = Math.round(g.growthPerHour);
  if (g.growing) return el('td', { class: 'num' }, `+${r}`);
  return el(
    'td',
    { class: 'num muted', title: 'rose by fewer than 5 goroutines over the last hour' },
    r === 0 ? '0' : `${r > 0 ? '+' : ''}${r}`,
  );
}

function rangePicker(name: string, hours: number, zoomed: boolean, reset: () => void): void {
  const box = byId('range');
  box.replaceChildren();
  for (const [label, h] of RANGES) {
    const a = el('a', { class: h === hours && !zoomed ? 'on' : '' }, label) as HTMLAnchorElement;
    a.href = `/ui/target?name=${encodeURIComponent(name)}&hours=${h}`;
    box.append(a);
  }
  if (zoomed) {
    const b = el('button', { class: 'reset' }, 'reset zoom') as HTMLButtonElement;
    b.type = 'button';
    b.addEventListener('click', reset);
    box.append(b);
  }
}

async function targetPage(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const name = q.get('name') ?? '';
  const asked = Number(q.get('hours') ?? '24');
  const range: ShownRange = { hours: Number.isFinite(asked) && asked > 0 ? asked : 24 };
  byId('title').textContent = name;
  byId('crumb').textContent = `/ ${name}`;
  document.title = `leakwatch: ${name}`;
  rangePicker(name, range.hours, false, () => undefined);
  const chartHost = byId('chart');
  const v = await getJson<TargetView>(
    `/ui/api/target?name=${encodeURIComponent(name)}&${rangeQuery(range, chartHost)}`,
  );
  const last = v.totals[v.totals.length - 1];
  const over = last !== undefined && v.threshold !== null && last[1] > v.threshold;
  const summary = byId('summary');
  summary.replaceChildren(
    last
      ? el(
          'span',
          { class: over ? 'alert' : '' },
          `${last[1]} goroutines at ${time(last[0])}${over ? ', above the 1.5x alert line' : ''}`,
        )
      : `no scrapes in the last ${rangeWords(range.hours)}`,
    ` · ${v.scrapes} scrapes in the last ${rangeWords(range.hours)}`,
    // `serve` over a saved database: the range ends at the target's last scrape.
    v.to < Date.now() - HOUR_MS ? ` up to its last scrape` : '',
    v.scrapes > v.totals.length ? ` (drawn as ${v.totals.length} points, peaks kept)` : '',
    ' · ',
    v.normalPeak !== null
      ? `normal peak ${v.normalPeak}, alert line ${v.threshold}`
      : 'normal peak not learnt yet',
  );
  const attachCompare = setupCompare(v);
  const zoomTo = (from: number, to: number): void => {
    range.zoom = { from, to };
    void getJson<SeriesView>(
      `/ui/api/series?name=${encodeURIComponent(name)}&${rangeQuery(range, chartHost)}`,
    )
      .then((s) => {
        attachCompare(drawTotals(v, s, zoomTo));
        byId('zoom').textContent = `Zoomed to ${time(from)} – ${time(to)} (${s.scrapes} scrapes).`;
        rangePicker(name, range.hours, true, () => {
          delete range.zoom;
          byId('zoom').textContent = '';
          attachCompare(drawTotals(v, v, zoomTo));
          rangePicker(name, range.hours, false, () => undefined);
        });
      })
      .catch(showError);
  };
  attachCompare(drawTotals(v, v, zoomTo));

  const list = byId('alerts');
  if (v.alerts.length === 0) list.append(el('li', { class: 'muted' }, 'No alerts.'));
  for (const a of v.alerts)
    list.append(
      el(
        'li',
        { class: a.type === 'alert' ? 'alert' : 'muted' },
        `${time(a.at)} ${a.type} ${a.detector}: ${a.summary}`,
        Object.keys(a.labels).length > 0
          ? el(
              'span',
              { class: 'labels' },
              ` ${Object.entries(a.labels)
                .map(([k, x]) => `${k}=${x}`)
                .join(' ')}`,
            )
          : null,
      ),
    );

  const body = document.querySelector('#groups tbody') as HTMLElement;
  sortable(body, v.groups);
  const rows: HTMLElement[] = [];
  for (const g of v.groups) {
    const blocked = el('td', {}, g.info?.blockedOn ?? '—');
    if (g.leaked > 0) blocked.append(' ', el('span', { class: 'badge' }, 'leaked'));
    const row = el(
      'tr',
      { class: g.growing ? 'growing' : '' },
      el('td', { class: 'num' }, String(g.count)),
      growthCell(g),
      blocked,
      el('td', { class: 'code' }, ...frameNodes(g.info?.holder)),
      el('td', { class: 'code' }, ...frameNodes(g.info?.createdBy)),
    );
    row.dataset.group = g.id;
    row.addEventListener(
      'click',
      () => void showGroup(v.name, g, rows, row, range).catch(showError),
    );
    rows.push(row);
    body.append(row);
  }
  // A link to a group (#group=ID) opens it.
  const wanted = /^#group=(.+)$/.exec(location.hash)?.[1];
  const i = wanted ? v.groups.findIndex((g) => g.id === decodeURIComponent(wanted)) : -1;
  if (i >= 0) await showGroup(v.name, v.groups[i]!, rows, rows[i]!, range);
}

const page = document.body.dataset.page;
(page === 'fleet' ? fleetPage() : page === 'target' ? targetPage() : Promise.resolve()).catch(
  showError,
);
