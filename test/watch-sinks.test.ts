/**
 * Alert delivery (src/watch/sinks/): each sink against real HTTP servers on 127.0.0.1, and the
 * dispatcher's dedupe, retries, timeouts, isolation between sinks, bounded queues and
 * redaction. Ordering is asserted through events (a request arriving, a promise settling),
 * never through wall-clock thresholds.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { AlertDispatcher, type DispatcherOptions } from '../src/watch/sinks/dispatch.js';
import { JsonlSink, jsonLine } from '../src/watch/sinks/jsonl.js';
import { LogSink, logLine } from '../src/watch/sinks/log.js';
import { WebhookSink } from '../src/watch/sinks/webhook.js';
import { SlackSink, slackPayload } from '../src/watch/sinks/slack.js';
import {
  AlertmanagerSink,
  alertsEndpoint,
  type PostableAlert,
} from '../src/watch/sinks/alertmanager.js';
import { headersFromEnv } from '../src/watch/sinks/http.js';
import { COLOR, PLAIN } from '../src/render/style.js';
import type { Frame } from '../src/model/frame.js';
import type { AlertEvent, AlertSink } from '../src/watch/types.js';

// ---------------------------------------------------------------------------------------------
// A real HTTP receiver on 127.0.0.1 that records requests and answers as told.

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What to answer to the n-th request (0-based): a status and body, or 'hang' (never answer). */
type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

interface Receiver {
  url: string;
  got: Received[];
  /** Resolves with request number `n` (0-based) once it has arrived. */
  request(n: number): Promise<Received>;
  close(): Promise<void>;
}

const receivers: Receiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});

async function receiver(
  answer: (req: Received, n: number) => Answer = () => ({ status: 200 }),
): Promise<Receiver> {
  const got: Received[] = [];
  const waiters = new Map<number, ((r: Received) => void)[]>();
  const hung: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const n = got.push(r) - 1;
      const a = answer(r, n);
      if (a === 'hang') hung.push(res);
      else {
        res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
        res.end(a.body ?? (a.status < 300 ? 'ok' : 'error'));
      }
      for (const w of waiters.get(n) ?? []) w(r);
      waiters.delete(n);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const rec: Receiver = {
    url: `http://127.0.0.1:${port}`,
    got,
    request: (n) =>
      got[n]
        ? Promise.resolve(got[n])
        : new Promise((resolve) => waiters.set(n, [...(waiters.get(n) ?? []), resolve])),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  receivers.push(rec);
  return rec;
}

// ---------------------------------------------------------------------------------------------
// Events shaped like the seed's incident.

const DELIVER: Frame = {
  func: 'main.(*Service).deliver',
  pkg: 'main',
  file: '/src/notify/notify.go',
  line: 144,
};
const BROADCAST: Frame = {
  func: 'main.(*Service).Broadcast',
  pkg: 'main',
  file: '/src/notify/notify.go',
  line: 124,
};

function event(type: 'alert' | 'resolved', over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    type,
    key: 'checkout-api/growth/g7f3',
    target: 'checkout-api',
    detector: 'growth',
    at: type === 'alert' ? '2026-01-10T03:00:00.000Z' : '2026-01-10T04:30:00.000Z',
    summary: 'main.(*Service).deliver (notify/notify.go:144) +1,200/min, 36,000 goroutines',
    group: {
      id: 'g7f3',
      holder: DELIVER,
      createdBy: BROADCAST,
      blockedOn: 'chan send',
      count: 36000,
    },
    evidence: {
      slopePerMin: 1200,
      counts: [
        { at: 1767999600000, value: 12000 },
        { at: 1768001400000, value: 36000 },
      ],
      window: '30m',
      projection: '50,000 in 12 min',
    },
    labels: { env: 'prod', 'app.kubernetes.io/name': 'checkout' },
    ...over,
  };
}

const logs = (): { lines: string[]; log: (l: string) => void } => {
  const lines: string[] = [];
  return { lines, log: (l) => lines.push(l) };
};

