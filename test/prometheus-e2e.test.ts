/**
 * The fleet path, all real: the notification service (leaky and fixed) under the reference load;
 * two `leakwatch watch` replicas scraping both and sending their own alerts to Alertmanager; a
 * real Prometheus scraping the replicas' /metrics and, directly, two client_golang services
 * (testdata/cmd/promleak, one made to leak), with the rules `leakwatch rules` wrote for each
 * source; the real Alertmanager routing by team to receivers here. It must show, through
 * Alertmanager's API v2 and its notifications:
 *
 * - Prometheus's GoroutinePeak/GoroutineGrowth for the leaky service, with its labels (team,
 *   namespace) and no replica's, so two replicas make one alert; nothing for the fixed one;
 * - leakwatch's own alerts from both replicas, one per alert in Alertmanager;
 * - the same rules on go_goroutines firing for the leaking client_golang service only;
 * - each routed to the team's receiver.
 *
 * Binaries: test/helpers.ts findTool (the copies .ci/run caches, or $LEAKWATCH_PROMETHEUS and
 * $LEAKWATCH_ALERTMANAGER, PATH, `$(go env GOPATH)/bin`); skipped with the reason when absent.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { loadRound } from '../src/cli/commands/demo.js';
import { buildProgram, cli, findTool, freePort, noGo, serve, type Served } from './helpers.js';
import { FAST, until, watch } from './watch-helpers.js';

const PROM = findTool('prometheus', 'LEAKWATCH_PROMETHEUS', 'prometheus-v0.316.0');
const AM = findTool('alertmanager', 'LEAKWATCH_ALERTMANAGER', 'alertmanager-v0.28.1');
const skip =
  noGo() ??
  (!PROM
    ? 'no prometheus binary (set LEAKWATCH_PROMETHEUS, or `go install github.com/prometheus/prometheus/cmd/prometheus@v0.316.0`)'
    : !AM
      ? 'no alertmanager binary (set LEAKWATCH_ALERTMANAGER, or `go install github.com/prometheus/alertmanager/cmd/alertmanager@v0.28.1`)'
      : false);
if (skip) console.log(`# skipping the Prometheus end-to-end test: ${skip}`);

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string };
}

interface Notification {
  receiver: string;
  alerts: { labels: Record<string, string> }[];
}

/** A real program in the background, stopped by its pid. */
function start(bin: string, args: string[]): { proc: ChildProcess; stderr: () => string } {
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  return { proc, stderr: () => err };
}

