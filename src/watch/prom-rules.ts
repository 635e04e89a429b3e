/**
 * `leakwatch rules`: a Prometheus rules file with the watcher's two main detectors written in
 * PromQL, so Prometheus evaluates them and fires into Alertmanager (docs/prometheus.md).
 *
 * - The normal peak, a recording rule: the highest total over a baseline window that ends some
 *   time ago (`offset`), so a climb in progress does not raise its own bar. From leakwatch's
 *   /metrics, the peak leakwatch learnt wins where it is known (it never slides).
 * - GoroutinePeak: the total above `factor` x the normal peak, for `for`.
 * - GoroutineGrowth: rose by at least `min` over the growth window, and in each of its halves
 *   (a single step up rises in one half only), for `growth for`. From
 *   leakwatch it is per stack group (leakwatch_group_goroutines); from client_golang's
 *   go_goroutines, on the process total.
 *
 * Reading leakwatch's series, the rules aggregate the replica labels away (`instance` by
 * default): two leakwatch replicas scraping the same service give one series, one alert. The
 * target's own labels (team, namespace...) stay on every series and so on every alert, for
 * Alertmanager's routes.
 */
import { stringify } from 'yaml';
import { UserError } from '../errors.js';

export type RulesSource = 'leakwatch' | 'go_goroutines';

interface RulesOptions {
  from: RulesSource;
  /** Label matchers applied to every series read, without braces (`job="api"`), or ''. */
  selector: string;
  peakFactor: number;
  baselineMs: number;
  offsetMs: number;
  peakForMs: number;
  growthWindowMs: number;
  growthMin: number;
  growthForMs: number;
  /** The group's evaluation interval; Prometheus's global one when absent. */
  intervalMs?: number;
  /** Labels of the series that differ between replicas of leakwatch (leakwatch source only). */
  replicaLabels: string[];
  /** Extra labels on both alerts (`severity: page`). */
  labels: Record<string, string>;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MATCHER = String.raw`\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*`;
const MATCHERS = new RegExp(`^(?:${MATCHER}(?:,${MATCHER})*,?\\s*)?$`);
/** Labels the alerts own: a `--label` may not replace them. */
const ALERT_OWN = new Set(['alertname', 'detector', 'target', 'group']);

/** `--selector`: PromQL label matchers, braces optional; anything else is a UserError. */
export function parseSelector(v: string): string {
  const s = v
    .trim()
    .replace(/^\{([^]*)\}$/, '$1')
    .trim();
  if (!MATCHERS.test(s))
    throw new UserError(
      `--selector ${JSON.stringify(v)}: expected PromQL label matchers, e.g. job="api",namespace=~"shop-.*"`,
    );
  return s.replace(/,\s*$/, '');
}

/** `--label k=v`: a label name Prometheus accepts, not one the alerts own. */
export function parseLabel(v: string): [string, string] {
  const i = v.indexOf('=');
  const k = i > 0 ? v.slice(0, i) : '';
  if (!LABEL_NAME.test(k) || k.startsWith('__'))
    throw new UserError(`--label ${JSON.stringify(v)}: expected NAME=VALUE, e.g. severity=page`);
  if (ALERT_OWN.has(k)) throw new UserError(`--label ${k}: the alerts set this label themselves`);
  return [k, v.slice(i + 1)];
}

/** `--replica-labels`: comma-separated label names. */
export function parseLabelNames(v: string, what: string): string[] {
  const names = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const n of names)
    if (!LABEL_NAME.test(n))
      throw new UserError(`${what} ${JSON.stringify(v)}: "${n}" is not a label name`);
  return names;
}

/** Milliseconds as a Prometheus duration: 90000 → `1m30s`. */
function promDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.max(1, Math.round(ms));
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}

