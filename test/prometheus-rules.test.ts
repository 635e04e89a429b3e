/**
 * `leakwatch rules`: every variant of the file passes `promtool check rules`, and Prometheus's own
 * rule engine (`promtool test rules`, series given in its notation) fires what the rules promise:
 * the peak alert on a climb above 1.5x the normal peak (the one leakwatch learnt where known, else
 * the highest over the baseline window), the growth alert on a sustained rise and never on a
 * single step, one alert for two leakwatch replicas, and the series' labels (team...) carried
 * through for routing. Bad flags are one line and exit 2.
 *
 * promtool: test/helpers.ts findTool ($LEAKWATCH_PROMTOOL, the copy .ci/run caches, PATH,
 * `$(go env GOPATH)/bin`); skipped with the reason when none runs. Install it with
 *   go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { cli, findTool } from './helpers.js';

const PROMTOOL = findTool('promtool', 'LEAKWATCH_PROMTOOL', 'prometheus-v0.316.0');
const skip = PROMTOOL
  ? false
  : 'no promtool binary (set LEAKWATCH_PROMTOOL, or `go install ' +
    'github.com/prometheus/prometheus/cmd/promtool@v0.316.0`)';
if (skip) console.log(`# skipping promtool checks: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'lw-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function rules(args: string[]): Promise<string> {
  const r = await cli(['rules', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

function promtool(args: string[]): { code: number; out: string } {
  const r = spawnSync(PROMTOOL!, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

interface RuleDoc {
  groups: {
    name: string;
    interval?: string;
    rules: {
      alert?: string;
      record?: string;
      expr: string;
      annotations?: Record<string, string>;
    }[];
  }[];
}

/** An annotation as Prometheus renders it, for the few template forms the rules use. */
function rendered(template: string, labels: Record<string, string>, value: string): string {
  return template
    .replace(/\{\{ \$value \| humanize \}\}/g, value)
    .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => labels[k] ?? '');
}