/** A sink wrapper that tells when its n-th delivery completed (resolves with the key). */
function observed(inner: AlertSink): AlertSink & { delivered(n: number): Promise<string> } {
  const done: string[] = [];
  const waiters = new Map<number, (k: string) => void>();
  return {
    name: inner.name,
    send: async (e: AlertEvent, signal?: AbortSignal) => {
      await (inner.send as (e: AlertEvent, s?: AbortSignal) => Promise<void>).call(
        inner,
        e,
        signal,
      );
      const n = done.push(e.key) - 1;
      waiters.get(n)?.(e.key);
    },
    delivered: (n) =>
      done[n] !== undefined
        ? Promise.resolve(done[n])
        : new Promise((resolve) => waiters.set(n, resolve)),
  };
}

/** A port nothing listens on (bound, then closed). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function dispatcher(
  sinks: AlertSink[],
  log: (l: string) => void,
  over: Partial<DispatcherOptions> = {},
): AlertDispatcher {
  return new AlertDispatcher(sinks, { retries: 2, backoffMs: 5, timeoutMs: 5000, log, ...over });
}

// ---------------------------------------------------------------------------------------------

describe('log sink', () => {
  it('writes one plain line per event when not a terminal', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const sink = new LogSink(out, { env: {} });
    await sink.send(event('alert'));
    await sink.send(event('resolved'));
    assert.equal(
      text,
      'ALERT  checkout-api  growth  main.(*Service).deliver (notify/notify.go:144) +1,200/min, ' +
        '36,000 goroutines, created by main.(*Service).Broadcast (notify/notify.go:124)\n' +
        'RESOLVED  checkout-api  growth  main.(*Service).deliver (notify/notify.go:144) ' +
        '+1,200/min, 36,000 goroutines, created by main.(*Service).Broadcast (notify/notify.go:124)\n',
    );
    assert.ok(!text.includes('\u001b'));
  });

  it('colors on a terminal, never with NO_COLOR, and keeps one line whatever the input', () => {
    const tty = { isTTY: true } as unknown as NodeJS.WritableStream & { isTTY: boolean };
    const colored = new LogSink(tty, { env: {} });
    const plain = new LogSink(tty, { env: { NO_COLOR: '1' } });
    const line = (s: LogSink, e: AlertEvent): string =>
      logLine(e, (s as unknown as { style: typeof COLOR }).style);
    assert.ok(line(colored, event('alert')).includes('\u001b['));
    assert.ok(!line(plain, event('alert')).includes('\u001b'));
    const nasty = event('alert', { summary: 'two\nlines \u001b[2J', target: 'a\nb' });
    const l = logLine(nasty, PLAIN);
    assert.ok(!l.includes('\n') && !l.includes('\u001b'), l);
    // The holding frame is named even when the summary left it out.
    assert.match(
      logLine(event('alert', { summary: '+5/min' }), PLAIN),
      /^ALERT {2}checkout-api {2}growth {2}main\.\(\*Service\)\.deliver \(notify\/notify\.go:144\): \+5\/min/,
    );
  });
});

describe('jsonl sink', () => {
  it('writes one parseable JSON object per line with the documented fields', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const sink = new JsonlSink(out);
    await sink.send(event('alert', { summary: 'multi\nline' }));
    await sink.send(event('resolved'));
    const lines = text.split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[2], '');
    const a = JSON.parse(lines[0]!) as AlertEvent;
    const r = JSON.parse(lines[1]!) as AlertEvent;
    assert.equal(a.type, 'alert');
    assert.equal(r.type, 'resolved');
    for (const o of [a, r]) {
      assert.equal(o.target, 'checkout-api');
      assert.equal(o.detector, 'growth');
      assert.deepEqual(Object.keys(o.group!).sort(), [
        'blockedOn',
        'count',
        'createdBy',
        'holder',
        'id',
      ]);
      // Frames stay objects in JSON.
      assert.deepEqual(o.group!.holder, DELIVER);
      assert.deepEqual(o.group!.createdBy, BROADCAST);
      assert.equal(o.group!.blockedOn, 'chan send');
      assert.equal(o.group!.count, 36000);
      assert.equal((o.evidence as { slopePerMin: number }).slopePerMin, 1200);
    }
    assert.deepEqual(a, event('alert', { summary: 'multi\nline' }));
    assert.equal(jsonLine(event('alert')), JSON.stringify(event('alert')));
  });
});

describe('webhook sink', () => {
  it('POSTs the event as JSON with the caller-given headers', async () => {
    const rx = await receiver();
    const headers = headersFromEnv(
      { Authorization: 'LW_TEST_HOOK_AUTH', 'X-Team': 'LW_TEST_TEAM' },
      { LW_TEST_HOOK_AUTH: 'Bearer hook-token-123', LW_TEST_TEAM: 'payments' },
    );
    const sink = new WebhookSink({ url: `${rx.url}/hooks/leakwatch?x=1`, headers });
    assert.equal(sink.name, `webhook(${rx.url})`);
    await sink.send(event('alert'));
    const r = rx.got[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/hooks/leakwatch?x=1');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers.authorization, 'Bearer hook-token-123');
    assert.equal(r.headers['x-team'], 'payments');
    assert.deepEqual(JSON.parse(r.body), event('alert'));
  });

  it('turns user-info in the URL into Basic auth', async () => {
    const rx = await receiver();
    const sink = new WebhookSink({ url: rx.url.replace('//', '//alice:s%40cret@') + '/x' });
    assert.ok(!sink.name.includes('alice') && !sink.name.includes('cret'));
    await sink.send(event('alert'));
    const auth = rx.got[0]!.headers.authorization!;
    assert.equal(Buffer.from(auth.replace('Basic ', ''), 'base64').toString(), 'alice:s@cret');
  });

  it('names a missing environment variable, not a value', () => {
    assert.throws(
      () => headersFromEnv({ Authorization: 'LW_TEST_MISSING' }, {}),
      /LW_TEST_MISSING is not set/,
    );
  });
});

describe('slack sink', () => {
  it('sends text plus blocks with summary, group, creation site and evidence', async () => {
    const rx = await receiver();
    const sink = new SlackSink({ url: `${rx.url}/services/T000/B000/XXXX` });
    await sink.send(event('alert'));
    await sink.send(event('resolved'));
    const [a, r] = rx.got.map(
      (g) => JSON.parse(g.body) as { text: string; blocks: Record<string, unknown>[] },
    );
    for (const p of [a!, r!]) {
      assert.equal(typeof p.text, 'string');
      assert.ok(Array.isArray(p.blocks) && p.blocks.length >= 4);
      for (const b of p.blocks) assert.equal(typeof b.type, 'string');
      assert.equal(p.blocks[0]!.type, 'header');
      const all = JSON.stringify(p.blocks);
      for (const want of [
        'checkout-api',
        'growth',
        'main.(*Service).deliver /src/notify/notify.go:144',
        'main.(*Service).Broadcast /src/notify/notify.go:124',
        'chan send',
        '36,000',
        'slopePerMin',
        '12,000 → 36,000',
        '50,000 in 12 min',
      ]) {
        assert.ok(all.includes(want), `blocks lack ${want}`);
      }
      // Every section field is mrkdwn text within Slack's limits.
      for (const b of p.blocks) {
        for (const f of (b.fields as { type: string; text: string }[] | undefined) ?? []) {
          assert.equal(f.type, 'mrkdwn');
          assert.ok(f.text.length <= 2000);
        }
      }
    }
    assert.match(a!.text, /^ALERT: checkout-api growth: /);
    assert.match(r!.text, /^RESOLVED: checkout-api growth: /);
    assert.match(JSON.stringify(r!.blocks[0]), /RESOLVED/);
    assert.doesNotMatch(JSON.stringify(a!.blocks), /RESOLVED|Resolved/);
  });

  it('never lets user text act as Slack markup', () => {
    const p = slackPayload(event('alert', { summary: '<!channel> & <http://x|y>' }));
    // mrkdwn (the top-level text, the fields) is escaped; the rest is plain_text, unparsed.
    assert.ok(!p.text.includes('<!channel>'));
    assert.ok(p.text.includes('&lt;!channel&gt; &amp;'));
    const mrkdwn: string[] = [];
    const plain: string[] = [];
    JSON.stringify(p.blocks, (_k, v: unknown) => {
      const o = v as { type?: string; text?: unknown };
      if (o && typeof o.text === 'string') (o.type === 'mrkdwn' ? mrkdwn : plain).push(o.text);
      return v;
    });
    assert.ok(mrkdwn.length > 0 && mrkdwn.every((t) => !t.includes('<!channel>')));
    assert.ok(
      plain.some((t) => t.includes('<!channel>')),
      'the summary is shown as typed',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// An Alertmanager-shaped receiver: validates what Alertmanager's v2 API validates.

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

function validateV2(r: Received): PostableAlert[] {
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/api/v2/alerts');
  assert.match(r.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(r.body) as unknown;
  assert.ok(Array.isArray(body), 'body must be an array of alerts');
  for (const a of body as Record<string, unknown>[]) {
    const allowed = ['labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL'];
    for (const k of Object.keys(a)) assert.ok(allowed.includes(k), `unknown field ${k}`);
    const labels = a.labels as Record<string, unknown>;
    assert.ok(labels && typeof labels === 'object' && Object.keys(labels).length > 0);
    for (const [k, v] of Object.entries(labels)) {
      assert.match(k, /^[a-zA-Z_][a-zA-Z0-9_]*$/, `label name ${k}`);
      assert.ok(typeof v === 'string' && v !== '', `label ${k} must be a non-empty string`);
    }
    assert.equal(typeof labels.alertname, 'string');
    for (const v of Object.values((a.annotations ?? {}) as Record<string, unknown>)) {
      assert.equal(typeof v, 'string');
    }
    for (const t of ['startsAt', 'endsAt'] as const) {
      if (a[t] !== undefined) assert.match(String(a[t]), RFC3339, t);
    }
    if (a.startsAt && a.endsAt) {
      assert.ok(Date.parse(String(a.startsAt)) <= Date.parse(String(a.endsAt)), 'start > end');
    }
    if (a.generatorURL !== undefined) assert.doesNotThrow(() => new URL(String(a.generatorURL)));
  }
  return body as PostableAlert[];
}

describe('alertmanager sink', () => {
  it('posts v2 alerts: labels, annotations, endsAt ahead while firing, at resolution after', async () => {
    const rx = await receiver();
    const now = Date.parse('2026-01-10T03:05:00.000Z');
    const sink = new AlertmanagerSink({
      url: rx.url,
      resendIntervalMs: 60_000,
      now: () => now,
      generatorURL: (e) => `http://127.0.0.1:7070/alerts?key=${encodeURIComponent(e.key)}`,
    });
    await sink.send(event('alert'));
    await sink.send(event('resolved'));
    const [fire] = validateV2(rx.got[0]!);
    const [done] = validateV2(rx.got[1]!);
    for (const a of [fire!, done!]) {
      assert.deepEqual(a.labels, {
        alertname: 'GoroutineLeak',
        target: 'checkout-api',
        detector: 'growth',
        group: 'g7f3',
        env: 'prod',
        app_kubernetes_io_name: 'checkout',
      });
      assert.equal(a.annotations.holder, 'main.(*Service).deliver /src/notify/notify.go:144');
      assert.equal(a.annotations.created_by, 'main.(*Service).Broadcast /src/notify/notify.go:124');
      assert.match(a.annotations.summary!, /\+1,200\/min/);
      assert.match(a.annotations.description!, /chan send/);
      assert.equal(JSON.parse(a.annotations.evidence!).slopePerMin, 1200);
      assert.equal(a.generatorURL, 'http://127.0.0.1:7070/alerts?key=checkout-api%2Fgrowth%2Fg7f3');
    }
    assert.equal(fire!.startsAt, '2026-01-10T03:00:00.000Z');
    // Firing: endsAt in the future, 4 × the re-send interval, as Prometheus does.
    assert.equal(fire!.endsAt, new Date(now + 4 * 60_000).toISOString());
    // Resolved: endsAt is when it resolved; startsAt is the alert's own.
    assert.equal(done!.endsAt, '2026-01-10T04:30:00.000Z');
    assert.equal(done!.startsAt, '2026-01-10T03:00:00.000Z');
  });

  it('a whole-process alert has no group label; identity labels win over target labels', () => {
    const sink = new AlertmanagerSink({ url: 'http://127.0.0.1:9/am/' });
    const e = event('alert', {
      detector: 'peak',
      group: undefined,
      labels: { target: 'spoof', alertname: 'X', group: 'y', '1bad': 'v', empty: '' },
    });
    const [a] = sink.body([e]);
    assert.deepEqual(a!.labels, {
      alertname: 'GoroutineLeak',
      target: 'checkout-api',
      detector: 'peak',
      _1bad: 'v',
    });
    assert.equal(
      alertsEndpoint(new URL('http://h:9093/am/')).href,
      'http://h:9093/am/api/v2/alerts',
    );
    assert.equal(
      alertsEndpoint(new URL('http://h:9093/api/v2/alerts')).href,
      'http://h:9093/api/v2/alerts',
    );
  });

  it('re-sends firing alerts on resendFiring(), with endsAt moved forward', async () => {
    const rx = await receiver();
    let now = Date.parse('2026-01-10T03:05:00.000Z');
    const am = new AlertmanagerSink({ url: rx.url, resendIntervalMs: 30_000, now: () => now });
    const hook = await receiver();
    const { log } = logs();
    const d = dispatcher([am, new WebhookSink({ url: hook.url })], log);
    d.publish(event('alert'));
    await d.flush();
    now += 30_000;
    assert.equal(d.resendFiring(), 1, 'queued for Alertmanager only');
    await d.flush();
    assert.equal(rx.got.length, 2);
    assert.equal(hook.got.length, 1, 'the webhook is not re-sent to');
    const [a1] = validateV2(rx.got[0]!);
    const [a2] = validateV2(rx.got[1]!);
    assert.equal(a2!.startsAt, a1!.startsAt);
    assert.equal(Date.parse(a2!.endsAt!) - Date.parse(a1!.endsAt!), 30_000);
    d.publish(event('resolved'));
    await d.flush();
    assert.equal(d.resendFiring(), 0, 'nothing firing after the resolution');
    const [r] = validateV2(rx.got[2]!);
    assert.equal(r!.endsAt, '2026-01-10T04:30:00.000Z');
    await d.close();
  });
});

// ---------------------------------------------------------------------------------------------

describe('dispatcher', () => {
  it('dedupes: an alert twice goes out once, its resolution once, a stray resolution never', async () => {
    const rx = await receiver();
    const { log, lines } = logs();
    const d = dispatcher([new WebhookSink({ url: rx.url })], log);
    d.publish(event('alert'));
    d.publish(event('alert', { summary: 'still growing' }));
    d.publish(event('resolved'));
    d.publish(event('resolved'));
    d.publish(event('resolved', { key: 'never-fired' }));
    await d.flush();
    assert.deepEqual(
      rx.got.map((g) => (JSON.parse(g.body) as AlertEvent).type),
      ['alert', 'resolved'],
    );
    // Firing again after the resolution is a new alert.
    d.publish(event('alert'));
    await d.flush();
    assert.equal(rx.got.length, 3);
    assert.deepEqual(d.status()[`webhook(${rx.url})`], {
      sent: 3,
      failed: 0,
      dropped: 0,
      retried: 0,
      pending: 0,
      failing: false,
    });
    assert.deepEqual(lines, []);
    await d.close();
  });

  it('restore(): open alerts from history are not re-sent, and their resolution goes out', async () => {
    const rx = await receiver();
    const d = dispatcher([new WebhookSink({ url: rx.url })], logs().log);
    d.restore([event('alert')]);
    d.publish(event('alert'));
    d.publish(event('resolved'));
    await d.flush();
    assert.deepEqual(
      rx.got.map((g) => (JSON.parse(g.body) as AlertEvent).type),
      ['resolved'],
    );
    await d.close();
  });

  it('publish() returns before any sink runs', async () => {
    const calls: string[] = [];
    const sink: AlertSink = {
      name: 'sync',
      send: async () => {
        calls.push('send');
      },
    };
    const d = dispatcher([sink], logs().log);
    d.publish(event('alert'));
    calls.push('returned');
    await d.flush();
    assert.deepEqual(calls, ['returned', 'send']);
    await d.close();
  });

  it('a sink answering 500 twice then 200 gets the event once, after retries', async () => {
    const rx = await receiver((_r, n) => (n < 2 ? { status: 500 } : { status: 200 }));
    const { log, lines } = logs();
    const d = dispatcher([new WebhookSink({ url: rx.url })], log, { retries: 3 });
    d.publish(event('alert'));
    await d.flush();
    assert.equal(rx.got.length, 3);
    for (const g of rx.got) assert.deepEqual(JSON.parse(g.body), event('alert'));
    const s = d.status()[`webhook(${rx.url})`]!;
    assert.equal(s.sent, 1);
    assert.equal(s.failed, 0);
    assert.equal(s.retried, 2);
    assert.equal(s.failing, false);
    assert.deepEqual(lines, [], 'retries that end in success log nothing');
    await d.close();
  });

  it('a 400 is not retried; the failure is counted, visible and logged once per streak', async () => {
    let healthy = false;
    const rx = await receiver(() =>
      healthy ? { status: 200 } : { status: 400, body: 'invalid_payload' },
    );
    const { log, lines } = logs();
    const d = dispatcher([new SlackSink({ url: `${rx.url}/services/T/B/abc` })], log, {
      retries: 4,
    });
    const name = `slack(${rx.url})`;
    d.publish(event('alert'));
    d.publish(event('alert', { key: 'k2' }));
    await d.flush();
    assert.equal(rx.got.length, 2, 'one request per event: a 400 is not retried');
    let s = d.status()[name]!;
    assert.equal(s.failed, 2);
    assert.equal(s.failing, true);
    assert.match(s.lastError!, /HTTP 400: invalid_payload/);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /failing: HTTP 400/);
    healthy = true;
    d.publish(event('alert', { key: 'k3' }));
    await d.flush();
    s = d.status()[name]!;
    assert.equal(s.sent, 1);
    assert.equal(s.failing, false);
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, /recovered; 2 event\(s\) failed/);
    await d.close();
  });

  it('a sink that never answers does not delay another sink, nor the caller', async () => {
    const hang = await receiver(() => 'hang');
    const ok = await receiver();
    const okSink = observed(new WebhookSink({ url: `${ok.url}/ok` }));
    const { log } = logs();
    const d = dispatcher([new WebhookSink({ url: hang.url }), okSink], log, {
      timeoutMs: 60_000,
    });
    d.publish(event('alert'));
    // The healthy sink delivers it while the hanging one holds its request open, unanswered...
    await Promise.all([hang.request(0), okSink.delivered(0)]);
    d.publish(event('alert', { key: 'k2' }));
    // ...and the next one too, while the first is still stuck.
    assert.equal(await okSink.delivered(1), 'k2');
    await new Promise((r) => setImmediate(r)); // let the dispatcher record the success
    const st = d.status();
    assert.equal(st[okSink.name]!.sent, 2);
    assert.equal(st[okSink.name]!.pending, 0);
    assert.equal(st[`webhook(${hang.url})`]!.sent, 0);
    assert.equal(st[`webhook(${hang.url})`]!.pending, 2);
    assert.equal(hang.got.length, 1, 'the hanging sink is still on its first event');
    await d.close();
    assert.equal(d.status()[`webhook(${hang.url})`]!.dropped, 2);
  });

  it('close(grace) lets a request in flight finish within the grace', async () => {
    // A delivery that completes when the test says so, after close() was called.
    let answer!: () => void;
    const held = new Promise<void>((r) => (answer = r));
    const sink: AlertSink = {
      name: 'held',
      send: () => held,
    };
    const { log } = logs();
    const d = dispatcher([sink], log, { timeoutMs: 60_000 });
    d.publish(event('alert'));
    await new Promise((r) => setImmediate(r));
    const closing = d.close(60_000);
    answer();
    await closing;
    assert.deepEqual(
      { sent: d.status().held!.sent, dropped: d.status().held!.dropped },
      { sent: 1, dropped: 0 },
    );
  });

  it('close(grace) aborts what is still in flight after it: the receiver sees the request go', async () => {
    let arrived!: () => void;
    let gone!: () => void;
    const inFlight = new Promise<void>((r) => (arrived = r));
    const aborted = new Promise<void>((r) => (gone = r));
    const server = createServer((_req, res) => {
      res.on('close', () => gone());
      arrived();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { log, lines } = logs();
    const d = dispatcher([new WebhookSink({ url })], log, { timeoutMs: 60_000 });
    d.publish(event('alert'));
    d.publish(event('alert', { key: 'k2' }));
    await inFlight;
    await d.close(20);
    // The request was cancelled, not left to the 60 s timeout; both events are counted.
    await aborted;
    assert.equal(d.status()[`webhook(${url})`]!.dropped, 2);
    assert.ok(
      lines.some((l) => /closed with 1 event\(s\) unsent/.test(l)),
      lines.join('\n'),
    );
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('times out a hanging request, retries it, and reports the failure', async () => {
    const hang = await receiver(() => 'hang');
    const { log, lines } = logs();
    const d = dispatcher([new WebhookSink({ url: hang.url })], log, {
      timeoutMs: 50,
      retries: 1,
    });
    d.publish(event('alert'));
    await d.flush();
    assert.equal(hang.got.length, 2, 'first attempt and one retry');
    const s = d.status()[`webhook(${hang.url})`]!;
    assert.equal(s.failed, 1);
    assert.match(s.lastError!, /timed out after 50 ms/);
    assert.equal(lines.length, 1);
    await d.close();
  });

  it('the timeout holds even for a sink that ignores its AbortSignal', async () => {
    const never: AlertSink = { name: 'deaf', send: () => new Promise<void>(() => {}) };
    const { log } = logs();
    const d = dispatcher([never], log, { timeoutMs: 20, retries: 0 });
    d.publish(event('alert'));
    await d.flush();
    assert.equal(d.status().deaf!.failed, 1);
    await d.close();
  });

  it('bounds each queue: the oldest are dropped, counted and logged', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    const slow: AlertSink = {
      name: 'slow',
      send: async (e) => {
        await gate;
        seen.push(e.key);
      },
    };
    const { log, lines } = logs();
    const d = dispatcher([slow], log, { maxQueue: 2, timeoutMs: 60_000 });
    d.publish(event('alert', { key: 'k1' }));
    await new Promise((r) => setImmediate(r)); // k1 is now in flight
    for (const k of ['k2', 'k3', 'k4', 'k5']) d.publish(event('alert', { key: k }));
    assert.equal(d.status().slow!.dropped, 2);
    assert.equal(d.status().slow!.pending, 3);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /queue full \(2\), dropping the oldest events \(first: alert k2\)/);
    release();
    await d.flush();
    assert.deepEqual(seen, ['k1', 'k4', 'k5']);
    assert.match(lines.at(-1)!, /2 event\(s\) dropped while its queue was full/);
    await d.close();
  });

  it('keeps per-sink order: a resolution never overtakes its alert', async () => {
    const rx = await receiver((_r, n) => (n === 0 ? { status: 503 } : { status: 200 }));
    const d = dispatcher([new WebhookSink({ url: rx.url })], logs().log);
    d.publish(event('alert'));
    d.publish(event('resolved'));
    await d.flush();
    assert.deepEqual(
      rx.got.map((g) => (JSON.parse(g.body) as AlertEvent).type),
      ['alert', 'alert', 'resolved'],
    );
    await d.close();
  });

  it('never logs or reports a secret: header values, URL tokens, echoed bodies', async () => {
    const token = 'sk-live-9f8e7d6c5b4a';
    // A receiver that echoes the request's Authorization header in its error body.
    const rx = await receiver((r) => ({ status: 500, body: `denied: ${r.headers.authorization}` }));
    const slackRx = await receiver(() => ({ status: 404, body: 'no_service' }));
    const slackPath = '/services/T0SECRET/B0SECRET/hooksecretpart';
    const closedPort = await freePort();
    const { log, lines } = logs();
    const sinks = [
      new WebhookSink({
        url: `${rx.url}/hook?token=querysecret`,
        headers: headersFromEnv({ Authorization: 'LW_TOKEN' }, { LW_TOKEN: `Bearer ${token}` }),
      }),
      new SlackSink({ url: `${slackRx.url}${slackPath}` }),
      new WebhookSink({ url: `http://bob:pw-secret-42@127.0.0.1:${closedPort}/refused` }),
    ];
    const d = dispatcher(sinks, log, { retries: 1, backoffMs: 1 });
    d.publish(event('alert'));
    await d.flush();
    assert.equal(rx.got[0]!.headers.authorization, `Bearer ${token}`, 'the header was sent');
    const everything = JSON.stringify(d.status()) + lines.join('\n') + sinks.map((s) => s.name);
    assert.equal(lines.length, 3, lines.join('\n'));
    for (const secret of [token, 'querysecret', 'T0SECRET', 'hooksecretpart', 'pw-secret-42']) {
      assert.ok(!everything.includes(secret), `${secret} leaked: ${everything}`);
    }
    assert.match(everything, /HTTP 500: denied: \[redacted\]/);
    assert.match(everything, /ECONNREFUSED/);
    await d.close();
  });
});
