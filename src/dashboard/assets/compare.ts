/**
 * The target page's compare and flame panels. Compare: pick two moments (two clicks on the
 * chart, or a preset a user wants at 3 a.m.: the last hour, before the alert) and see the groups
 * that appeared, grew, shrank or vanished between the two stored scrapes nearest them, paired
 * the way `leakwatch diff` pairs two dumps (server: moments.ts). Flame: the stacks at A or B.
 */
import type uPlotT from 'uplot';
import { clock, el, fetchJson, frameNodes, panelsStyle, type Frame, type Point } from './dom.js';
import { showFlame, type StackRow } from './flame.js';

interface View {
  name: string;
  totals: Point[];
  alerts: { type: string; at: number; detector: string }[];
}
interface Info {
  frames: Frame[];
  holder?: Frame;
  createdBy?: Frame;
  blockedOn: string;
  idle?: string;
}
interface Moment {
  at: number;
  total: number;
  groups: number;
}
interface Compared {
  before: Moment;
  after: Moment;
  minutes: number;
  totalDelta: number;
  truncated: boolean;
  changes: {
    change: string;
    id: string;
    before: number;
    after: number;
    delta: number;
    info: Info | null;
  }[];
}
interface Stacks extends Moment {
  truncated: boolean;
  stacks: StackRow[];
}

const MINUTE = 60_000;
/** Rows of the compare table; the rest are counted. */
const SHOWN = 200;

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

function duration(min: number): string {
  if (min < 2) return `${Math.round(min * 60)} s`;
  return min < 90 ? `${Math.round(min)} min` : `${Math.round((min / 60) * 10) / 10} h`;
}

const groups = (n: number): string => `${n} group${n === 1 ? '' : 's'}`;

/**
 * The compare panel under the chart. Returns how to attach it to a chart: the page redraws the
 * chart on a zoom or a range change, and each new chart gets the A/B marks and click picking.
 */
