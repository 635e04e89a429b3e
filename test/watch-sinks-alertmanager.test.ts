/**
 * The Alertmanager sink against a real Alertmanager on 127.0.0.1: leakwatch → Alertmanager's
 * v2 API → Alertmanager's own webhook notification to a receiver here. Proves that the alerts
 * are accepted, shown with their labels and annotations, routed and notified, and resolved, and
 * that hostile names (ESC, newlines, quotes) arrive as escaped text on one line.
 *
 * The binary: test/helpers.ts findTool ($LEAKWATCH_ALERTMANAGER, the copy .ci/run caches, PATH,
 * `$(go env GOPATH)/bin`); skipped with the reason when none runs. Install it with
 *   go install github.com/prometheus/alertmanager/cmd/alertmanager@v0.28.1
 * (v0.30 and later don't build with `go install`: their module lacks the embedded UI files).
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
import { findTool } from './helpers.js';
import { AlertDispatcher } from '../src/watch/sinks/dispatch.js';
import { AlertmanagerSink } from '../src/watch/sinks/alertmanager.js';
import type { AlertEvent } from '../src/watch/types.js';

const AM = findTool('alertmanager', 'LEAKWATCH_ALERTMANAGER', 'alertmanager-v0.28.1');
const skip = AM
  ? false
  : 'no alertmanager binary (set LEAKWATCH_ALERTMANAGER, or `go install ' +
    'github.com/prometheus/alertmanager/cmd/alertmanager@v0.28.1`)';
if (skip) console.log(`# skipping real Alertmanager tests: ${skip}`);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Waits for `check` to return a value, polling an external process; bounded. */
async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await sleep(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

interface Notification {
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

function event(type: 'alert' | 'resolved', at: Date, over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    type,
    key: 'checkout-api/growth/g7f3',
    target: 'checkout-api',
    detector: 'growth',
    at: at.toISOString(),
    summary: '(*Service).deliver (notify.go:144) +1,200/min, 36,000 goroutines',
    group: {
      id: 'g7f3',
      holder: { func: 'main.(*Service).deliver', pkg: 'main', file: '/src/notify.go', line: 144 },
      createdBy: {
        func: 'main.(*Service).Broadcast',
        pkg: 'main',
        file: '/src/notify.go',
        line: 124,
      },
      blockedOn: 'chan send',
      count: 36000,
    },
    evidence: { slopePerMin: 1200, counts: [12000, 24000, 36000] },
    labels: { env: 'prod', 'app.kubernetes.io/name': 'checkout' },
    ...over,
  };
}

describe('real Alertmanager', { skip, timeout: 120_000 }, () => {
  let dir: string;
  let am: ChildProcess;
  let amUrl: string;
  let amErr = '';
  let hook: Server;
  const notifications: Notification[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lw-am-'));
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        notifications.push(JSON.parse(body) as Notification);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const hookPort = (hook.address() as AddressInfo).port;
    writeFileSync(
      join(dir, 'am.yml'),
      [
        'route:',
        '  receiver: hook',
        "  group_by: ['alertname', 'target', 'detector', 'group']",
        '  group_wait: 0s',
        '  group_interval: 1s',
        '  repeat_interval: 1h',
        'receivers:',
        '  - name: hook',
        '    webhook_configs:',
        `      - url: 'http://127.0.0.1:${hookPort}/am-hook'`,
        '        send_resolved: true',
        '',
      ].join('\n'),
    );
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    am = spawn(
      AM!,
      [
        `--config.file=${join(dir, 'am.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=', // no gossip: a single local instance
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    am.stderr!.on('data', (d: Buffer) => (amErr += d.toString()));
    await until('Alertmanager to be ready', async () => {
      if (am.exitCode !== null) throw new Error(`alertmanager exited: ${amErr}`);
      const r = await fetch(`${amUrl}/-/ready`).catch(() => undefined);
      return r?.ok ? true : undefined;
    });
  });

  after(async () => {
    if (am && am.exitCode === null) {
      const gone = new Promise((r) => am.once('exit', r));
      am.kill('SIGTERM');
      await gone;
    }
    hook?.closeAllConnections();
    await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const active = async (): Promise<GettableAlert[]> => {
    const r = await fetch(
      `${amUrl}/api/v2/alerts?filter=${encodeURIComponent('alertname="GoroutineLeak"')}`,
    );
    assert.equal(r.status, 200);
    return (await r.json()) as GettableAlert[];
  };

  it('accepts, notifies and resolves leakwatch alerts', async () => {
    const lines: string[] = [];
    const sink = new AlertmanagerSink({
      url: amUrl,
      resendIntervalMs: 60_000,
      generatorURL: 'http://127.0.0.1:7070/',
    });
    const d = new AlertDispatcher([sink], {
      retries: 2,
      backoffMs: 50,
      timeoutMs: 5000,
      log: (l) => lines.push(l),
    });
    const fired = new Date(Date.now() - 60_000);
    d.publish(event('alert', fired));
    // A whole-process alert: no group label.
    d.publish(
      event('alert', fired, {
        key: 'checkout-api/peak',
        detector: 'peak',
        group: undefined,
        summary: '50,847 goroutines, 1.5x the normal peak of 30,000',
      }),
    );
    await d.flush();
    assert.deepEqual(lines, [], amErr);
    assert.equal(d.status()[sink.name]!.sent, 2);

    const shown = await until('both alerts listed', async () => {
      const a = await active();
      return a.length === 2 ? a : undefined;
    });
    const growth = shown.find((a) => a.labels.detector === 'growth')!;
    const peak = shown.find((a) => a.labels.detector === 'peak')!;
    assert.deepEqual(growth.labels, {
      alertname: 'GoroutineLeak',
      target: 'checkout-api',
      detector: 'growth',
      group: 'g7f3',
      env: 'prod',
      app_kubernetes_io_name: 'checkout',
    });
    assert.equal(peak.labels.group, undefined);
    assert.equal(growth.status.state, 'active');
    assert.equal(growth.annotations.holder, 'main.(*Service).deliver /src/notify.go:144');
    assert.equal(growth.annotations.created_by, 'main.(*Service).Broadcast /src/notify.go:124');
    assert.equal(Date.parse(growth.startsAt), fired.getTime());
    assert.ok(Date.parse(growth.endsAt) > Date.now(), 'a firing alert ends in the future');

    const firing = await until('the firing notification', async () =>
      notifications.find((n) => n.status === 'firing' && n.alerts[0]?.labels.detector === 'growth'),
    );
    assert.equal(
      firing.alerts[0]!.annotations.created_by,
      'main.(*Service).Broadcast /src/notify.go:124',
    );

    // Re-sending keeps it one alert (same labels), with its first start.
    assert.equal(d.resendFiring(), 2);
    await d.flush();
    assert.equal((await active()).length, 2);

    d.publish(event('resolved', new Date()));
    await d.flush();
    assert.equal(d.status()[sink.name]!.sent, 5);
    await until('the growth alert to leave the active list', async () => {
      const a = await active();
      return a.length === 1 && a[0]!.labels.detector === 'peak' ? true : undefined;
    });
    const resolved = await until('the resolved notification', async () =>
      notifications.find(
        (n) => n.status === 'resolved' && n.alerts[0]?.labels.detector === 'growth',
      ),
    );
    assert.equal(resolved.alerts[0]!.status, 'resolved');
    assert.deepEqual(lines, []);
    await d.close();
  });

  it('takes hostile names as escaped text, and notifies them on one line each', async () => {
    const target = 'shop\u001b[2J\n"eu"\\1';
    const func = 'main.evil\nALERT  payments  growth  forged';
    const sink = new AlertmanagerSink({ url: amUrl });
    const d = new AlertDispatcher([sink], {
      retries: 0,
      backoffMs: 10,
      timeoutMs: 5000,
      log: () => {},
    });
    d.publish(
      event('alert', new Date(), {
        key: 'hostile',
        target,
        group: {
          id: 'gh',
          holder: { func, pkg: 'main', file: '/src/x.go', line: 1 },
          blockedOn: 'chan send',
          count: 9,
        },
        labels: { team: 'a\nb' },
      }),
    );
    await d.flush();
    assert.equal(d.status()[sink.name]!.sent, 1, d.status()[sink.name]!.lastError);
    const shown = await until('the hostile alert', async () =>
      (await active()).find((a) => a.labels.group === 'gh'),
    );
    assert.equal(shown.labels.target, 'shop\\x1b[2J\\n"eu"\\1');
    assert.equal(shown.labels.team, 'a\\nb');
    assert.equal(
      shown.annotations.holder,
      'main.evil\\nALERT  payments  growth  forged /src/x.go:1',
    );
    const n = await until('its notification', async () =>
      notifications.find((x) => x.alerts[0]?.labels.group === 'gh'),
    );
    for (const v of [...Object.values(n.alerts[0]!.labels), n.alerts[0]!.annotations.summary!])
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u0000-\u001f]/.test(v), JSON.stringify(v));
    await d.close();
  });

  it("reports Alertmanager's rejection as a failure, without retrying it", async () => {
    const lines: string[] = [];
    const sink = new AlertmanagerSink({ url: amUrl, generatorURL: 'not a url' });
    const d = new AlertDispatcher([sink], {
      retries: 3,
      backoffMs: 10,
      timeoutMs: 5000,
      log: (l) => lines.push(l),
    });
    d.publish(event('alert', new Date(), { key: 'bad' }));
    await d.flush();
    const s = d.status()[sink.name]!;
    assert.equal(s.failed, 1);
    assert.equal(s.retried, 0);
    assert.match(s.lastError!, /HTTP 4\d\d: .*generatorURL/);
    assert.equal(lines.length, 1);
    await d.close();
  });
});