/** The rules file, as YAML. `command` is the line that made it, quoted in its header. */
export function prometheusRules(o: RulesOptions, command: string): string {
  const sel = o.selector ? `{${o.selector}}` : '';
  const d = promDuration;
  const half = d(o.growthWindowMs / 2);
  const factor = String(o.peakFactor);
  const lw = o.from === 'leakwatch';
  const without = `max without (${o.replicaLabels.join(', ')})`;
  const agg = (e: string): string => (lw && o.replicaLabels.length ? `${without} (${e})` : e);

  const total = lw ? 'target:leakwatch_goroutines:max' : `go_goroutines${sel}`;
  const peak = lw
    ? 'target:leakwatch_goroutines:normal_peak'
    : 'instance:go_goroutines:normal_peak';
  const groupSeries = lw ? `leakwatch_group_goroutines${sel}` : `go_goroutines${sel}`;
  const who = lw ? '{{ $labels.target }}' : '{{ $labels.job }} {{ $labels.instance }}';
  const window = `the highest total over ${d(o.baselineMs)} ending ${d(o.offsetMs)} ago`;

  const rules: Record<string, unknown>[] = [];
  if (lw) {
    rules.push({ record: total, expr: agg(`leakwatch_goroutines${sel}`) });
    rules.push({
      record: peak,
      expr: `${agg(`leakwatch_normal_peak_goroutines${sel}`)} or max_over_time(${total}${sel}[${d(o.baselineMs)}] offset ${d(o.offsetMs)})`,
    });
  } else {
    rules.push({
      record: peak,
      expr: `max_over_time(${total}[${d(o.baselineMs)}] offset ${d(o.offsetMs)})`,
    });
  }
  rules.push({
    alert: 'GoroutinePeak',
    expr: `${lw ? `${total}${sel}` : total} > ${factor} * ${peak}${sel}`,
    for: d(o.peakForMs),
    labels: { ...o.labels, detector: 'peak' },
    annotations: {
      summary: `${who}: {{ $value | humanize }} goroutines, above ${factor}x the normal peak`,
      description: `Goroutines of ${who} are above ${factor} times the normal peak (${lw ? 'the peak leakwatch learnt, else ' : ''}${window}) and have been for ${d(o.peakForMs)}.${lw ? ' leakwatch names the stack groups that grew (its alert, /api/targets, the dashboard).' : ' `leakwatch analyze` on its /debug/pprof/goroutine names the stack groups that grew.'}`,
    },
  });
  // A leak rises all along: by `min` over the window and in each half of it. A single step up
  // (a deploy, a burst of connections) rises in one half only, whatever its size.
  const w = d(o.growthWindowMs);
  const rise = [
    `${agg(`delta(${groupSeries}[${w}])`)} >= ${o.growthMin}`,
    `${agg(`delta(${groupSeries}[${half}])`)} > 0`,
    `${agg(`delta(${groupSeries}[${half}] offset ${half})`)} > 0`,
  ].join(' and ');
  rules.push({
    alert: 'GoroutineGrowth',
    expr: rise,
    for: d(o.growthForMs),
    labels: { ...o.labels, detector: 'growth' },
    annotations: {
      summary: lw
        ? `${who}: stack group {{ $labels.group }} ({{ $labels.function }}) rose by {{ $value | humanize }} goroutines in ${w}`
        : `${who}: goroutines rose by {{ $value | humanize }} in ${w}`,
      description: `${lw ? 'The stack group {{ $labels.group }}, held at {{ $labels.function }} and blocked on {{ $labels.blocked_on }},' : 'The goroutines'} of ${who} ${lw ? 'has' : 'have'} risen by at least ${o.growthMin} over ${w}, in both halves of it, for ${d(o.growthForMs)}: the shape of a leak, not of a step.`,
    },
  });

  const group: Record<string, unknown> = {
    name: lw ? 'leakwatch' : 'leakwatch-go-goroutines',
  };
  if (o.intervalMs !== undefined) group.interval = d(o.intervalMs);
  group.rules = rules;
  const header = [
    `# Prometheus rules for goroutine leaks, from ${lw ? "leakwatch's /metrics" : "client_golang's go_goroutines"}.`,
    `# Written by: ${command.replace(/\n/g, ' ')}`,
    '# Load with rule_files in prometheus.yml; check with `promtool check rules FILE`.',
    '# docs/prometheus.md says what each rule does.',
  ];
  return `${header.join('\n')}\n${stringify({ groups: [group] }, { lineWidth: 0 })}`;
}
