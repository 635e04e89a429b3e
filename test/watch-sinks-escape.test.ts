/**
 * Strings from a profile are the target owner's, not ours: a function name with a newline and a
 * forged log line in it, an ESC sequence in a file name, quotes, backslashes and backticks in
 * labels. Each is fed through every output of `watch` (log sink, JSON lines, webhook, Slack,
 * Alertmanager, the terminal view, the dispatcher's log lines) and the output is checked the
 * way its reader would read it: lines counted, JSON parsed back, mrkdwn scanned for markup.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { Frame } from '../src/model/frame.js';
import { json, mrkdwn, printable, promLabel } from '../src/render/escape.js';
import { COLOR, PLAIN } from '../src/render/style.js';
import { AlertDispatcher } from '../src/watch/sinks/dispatch.js';
import { JsonlSink } from '../src/watch/sinks/jsonl.js';
import { LogSink } from '../src/watch/sinks/log.js';
import { SlackSink } from '../src/watch/sinks/slack.js';
import { WebhookSink } from '../src/watch/sinks/webhook.js';
import { AlertmanagerSink } from '../src/watch/sinks/alertmanager.js';
import type { AlertEvent } from '../src/watch/types.js';
import { renderStatus } from '../src/watch/view.js';
import type { TargetStatus } from '../src/watch/watcher.js';

const FORGED = 'ALERT  payments  growth  everything is on fire';
/** Anything a terminal, a log reader or a chat client would act on. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202e\u2028]/;

const HOLDER: Frame = {
  func: `main.evil\n${FORGED}`,
  pkg: 'main',
  file: '/src/\u001b[2J\u001b[31mred.go',
  line: 7,
};
const CREATOR: Frame = {
  func: 'main.spawn```\n<!channel> `x` & "q"',
  pkg: 'main',
  file: 'C:\\src\\spawn.go',
  line: 9,
};

function hostile(type: 'alert' | 'resolved' = 'alert'): AlertEvent {
  return {
    type,
    key: 'shop/growth/g1',
    target: 'shop\u001b]0;pwned\u0007',
    detector: 'growth',
    at: '2026-01-10T03:00:00.000Z',
    summary: `evil +5/min\r\n${FORGED} \u009b31m \u202eright-to-left`,
    group: { id: 'g1', holder: HOLDER, createdBy: CREATOR, blockedOn: 'chan send', count: 5 },
    evidence: { 'slope\nkey': 'v\u001b[0m', counts: [1, 2, 3] },
    labels: { team: 'a"b\\c\nd', 'x\ny': '<@U123>' },
  };
}

/** What is left of a colored line once our own SGR codes are taken out. */
// eslint-disable-next-line no-control-regex
const uncolored = (s: string): string => s.replace(/\u001b\[\d+m/g, '');

function collect(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { out, text: () => text };
}

const servers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of servers) await close();
});