export function setupCompare(v: View): (plot: uPlotT) => void {
  panelsStyle();
  let plot: uPlotT | undefined;
  const name = v.name;
  const last = v.totals[v.totals.length - 1]?.[0];
  const q = `name=${encodeURIComponent(name)}`;
  const moments: { a?: number; b?: number } = {};
  let picking: 'a' | 'b' = 'a';

  const shownA = el('b', { id: 'moment-a' }, '—');
  const shownB = el('b', { id: 'moment-b' }, '—');
  const pickA = el('button', { id: 'pick-a', title: 'the next click on the chart sets A' }, 'A');
  const pickB = el('button', { id: 'pick-b', title: 'the next click on the chart sets B' }, 'B');
  const run = el('button', { id: 'compare-run' }, 'Compare A → B');
  const flameA = el('button', { id: 'flame-a' }, 'Stacks at A');
  const flameB = el('button', { id: 'flame-b' }, 'Stacks at B');
  const summary = el('p', { id: 'compare-summary', class: 'muted' });
  const body = el('tbody');
  const table = el(
    'table',
    { id: 'compare' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', {}, 'Change'),
        el('th', { class: 'num' }, 'A'),
        el('th', { class: 'num' }, 'B'),
        el('th', { class: 'num' }, 'Δ'),
        el('th', {}, 'Blocked on'),
        el('th', {}, 'Holder'),
        el('th', {}, 'Created by'),
      ),
    ),
    body,
  );
  table.hidden = true;
  const presets = el('div', { class: 'presets' });
  const compareSection = el(
    'section',
    { id: 'compare-section' },
    el('h2', {}, 'Compare two moments'),
    el(
      'p',
      { class: 'muted' },
      'Click the chart to set moment A, then again for B (or press A or B first), or take a preset. Each moment is the stored scrape nearest to it; groups pair up as leakwatch diff pairs them.',
    ),
    presets,
    el(
      'p',
      { class: 'moments' },
      'A: ',
      shownA,
      ' ',
      pickA,
      '  B: ',
      shownB,
      ' ',
      pickB,
      ' ',
      run,
      ' ',
      flameA,
      ' ',
      flameB,
    ),
    summary,
    table,
  );
  const flameTitle = el('h2', { id: 'flame-title' }, 'Stacks');
  const flameSummary = el('p', { id: 'flame-summary', class: 'muted' });
  const flameHost = el('div', { id: 'flame' });
  const flameSection = el(
    'section',
    { id: 'flame-section' },
    flameTitle,
    flameSummary,
    el(
      'p',
      { class: 'muted' },
      'Every goroutine at that moment, outermost frame on top, the frame it waits in at the bottom; width is goroutines. Click a bar to zoom in, a faded bar to zoom out.',
    ),
    flameHost,
  );
  flameSection.hidden = true;
  const anchor = document.getElementById('chart')?.closest('section');
  if (anchor) anchor.after(compareSection, flameSection);
  else document.querySelector('main')?.append(compareSection, flameSection);

  const error = (err: unknown): void => {
    summary.className = 'error';
    summary.textContent = err instanceof Error ? err.message : String(err);
  };

  // Where A and B are, as marks over the chart (DOM boxes: the plot's own hooks are app.ts's).
  const marks = {
    a: el('div', { class: 'moment-mark a' }, el('span', {}, 'A')),
    b: el('div', { class: 'moment-mark b' }, el('span', {}, 'B')),
  };
  const placeMarks = (): void => {
    if (!plot) return;
    for (const k of ['a', 'b'] as const) {
      const at = moments[k];
      const m = marks[k];
      if (at === undefined) {
        m.remove();
        continue;
      }
      m.style.left = `${plot.valToPos(at / 1000, 'x')}px`;
      if (!m.isConnected) plot.over.append(m);
    }
  };
  const setMoment = (k: 'a' | 'b', at: number): void => {
    moments[k] = at;
    (k === 'a' ? shownA : shownB).textContent = clock(at);
    placeMarks();
  };

  const compare = async (): Promise<void> => {
    const { a, b } = moments;
    if (a === undefined || b === undefined) throw new Error('pick two moments first');
    const c = await fetchJson<Compared>(`/ui/api/compare?${q}&a=${a}&b=${b}`);
    summary.className = 'muted';
    // A and B move to the scrapes actually compared, so the marks and times say what was read.
    setMoment('a', c.before.at);
    setMoment('b', c.after.at);
    const count = (k: string): number => c.changes.filter((x) => x.change === k).length;
    summary.textContent = [
      `A ${clock(c.before.at)}: ${c.before.total} goroutines`,
      `B ${clock(c.after.at)}: ${c.after.total} goroutines`,
      `${signed(c.totalDelta)} in ${duration(c.minutes)}`,
      `${groups(count('appeared'))} appeared, ${count('grew')} grew, ${count('shrank')} shrank, ${count('vanished')} vanished`,
      c.truncated ? 'only the largest 5000 groups of each scrape were compared' : null,
    ]
      .filter((s) => s !== null)
      .join(' · ');
    body.replaceChildren();
    for (const x of c.changes.slice(0, SHOWN)) {
      const row = el(
        'tr',
        {},
        el('td', { class: `change-${x.change}` }, x.change),
        el('td', { class: 'num' }, String(x.before)),
        el('td', { class: 'num' }, String(x.after)),
        el('td', { class: 'num' }, signed(x.delta)),
        el('td', {}, x.info?.blockedOn ?? '—'),
        el('td', { class: 'code' }, ...frameNodes(x.info?.holder ?? x.info?.frames[0])),
        el('td', { class: 'code' }, ...frameNodes(x.info?.createdBy)),
      );
      row.dataset.group = x.id;
      row.dataset.change = x.change;
      body.append(row);
    }
    if (c.changes.length > SHOWN)
      body.append(
        el('tr', {}, el('td', { class: 'muted' }, `and ${c.changes.length - SHOWN} more changes`)),
      );
    if (c.changes.length === 0)
      body.append(el('tr', {}, el('td', { class: 'muted' }, 'No group changed.')));
    table.hidden = false;
  };

  const flame = async (k: 'a' | 'b'): Promise<void> => {
    const at = moments[k];
    if (at === undefined) throw new Error(`pick moment ${k.toUpperCase()} first`);
    const s = await fetchJson<Stacks>(`/ui/api/stacks?${q}&at=${at}`);
    flameSection.hidden = false;
    flameTitle.textContent = `Stacks at ${k.toUpperCase()}: ${clock(s.at)}`;
    flameSummary.textContent = `${s.total} goroutines in ${s.groups} groups${s.truncated ? ' (the largest 5000 groups drawn)' : ''}.`;
    showFlame(flameHost, s.stacks);
  };

  const go = (): void => {
    void compare()
      .then(() => flame('b'))
      .catch(error);
  };
  run.addEventListener('click', go);
  flameA.addEventListener('click', () => void flame('a').catch(error));
  flameB.addEventListener('click', () => void flame('b').catch(error));
  const picker = (k: 'a' | 'b'): void => {
    picking = k;
    pickA.classList.toggle('active', k === 'a');
    pickB.classList.toggle('active', k === 'b');
  };
  pickA.addEventListener('click', () => picker('a'));
  pickB.addEventListener('click', () => picker('b'));

  if (last === undefined) {
    summary.textContent = 'No scrape stored in this range: nothing to compare.';
    for (const b of [run, flameA, flameB]) (b as HTMLButtonElement).disabled = true;
    return () => undefined;
  }
  // Presets count back from the latest scrape, so a saved database compares as it was.
  const preset = (label: string, id: string, from: number | undefined): void => {
    const b = el('button', { id }, label) as HTMLButtonElement;
    if (from === undefined) b.disabled = true;
    b.addEventListener('click', () => {
      setMoment('a', from!);
      setMoment('b', last);
      go();
    });
    presets.append(b);
  };
  preset('15 min ago → now', 'preset-15m', last - 15 * MINUTE);
  preset('1 h ago → now', 'preset-1h', last - 60 * MINUTE);
  preset('24 h ago → now', 'preset-24h', last - 24 * 60 * MINUTE);
  // The scrape just before the latest alert fired: the state it grew from.
  const alert = v.alerts.filter((a) => a.type === 'alert').sort((x, y) => y.at - x.at)[0];
  const before = alert ? v.totals.filter(([at]) => at < alert.at).pop()?.[0] : undefined;
  preset(
    alert ? `before the ${alert.detector} alert → now` : 'before the alert → now (no alert)',
    'preset-alert',
    before,
  );
  setMoment('a', Math.max(v.totals[0]![0], last - 60 * MINUTE));
  setMoment('b', last);

  picker('a');
  return (p) => {
    plot = p;
    p.over.addEventListener('click', () => {
      // A drag zooms the chart; only a click picks.
      if (p.select.width > 2) return;
      const i = p.cursor.idx;
      const x = i === null || i === undefined ? undefined : p.data[0][i];
      if (x === undefined || x === null) return;
      setMoment(picking, x * 1000);
      picker(picking === 'a' ? 'b' : 'a');
    });
    (p.hooks.setScale ??= []).push(() => placeMarks());
    placeMarks();
  };
}
