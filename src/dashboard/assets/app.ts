/**
 * The dashboard's browser script (compiled by tsc like the rest, served as /ui/assets/app.js).
 * Every string that comes from a profile or a target reaches the page through textContent or
 * an attribute set by the DOM API, never through HTML parsing.
 */
import type uPlotT from 'uplot';
import { setupCompare } from './compare.js';

// Loaded by the target page as a classic script before this module runs.
declare const uPlot: typeof uPlotT;

interface Point {
  at: number;
  value: number;
}
interface Frame {
  func: string;
  pkg: string;
  file: string;
  line: number;
}
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
  growthPerHour: number;
  info: GroupInfo | null;
}
interface TargetView {
  name: string;
  now: number;
  from: number;
  totals: Point[];
  heap: Point[];
  normalPeak: number | null;
  threshold: number | null;
  alerts: Alert[];
  groups: GroupRow[];
}
interface GroupView {
  id: string;
  info: GroupInfo | null;
  series: Point[];
  waitMinutes: number | null;
}

type Child = Node | string | null | undefined;

/** An element with text children: strings become text nodes, never markup. */
function el(
  tag: string,
  props: { class?: string; title?: string } = {},
  ...kids: Child[]
): HTMLElement {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  if (props.title) e.title = props.title;
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

function byId(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page lacks #${id}`);
  return e;
}

let pending = 0;
async function getJson<T>(path: string): Promise<T> {
  const busy = byId('busy');
  pending++;
  busy.hidden = false;
  try {
    const r = await fetch(path, { credentials: 'same-origin' });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return (await r.json()) as T;
  } finally {
    if (--pending === 0) busy.hidden = true;
  }
}

function showError(err: unknown): void {
  const e = byId('error');
  e.hidden = false;
  e.textContent = `Could not load: ${err instanceof Error ? err.message : String(err)}`;
}

const time = (ms: number): string => new Date(ms).toLocaleString();

function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** `func` on one line, `file:line` under it: how Go prints a frame. */
function frameNodes(f: Frame | undefined): Child[] {
  if (!f) return ['—'];
  return [f.func, el('span', { class: 'pos' }, ` ${f.file}:${f.line}`)];
}

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
    const t0 = points[0]!.at;
    const t1 = points[points.length - 1]!.at;
    const max = Math.max(...points.map((p) => p.value));
    const min = Math.min(...points.map((p) => p.value));
    const x = (t: number): number => (t1 === t0 ? 0 : ((t - t0) / (t1 - t0)) * (w - 2) + 1);
    const y = (v: number): number =>
      max === min ? h / 2 : h - 2 - ((v - min) / (max - min)) * (h - 4);
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute(
      'points',
      points.map((p) => `${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`).join(' '),
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
  return Math.max(320, Math.min(host.clientWidth || 900, 1360));
}

function drawTotals(v: TargetView): uPlotT {
  const host = byId('chart');
  const xs = v.totals.map((p) => p.at / 1000);
  const data: uPlotT.AlignedData = [xs, v.totals.map((p) => p.value)];
  const series: uPlotT.Series[] = [{}, { label: 'goroutines', stroke: '#2e90fa', width: 2 }];
  if (v.heap.length > 0) {
    // Heap is scraped every few rounds: a gap between its points, joined by the line.
    const mib = new Map(v.heap.map((p) => [p.at / 1000, p.value / 1048576]));
    data.push(xs.map((x) => mib.get(x) ?? null));
    series.push({ label: 'heap in use (MiB)', stroke: '#7a5af8', scale: 'mib', spanGaps: true });
  }
  if (v.normalPeak !== null && v.threshold !== null) {
    data.push(xs.map(() => v.normalPeak));
    data.push(xs.map(() => v.threshold));
    series.push({ label: 'normal peak', stroke: '#667085', dash: [6, 4] });
    series.push({ label: '1.5x alert line', stroke: '#b42318', dash: [6, 4] });
  }
  return new uPlot(
    {
      width: chartWidth(host),
      height: 300,
      axes: [
        {},
        {},
        ...(v.heap.length > 0 ? [{ scale: 'mib', side: 1, grid: { show: false } }] : []),
      ],
      series,
      plugins: [alertMarkers(v.alerts)],
      cursor: { drag: { x: true, y: false } },
    },
    data,
    host,
  );
}

async function showGroup(
  name: string,
  g: GroupRow,
  rows: HTMLElement[],
  row: HTMLElement,
): Promise<void> {
  for (const r of rows) r.classList.remove('selected');
  row.classList.add('selected');
  const view = await getJson<GroupView>(
    `/ui/api/group?name=${encodeURIComponent(name)}&id=${encodeURIComponent(g.id)}`,
  );
  const section = byId('group');
  section.hidden = false;
  byId('group-title').textContent =
    `Group ${view.id}: ${view.info?.holder?.func ?? 'unknown holder'}`;
  const facts = [
    `${g.count} goroutines now`,
    `blocked on ${view.info?.blockedOn ?? 'unknown'}`,
    view.waitMinutes !== null ? `longest wait ${view.waitMinutes} min` : null,
    g.leaked > 0 ? `${g.leaked} proven leaked by the runtime` : null,
    view.info?.idle ? `idle by design: ${view.info.idle}` : null,
  ];
  byId('group-summary').textContent = facts.filter((f) => f !== null).join(' · ');
  const chart = byId('group-chart');
  chart.replaceChildren();
  new uPlot(
    {
      width: chartWidth(chart),
      height: 180,
      series: [{}, { label: 'count', stroke: '#b42318', width: 2 }],
    },
    [view.series.map((p) => p.at / 1000), view.series.map((p) => p.value)],
    chart,
  );
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
  (g) => -g.growthPerHour,
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
    });
  });
}

async function targetPage(): Promise<void> {
  const name = new URLSearchParams(location.search).get('name') ?? '';
  byId('title').textContent = name;
  byId('crumb').textContent = `/ ${name}`;
  document.title = `leakwatch: ${name}`;
  const v = await getJson<TargetView>(`/ui/api/target?name=${encodeURIComponent(name)}`);
  const last = v.totals[v.totals.length - 1];
  byId('summary').textContent = [
    last ? `${last.value} goroutines at ${time(last.at)}` : 'no scrapes in the last 24 h',
    `${v.totals.length} scrapes shown`,
    v.normalPeak !== null
      ? `normal peak ${v.normalPeak}, alert line ${v.threshold}`
      : 'normal peak not learnt yet',
  ].join(' · ');
  setupCompare(v, drawTotals(v));

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
    const growing = g.growthPerHour > 0;
    const row = el(
      'tr',
      { class: growing ? 'growing' : '' },
      el('td', { class: 'num' }, String(g.count)),
      el('td', { class: 'num' }, `${growing ? '+' : ''}${Math.round(g.growthPerHour)}`),
      el('td', {}, g.info?.blockedOn ?? '—'),
      el('td', { class: 'code' }, ...frameNodes(g.info?.holder)),
      el('td', { class: 'code' }, ...frameNodes(g.info?.createdBy)),
    );
    row.dataset.group = g.id;
    row.addEventListener('click', () => void showGroup(v.name, g, rows, row).catch(showError));
    rows.push(row);
    body.append(row);
  }
}

const page = document.body.dataset.page;
(page === 'fleet' ? fleetPage() : page === 'target' ? targetPage() : Promise.resolve()).catch(
  showError,
);