/** A receiver on 127.0.0.1 that answers `status` with `body` and records request bodies. */
async function receiver(status = 200, body = 'ok'): Promise<{ url: string; got: string[] }> {
  const got: string[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      got.push(Buffer.concat(parts).toString('utf8'));
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

describe('escaping: the helpers', () => {
  it('printable() keeps one line and shows what it escaped', () => {
    assert.equal(printable('a\nb\r\tc\u001b[2J'), 'a\\nb\\r\\tc\\x1b[2J');
    assert.equal(printable('\u009b31m \u202e \u2028'), '\\x9b31m \\u202e \\u2028');
    // Ordinary text, Windows paths and non-ASCII names pass as they are.
    assert.equal(printable('C:\\src\\main.go é 日本'), 'C:\\src\\main.go é 日本');
  });

  it('promLabel() escapes as the exposition format defines, nothing a terminal acts on', () => {
    assert.equal(promLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
    assert.equal(promLabel('x\u001b[2Jy\r'), 'x\ufffd[2Jy\ufffd');
  });

  it('mrkdwn() leaves no markup; json() parses back to the same value on one line', () => {
    assert.equal(mrkdwn('<!channel> & <http://x|y>'), '&lt;!channel&gt; &amp; &lt;http://x|y&gt;');
    const v = { s: 'a\nb\u001b\u009b\u202e\u2028' };
    const line = json(v);
    assert.ok(!CONTROL.test(line), line);
    assert.deepEqual(JSON.parse(line), v);
    // Indented (the API's), it still parses, and its strings are still escaped.
    const indented = json({ a: [v] }, 1);
    assert.deepEqual(JSON.parse(indented), { a: [v] });
    assert.ok(!CONTROL.test(indented.replace(/\n/g, '')), indented);
  });
});

describe('escaping: every sink', () => {
  it('log sink: one line per event, no control characters, the newline shown', async () => {
    for (const style of [PLAIN, COLOR]) {
      const { out, text } = collect();
      const sink = new LogSink(out, { style, time: true });
      await sink.send(hostile('alert'));
      await sink.send(hostile('resolved'));
      const lines = uncolored(text()).split('\n');
      assert.equal(lines.length, 3, text());
      assert.equal(lines[2], '');
      for (const l of lines.slice(0, 2)) {
        assert.ok(!CONTROL.test(l), JSON.stringify(l));
        // The forged line is visibly part of the function name, not a line of its own.
        assert.ok(l.includes(`main.evil\\n${FORGED}`), l);
        assert.ok(l.includes('\\x1b[2J'), l);
      }
      assert.match(lines[0]!, /^2026-01-10T03:00:00\.000Z {2}ALERT {2}shop\\x1b\]0;pwned\\x07 /);
      assert.match(lines[1]!, /RESOLVED {2}shop/);
    }
  });

  it('jsonl sink: one line per event that parses back to the event, frames as objects', async () => {
    const { out, text } = collect();
    await new JsonlSink(out).send(hostile());
    const lines = text().split('\n');
    assert.equal(lines.length, 2);
    assert.ok(!CONTROL.test(lines[0]!));
    const back = JSON.parse(lines[0]!) as AlertEvent;
    assert.deepEqual(back, hostile());
    assert.deepEqual(back.group!.holder, HOLDER);
  });

  it('webhook sink: the receiver gets the event exactly', async () => {
    const rx = await receiver();
    await new WebhookSink({ url: rx.url }).send(hostile());
    assert.deepEqual(JSON.parse(rx.got[0]!), hostile());
  });

  it('slack sink: mrkdwn without markup or broken code spans; plain text on one line each', async () => {
    const rx = await receiver();
    await new SlackSink({ url: `${rx.url}/services/T/B/X` }).send(hostile());
    const p = JSON.parse(rx.got[0]!) as { text: string; blocks: Record<string, unknown>[] };
    // The notification text is mrkdwn: no `<` at all (no mention, no link), no control.
    assert.ok(!/[<>]/.test(p.text) && !CONTROL.test(p.text), p.text);
    const mrkdwnTexts: string[] = [];
    const plainTexts: string[] = [];
    JSON.stringify(p.blocks, (_k, v: unknown) => {
      const o = v as { type?: string; text?: unknown };
      if (o && typeof o.text === 'string')
        (o.type === 'mrkdwn' ? mrkdwnTexts : plainTexts).push(o.text);
      return v;
    });
    assert.ok(mrkdwnTexts.length >= 5);
    for (const t of mrkdwnTexts) {
      // `*Title*` on its line, then the value: one line, escaped, code spans closed.
      const [title, value, ...more] = t.split('\n');
      assert.match(title!, /^\*[A-Za-z ]+\*$/);
      assert.equal(more.length, 0, t);
      assert.ok(!/[<>]/.test(value!) && !CONTROL.test(value!), value);
      assert.ok(!value!.includes('```'), value);
      assert.equal(value!.split('`').length % 2, 1, `unbalanced backticks: ${value}`);
    }
    const created = mrkdwnTexts.find((t) => t.startsWith('*Created by*'))!;
    assert.ok(created.includes('&lt;!channel&gt;') && created.includes('&amp;'), created);
    for (const t of plainTexts) {
      // Only the evidence block has lines of its own: a title and one per item.
      const lines = t.split('\n');
      if (t.startsWith('Evidence')) assert.equal(lines.length, 3, t);
      else assert.equal(lines.length, 1, t);
      for (const l of lines) assert.ok(!CONTROL.test(l), l);
    }
  });

  it('alertmanager sink: labels and annotations one line each, the description its own lines', () => {
    const sink = new AlertmanagerSink({ url: 'http://127.0.0.1:9' });
    const [a] = sink.body([hostile()]);
    for (const [k, v] of Object.entries(a!.labels)) {
      assert.match(k, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
      assert.ok(!CONTROL.test(v), `${k}=${v}`);
    }
    for (const [k, v] of Object.entries(a!.annotations)) {
      if (k === 'description') continue;
      assert.ok(!CONTROL.test(v), `${k}=${v}`);
    }
    // Headline, count, holder, creator, evidence: five lines, whatever the strings held.
    const desc = a!.annotations.description!.split('\n');
    assert.equal(desc.length, 5, a!.annotations.description);
    for (const l of desc) assert.ok(!CONTROL.test(l), l);
    assert.equal(a!.annotations.holder, `main.evil\\n${FORGED} /src/\\x1b[2J\\x1b[31mred.go:7`);
    // The evidence annotation is JSON: it parses back to the evidence exactly.
    assert.deepEqual(JSON.parse(a!.annotations.evidence!), hostile().evidence);
  });

  it("dispatcher: a receiver's hostile error body reaches neither the log nor status raw", async () => {
    const rx = await receiver(400, `bad\nleakwatch: ${FORGED}\u001b[2J`);
    const lines: string[] = [];
    const d = new AlertDispatcher([new WebhookSink({ url: rx.url })], {
      retries: 0,
      backoffMs: 1,
      timeoutMs: 5000,
      log: (l) => lines.push(l),
    });
    d.publish(hostile());
    await d.flush();
    await d.close();
    const st = Object.values(d.status())[0]!;
    assert.equal(st.failed, 1);
    assert.ok(!CONTROL.test(st.lastError!), st.lastError);
    assert.equal(lines.length, 1, lines.join('|'));
    assert.ok(!CONTROL.test(lines[0]!), lines[0]);
    assert.ok(lines[0]!.includes('HTTP 400'), lines[0]);
  });
});

describe('escaping: the terminal view', () => {
  it('a target cannot move the cursor or add a line', () => {
    const status: TargetStatus[] = [
      {
        name: 'shop\u001b[H\u001b[2J',
        url: 'http://127.0.0.1:1',
        state: 'failing',
        lastError: 'HTTP 500 \u001b[31mInternal\nleakwatch: forged',
        failures: 3,
        scrapes: 0,
        firing: [],
      },
      {
        name: 'ok',
        url: 'http://127.0.0.1:2',
        state: 'ok',
        lastTotal: 10,
        lastAt: 0,
        failures: 0,
        scrapes: 1,
        firing: ['growth\nfake'],
      },
    ];
    const screen = renderStatus(status, [hostile()], COLOR, 'leakwatch watch', 1000);
    const lines = uncolored(screen).split('\n');
    // Header, blank, column titles, two targets, blank, "Latest alerts:", one alert, final ''.
    assert.equal(lines.length, 9, screen);
    for (const l of lines) assert.ok(!CONTROL.test(l), JSON.stringify(l));
    assert.ok(lines[3]!.startsWith('shop\\x1b[H\\x1b[2J'), lines[3]);
    assert.ok(lines[4]!.includes('growth\\nfake'), lines[4]);
    assert.ok(
      lines[7]!.includes(`shop\\x1b]0;pwned\\x07  growth: evil +5/min\\r\\n${FORGED}`),
      lines[7],
    );
  });
});