async function stop(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

/** Waits for a program's readiness URL; bounded, and failing at once if the program exits. */
async function ready(url: string, what: string, proc: ChildProcess, err: () => string) {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited: ${err()}`);
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    if (r?.ok) return;
    await sleep(100);
  }
  throw new Error(`${what} not ready in 30 s: ${err()}`);
}

describe('Prometheus and Alertmanager, end to end', { skip, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-prom-e2e-'));
  const procs: ChildProcess[] = [];
  const served: Served[] = [];
  let hook: Server;
  const notifications: Notification[] = [];
  let amUrl = '';
  let promUrl = '';
  let promErr: () => string = () => '';
  const watchers: ReturnType<typeof watch>[] = [];
  const apiPorts: number[] = [];
  let leakyPromleak = '';
  let quietPromleak = '';
  let loading = true;
  let loadLoop: Promise<void> = Promise.resolve();

  before(async () => {
    // Go programs first: building is the slow part, and nothing waits on it yet.
    const server = buildProgram('cmd/notify-server');
    const loadBin = buildProgram('cmd/notify-load');
    const promleak = buildProgram('cmd/promleak');

    // Alertmanager, routing by team to two receivers here.
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        notifications.push(JSON.parse(body) as Notification);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
    writeFileSync(
      join(dir, 'am.yml'),
      stringify({
        route: {
          receiver: 'default',
          group_by: ['alertname', 'target', 'instance', 'group'],
          group_wait: '0s',
          group_interval: '1s',
          repeat_interval: '1h',
          routes: [{ matchers: ['team="payments"'], receiver: 'payments' }],
        },
        receivers: ['default', 'payments'].map((name) => ({
          name,
          webhook_configs: [{ url: `${hookUrl}/${name}` }],
        })),
      }),
    );
    const amPort = await freePort();
    amUrl = `http://127.0.0.1:${amPort}`;
    const am = start(AM!, [
      `--config.file=${join(dir, 'am.yml')}`,
      `--storage.path=${join(dir, 'am')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=', // a single local instance: no gossip port
    ]);
    procs.push(am.proc);
    await ready(`${amUrl}/-/ready`, 'alertmanager', am.proc, am.stderr);

    // The notification service, leaky and fixed, under the same load all along.
    const leaky = await serve(server, ['-variant', 'leaky', '-heartbeat', '30s']);
    const fixed = await serve(server, ['-variant', 'fixed', '-heartbeat', '30s']);
    served.push(leaky, fixed);
    let round = 0;
    loadLoop = (async () => {
      while (loading) {
        await loadRound(loadBin, [leaky.url, fixed.url], ++round);
        await sleep(300);
      }
    })();
    writeFileSync(
      join(dir, 'targets.json'),
      JSON.stringify({
        targets: [
          {
            name: 'notify-leaky',
            url: leaky.url,
            labels: { team: 'payments', 'k8s.namespace': 'shop' },
          },
          { name: 'notify-fixed', url: fixed.url, labels: { team: 'payments', namespace: 'shop' } },
        ],
      }),
    );
    // Two replicas of leakwatch watching the same services, each with its own history.
    for (const r of ['a', 'b']) {
      const w = watch([
        ...FAST,
        '--config',
        join(dir, 'targets.json'),
        '--db',
        join(dir, `replica-${r}.db`),
        '--listen',
        '127.0.0.1:0',
        '--alertmanager',
        amUrl,
      ]);
      watchers.push(w);
      procs.push(w.proc);
      await until(() => /API on http:\/\/[^:]+:\d+/.test(w.stderr()), 20_000, 'the API address');
      apiPorts.push(Number(/API on http:\/\/[^:]+:(\d+)/.exec(w.stderr())![1]));
    }

    // Two client_golang services leakwatch does not scrape; one will leak.
    const p1 = await serve(promleak, []);
    const p2 = await serve(promleak, []);
    served.push(p1, p2);
    leakyPromleak = new URL(p1.url).host;
    quietPromleak = new URL(p2.url).host;

    // The rules, short windows for a test; one file per source.
    const short = [
      '--baseline',
      '20s',
      '--offset',
      '5s',
      '--for',
      '2s',
      '--growth-window',
      '20s',
      '--growth-min',
      '20',
      '--growth-for',
      '3s',
    ];
    const rulesLw = join(dir, 'leakwatch.rules.yml');
    const rulesGo = join(dir, 'go.rules.yml');
    for (const [file, args] of [
      [rulesLw, short],
      [rulesGo, ['--from', 'go_goroutines', '--selector', 'job="api"', ...short]],
    ] as const) {
      const r = await cli(['rules', ...args, '--out', file]);
      assert.equal(r.code, 0, r.stderr);
    }
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [rulesLw, rulesGo],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
        scrape_configs: [
          {
            job_name: 'leakwatch',
            static_configs: [{ targets: apiPorts.map((p) => `127.0.0.1:${p}`) }],
          },
          {
            job_name: 'api',
            static_configs: [
              { targets: [leakyPromleak], labels: { team: 'payments', namespace: 'shop' } },
              { targets: [quietPromleak], labels: { team: 'search', namespace: 'shop' } },
            ],
          },
        ],
      }),
    );
    const prom = start(PROM!, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    procs.push(prom.proc);
    promErr = prom.stderr;
    await ready(`${promUrl}/-/ready`, 'prometheus', prom.proc, prom.stderr);

    // The baseline of the client_golang services is seen first (offset 5s + some of the
    // window), then one of them leaks ten goroutines a second until the end.
    await sleep(10_000);
    const r = await fetch(`${p1.url}/leak?rate=10`, { method: 'POST' });
    assert.equal(r.status, 200);
  });

  after(async () => {
    loading = false;
    await loadLoop;
    for (const p of procs.reverse()) await stop(p);
    for (const s of served) await s.stop();
    hook?.closeAllConnections();
    await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const alerts = async (): Promise<AmAlert[]> => {
    const r = await fetch(`${amUrl}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 200);
    return (await r.json()) as AmAlert[];
  };

  /** Polls Alertmanager until `ok` holds; on timeout, says what it had. */
  async function poll(what: string, ok: (a: AmAlert[]) => boolean, ms = 150_000) {
    const end = Date.now() + ms;
    let last: AmAlert[] = [];
    while (Date.now() < end) {
      last = await alerts();
      if (ok(last)) return last;
      await sleep(500);
    }
    const errs = watchers.map((w) => w.stderr().slice(-2000)).join('\n---\n');
    throw new Error(
      `gave up waiting for ${what}; Alertmanager has ${JSON.stringify(last.map((a) => a.labels))}\nprometheus: ${promErr().slice(-3000)}\nwatchers: ${errs}`,
    );
  }

  it("Prometheus reads both replicas' /metrics, and its rules reach Alertmanager with the target's labels, once", async () => {
    const fromProm = (a: AmAlert): boolean =>
      a.labels.alertname === 'GoroutinePeak' || a.labels.alertname === 'GoroutineGrowth';
    const got = await poll("Prometheus's peak and growth alerts for notify-leaky", (all) =>
      ['GoroutinePeak', 'GoroutineGrowth'].every((n) =>
        all.some((a) => a.labels.alertname === n && a.labels.target === 'notify-leaky'),
      ),
    );
    const mine = got.filter((a) => fromProm(a) && a.labels.target === 'notify-leaky');
    for (const a of mine) {
      assert.equal(a.labels.team, 'payments');
      assert.equal(a.labels.k8s_namespace, 'shop', 'a label name made valid for Prometheus');
      assert.equal(a.labels.job, 'leakwatch');
      assert.equal(a.labels.instance, undefined, 'no replica label: two replicas, one alert');
      assert.equal(a.status.state, 'active');
    }
    const peak = mine.filter((a) => a.labels.alertname === 'GoroutinePeak');
    assert.equal(peak.length, 1);
    assert.match(peak[0]!.annotations.summary!, /^notify-leaky: \d+ goroutines, above 1\.5x/);
    const growth = mine.filter((a) => a.labels.alertname === 'GoroutineGrowth');
    // The groups are leakwatch's own: the ids its API gives for the leaky service.
    const api = await fetch(`http://127.0.0.1:${apiPorts[0]}/api/targets/notify-leaky/groups`);
    const ids = new Set(
      ((await api.json()) as { groups: { id: string }[] }).groups.map((g) => g.id),
    );
    for (const g of growth) {
      assert.ok(ids.has(g.labels.group!), `${g.labels.group} is one of ${[...ids].join(' ')}`);
      assert.equal(
        g.annotations.summary!.startsWith(`notify-leaky: stack group ${g.labels.group} (`),
        true,
        g.annotations.summary,
      );
    }
    // One alert per group: the replicas' series were aggregated into one.
    assert.equal(new Set(growth.map((g) => g.labels.group)).size, growth.length);
    // The groups Prometheus alerted on are leakwatch's: holders from the leaky service.
    assert.ok(
      growth.some((g) => /notify\.\(\*Service\)\./.test(g.labels.function ?? '')),
      JSON.stringify(growth.map((g) => g.labels.function)),
    );

    // Prometheus scraped both replicas.
    const q = await fetch(
      `${promUrl}/api/v1/query?query=${encodeURIComponent('up{job="leakwatch"}')}`,
    );
    const up = (await q.json()) as { data: { result: { value: [number, string] }[] } };
    assert.deepEqual(
      up.data.result.map((r) => r.value[1]),
      ['1', '1'],
    );

    // Routed by team: the payments receiver was notified.
    await until(
      () =>
        notifications.some(
          (n) =>
            n.receiver === 'payments' &&
            n.alerts.some((a) => fromProm(a as AmAlert) && a.labels.target === 'notify-leaky'),
        ),
      20_000,
      "the payments receiver's notification",
    );
  });

  it("leakwatch's own alerts from two replicas are one alert each in Alertmanager", async () => {
    const got = await poll('GoroutineLeak alerts for notify-leaky', (all) =>
      all.some((a) => a.labels.alertname === 'GoroutineLeak' && a.labels.target === 'notify-leaky'),
    );
    const mine = got.filter(
      (a) => a.labels.alertname === 'GoroutineLeak' && a.labels.target === 'notify-leaky',
    );
    const keys = mine.map((a) => `${a.labels.detector}/${a.labels.group ?? ''}`);
    assert.equal(new Set(keys).size, keys.length, keys.join(' '));
    for (const a of mine) assert.equal(a.labels.team, 'payments');
    // Both replicas did send (their /metrics count deliveries to Alertmanager).
    for (const port of apiPorts) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const m = /leakwatch_alert_deliveries_total\{sink="alertmanager[^"]*"\} (\d+)/.exec(text);
      assert.ok(m && Number(m[1]) > 0, `replica on ${port} delivered nothing:\n${text}`);
    }
  });

  it('the go_goroutines rules fire for the leaking client_golang service only, routed to its team', async () => {
    const got = await poll('GoroutinePeak and GoroutineGrowth on go_goroutines', (all) =>
      ['GoroutinePeak', 'GoroutineGrowth'].every((n) =>
        all.some((a) => a.labels.alertname === n && a.labels.instance === leakyPromleak),
      ),
    );
    for (const a of got.filter((x) => x.labels.instance === leakyPromleak)) {
      assert.equal(a.labels.job, 'api');
      assert.equal(a.labels.team, 'payments');
      assert.equal(a.labels.namespace, 'shop');
    }
    await until(
      () =>
        notifications.some(
          (n) =>
            n.receiver === 'payments' && n.alerts.some((a) => a.labels.instance === leakyPromleak),
        ),
      20_000,
      "the payments receiver's notification",
    );
  });

  it('nothing fires for the fixed service or the quiet one', async () => {
    // Runs last: by now the leaky ones alerted, under the same load, for the same time.
    const all = await alerts();
    assert.deepEqual(
      all
        .filter((a) => a.labels.target === 'notify-fixed' || a.labels.instance === quietPromleak)
        .map((a) => a.labels),
      [],
    );
  });
});