describe('leakwatch rules: bad flags', () => {
  for (const [args, msg] of [
    [['--from', 'statsd'], /--from statsd: expected leakwatch or go_goroutines/],
    [['--selector', 'job=api'], /--selector "job=api": expected PromQL label matchers/],
    [['--label', 'alertname=X'], /--label alertname: the alerts set this label themselves/],
    [['--label', 'severity'], /--label "severity": expected NAME=VALUE/],
    [['--peak-factor', '1'], /--peak-factor 1: must be a number above 1/],
    [['--peak-factor', 'Infinity'], /--peak-factor Infinity: must be a number above 1/],
    [['--baseline', '1d'], /--baseline: "1d" is not a duration/],
    [['--replica-labels', 'pod-name'], /"pod-name" is not a label name/],
    [['--growth-min', '0'], /--growth-min: must be at least 1/],
  ] as const) {
    it(`${args.join(' ')} is one line, exit 2`, async () => {
      const r = await cli(['rules', ...args]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    });
  }

  it('--out to a directory that does not exist is one line, exit 2', async () => {
    const r = await cli(['rules', '--out', join(dir, 'no', 'such', 'rules.yml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--out .*rules\.yml: cannot write/);
  });
});

describe('leakwatch rules: promtool check rules', { skip }, () => {
  const variants: string[][] = [
    [],
    ['--from', 'go_goroutines'],
    ['--selector', '{job="checkout", namespace=~"shop-.*"}', '--label', 'severity=page'],
    ['--from', 'go_goroutines', '--selector', `job!='batch'`, '--interval', '30s'],
    ['--replica-labels', 'instance,pod', '--peak-factor', '2', '--for', '90s'],
    ['--replica-labels', '', '--baseline', '10s', '--offset', '5s', '--growth-window', '20s'],
    ['--label', 'runbook={{ $labels.target }}', '--growth-window', '45s', '--growth-for', '1500ms'],
  ];
  for (const v of variants) {
    it(`accepts: leakwatch rules ${v.join(' ')}`, async () => {
      const file = join(dir, `check-${variants.indexOf(v)}.yml`);
      const r = await cli(['rules', ...v, '--out', file]);
      assert.equal(r.code, 0, r.stderr);
      const c = promtool(['check', 'rules', file]);
      assert.equal(c.code, 0, c.out);
      assert.match(c.out, /SUCCESS: 4 rules found|SUCCESS: 3 rules found/);
    });
  }
});

describe("leakwatch rules: Prometheus's rule engine", { skip }, () => {
  const common = [
    '--baseline',
    '1h',
    '--offset',
    '30m',
    '--for',
    '5m',
    '--growth-window',
    '30m',
    '--growth-min',
    '50',
    '--growth-for',
    '10m',
    '--interval',
    '1m',
    '--label',
    'severity=page',
  ];

  /** Runs `promtool test rules` on the rules and a test whose expected alerts are rendered. */
  function engine(
    text: string,
    series: { series: string; values: string }[],
    expected: Record<string, { labels: Record<string, string>; value: string }[]>,
  ): void {
    const rulesFile = join(dir, `engine-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(rulesFile, text);
    const doc = parse(text) as RuleDoc;
    const byName = new Map(doc.groups[0]!.rules.filter((r) => r.alert).map((r) => [r.alert!, r]));
    const alertTests = Object.entries(expected).map(([alertname, alerts]) => ({
      eval_time: '150m',
      alertname,
      exp_alerts: alerts.map((a) => ({
        exp_labels: a.labels,
        exp_annotations: Object.fromEntries(
          Object.entries(byName.get(alertname)!.annotations!).map(([k, t]) => [
            k,
            rendered(t, a.labels, a.value),
          ]),
        ),
      })),
    }));
    const testFile = `${rulesFile}.test.yml`;
    writeFileSync(
      testFile,
      JSON.stringify({
        rule_files: [rulesFile],
        evaluation_interval: '1m',
        tests: [{ interval: '1m', input_series: series, alert_rule_test: alertTests }],
      }),
    );
    const r = promtool(['test', 'rules', testFile]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  }

  it('on go_goroutines: the peak on a climb and on a step, growth on the climb only', async () => {
    const text = await rules(['--from', 'go_goroutines', '--selector', 'job="api"', ...common]);
    const s = (instance: string): string =>
      `go_goroutines{job="api",instance="${instance}",team="payments",namespace="shop"}`;
    const labels = (instance: string, detector: string): Record<string, string> => ({
      job: 'api',
      instance,
      team: 'payments',
      namespace: 'shop',
      severity: 'page',
      detector,
    });
    engine(
      text,
      [
        // Flat at 100 for two hours, then +10 a minute: 400 at 150m.
        { series: s('leaky:8080'), values: '100x120 110+10x60' },
        // Flat, then one step to 300: a peak, but no growth.
        { series: s('step:8080'), values: '100x120 300x60' },
        { series: s('steady:8080'), values: '100x180' },
        // Another job, outside the selector, climbing just as fast: nothing.
        {
          series: 'go_goroutines{job="batch",instance="b:1"}',
          values: '100x120 110+10x60',
        },
      ],
      {
        GoroutinePeak: [
          { labels: labels('leaky:8080', 'peak'), value: '400' },
          { labels: labels('step:8080', 'peak'), value: '300' },
        ],
        // delta over (120m, 150m]: 290 between the samples, extrapolated to the window: 300.
        GoroutineGrowth: [{ labels: labels('leaky:8080', 'growth'), value: '300' }],
      },
    );
  });

  it("on leakwatch's series: the learnt peak wins, two replicas make one alert", async () => {
    const text = await rules(common);
    const both = (metric: string, labels: string, values: string) =>
      ['lw-a:9090', 'lw-b:9090'].map((i) => ({
        series: `${metric}{job="leakwatch",instance="${i}",${labels}}`,
        values,
      }));
    const group = (id: string, func: string): string =>
      `target="checkout",team="payments",group="${id}",function="${func}",blocked_on="chan-send"`;
    engine(
      text,
      [
        // checkout climbs to 400, but leakwatch learnt a normal peak of 300: below 1.5x.
        ...both('leakwatch_goroutines', 'target="checkout",team="payments"', '100x120 110+10x60'),
        ...both('leakwatch_normal_peak_goroutines', 'target="checkout",team="payments"', '300x180'),
        // search climbs the same and has no learnt peak yet: the baseline window's 100 counts.
        ...both('leakwatch_goroutines', 'target="search",team="discovery"', '100x120 110+10x60'),
        // A group that leaks, and one that stepped up once.
        ...both('leakwatch_group_goroutines', group('g7f3', 'main.deliver'), '0x120 10+10x60'),
        ...both('leakwatch_group_goroutines', group('g1a2', 'main.pool'), '50x120 400x60'),
      ],
      {
        GoroutinePeak: [
          {
            labels: {
              job: 'leakwatch',
              target: 'search',
              team: 'discovery',
              severity: 'page',
              detector: 'peak',
            },
            value: '400',
          },
        ],
        GoroutineGrowth: [
          {
            labels: {
              job: 'leakwatch',
              target: 'checkout',
              team: 'payments',
              group: 'g7f3',
              function: 'main.deliver',
              blocked_on: 'chan-send',
              severity: 'page',
              detector: 'growth',
            },
            value: '300',
          },
        ],
      },
    );
  });
});
