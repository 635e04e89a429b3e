/**
 * Targets from service discovery, on real processes: `leakwatch watch` as its own process
 * reading a Prometheus file_sd file (JSON, then YAML) rewritten while it runs, an http_sd
 * endpoint served by this test, and their targets being real notify-server processes scraped
 * over HTTP. What a user checks: /api/targets lists the targets with their labels and names,
 * the SQLite file keeps the labels, a broken file keeps the last good list, and bad sources
 * are one-line errors with exit 2. Then a real Prometheus (its own config: static_configs and
 * file_sd for the same real services): leakwatch takes its active targets filtered by job and
 * label, with the pprof port from a label Prometheus discovered.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UserError } from '../src/errors.js';
import { Namer, parseGroups, toTargets } from '../src/watch/discovery/sd.js';
import { fetchJson } from '../src/watch/discovery/fetch.js';
import { FileSd, HttpSd, parseMatcher } from '../src/watch/discovery/sources.js';
import { openSqliteStore } from '../src/watch/store/sqlite.js';
import type { AlertEvent } from '../src/watch/types.js';
import { Watcher } from '../src/watch/watcher.js';
import {
  BIN,
  buildProgram,
  cliProcess,
  dump,
  findTool,
  noGo,
  serve,
  type Served,
} from './helpers.js';
import { loadRound } from '../src/cli/commands/demo.js';
import { FAST, until, watch } from './watch-helpers.js';

const skip = noGo();
if (skip) console.log(`# skipping the discovery tests on real services: ${skip}`);

interface Status {
  name: string;
  url: string;
  state: string;
  scrapes: number;
  labels?: Record<string, string>;
}

/** `leakwatch watch` as its own process with the API on an ephemeral port. */
async function watchProcess(
  args: string[],
): Promise<{ proc: ChildProcess; stderr: () => string; targets: () => Promise<Status[]> }> {
  const proc = spawn(
    process.execPath,
    [BIN, 'watch', '--listen', '127.0.0.1:0', '--interval', '1s', '--no-view', ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    await until(() => /API on http:\/\/[^:]+:\d+/.test(err), 20_000, 'the API address');
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}; stderr: ${err}`);
  }
  const port = Number(/API on http:\/\/[^:]+:(\d+)/.exec(err)![1]);
  return {
    proc,
    stderr: () => err,
    targets: async () => {
      const r = await fetch(`http://127.0.0.1:${port}/api/targets`);
      return ((await r.json()) as { targets: Status[] }).targets;
    },
  };
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const closed = new Promise((r) => p.once('close', r));
  p.kill('SIGTERM');
  await closed;
}

/** Replaces a file at once, as editors and ConfigMaps do (write aside, rename over). */
function replace(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

const hostPort = (url: string): string => new URL(url).host;

describe('discovery: the Prometheus target-group format', () => {
  it('keeps labels, adds instance, and builds the pprof URL from a port and path option', () => {
    const found = parseGroups(
      [
        {
          targets: ['10.0.0.7:8080', '10.0.0.8:8080'],
          labels: { job: 'checkout', namespace: 'pay', __meta_port: '6061' },
        },
      ],
      'sd.json',
    );
    const { targets, skipped } = toTargets(found, {
      intervalMs: 1000,
      maxTargets: 10,
      port: '{__meta_port}',
      path: '/admin/',
    });
    assert.deepEqual(skipped, []);
    assert.deepEqual(
      targets.map((t) => [t.base, t.target.url, t.target.labels]),
      [
        [
          'checkout/10.0.0.7:8080',
          'http://10.0.0.7:6061/admin',
          { instance: '10.0.0.7:8080', job: 'checkout', namespace: 'pay' },
        ],
        [
          'checkout/10.0.0.8:8080',
          'http://10.0.0.8:6061/admin',
          { instance: '10.0.0.8:8080', job: 'checkout', namespace: 'pay' },
        ],
      ],
    );
    // A port label that is missing leaves the endpoint out, saying why.
    const none = toTargets(parseGroups([{ targets: ['a:1'] }], 'x'), {
      intervalMs: 1,
      maxTargets: 10,
      port: '{__meta_port}',
    });
    assert.equal(none.targets.length, 0);
    assert.match(none.skipped[0]!, /no pprof port/);
  });

  it('refuses what is not the format with one line naming the source', () => {
    const bad: [unknown, RegExp][] = [
      [{ targets: ['a:1'] }, /^f\.json: expected a list of \{"targets"/],
      [[{ labels: {} }], /^f\.json: group 1: "targets" must be a list/],
      [
        [{ targets: ['http://a:1'] }],
        /^f\.json: group 1: target "http:\/\/a:1" is not "host:port"/,
      ],
      [[{ targets: ['a:1'], labels: { 'bad-name': 'x' } }], /label "bad-name" is not a label name/],
      [[{ targets: ['a:1'], labels: { team: { x: 1 } } }], /label team must be a string/],
    ];
    for (const [raw, want] of bad)
      assert.throws(
        () => parseGroups(raw, 'f.json'),
        (e: Error) => e instanceof UserError && want.test(e.message) && !e.message.includes('\n'),
      );
  });

  it('names replicas by slot; a replacement pod takes the slot of the one it replaced', () => {
    const namer = new Namer();
    const round = (...urls: string[]): string[] =>
      namer
        .name(
          urls.map((url) => ({
            base: 'pay/checkout',
            target: { name: '', url, labels: {}, intervalMs: 1 },
          })),
        )
        .map((t) => `${t.name}=${t.url}`)
        .sort();
    assert.deepEqual(round('http://a', 'http://b'), [
      'pay/checkout#2=http://b',
      'pay/checkout=http://a',
    ]);
    // Rolling update: c starts beside a and b, then a goes; c moves into a's slot.
    assert.deepEqual(round('http://a', 'http://b', 'http://c'), [
      'pay/checkout#2=http://b',
      'pay/checkout#3=http://c',
      'pay/checkout=http://a',
    ]);
    assert.deepEqual(round('http://b', 'http://c'), [
      'pay/checkout#2=http://b',
      'pay/checkout=http://c',
    ]);
    // A single replica restarted (old gone, new there in one refresh) keeps the plain name.
    const one = new Namer();
    const name = (url: string): string =>
      one.name([{ base: 'svc', target: { name: '', url, labels: {}, intervalMs: 1 } }])[0]!.name;
    assert.equal(name('http://10.0.0.1:6060'), 'svc');
    assert.equal(name('http://10.0.0.9:6060'), 'svc');
  });

  it('matches labels as PromQL does: =, !=, =~ and !~ (anchored)', () => {
    assert.equal(parseMatcher('namespace=pay').test('pay'), true);
    assert.equal(parseMatcher('namespace="pay"').test('payments'), false);
    assert.equal(parseMatcher('namespace!=pay').test('payments'), true);
    assert.equal(parseMatcher('team=~pay.*').test('payments'), true);
    assert.equal(parseMatcher('team=~pay').test('payments'), false, 'anchored');
    assert.equal(parseMatcher('team!~pay.*').test('search'), true);
    assert.throws(() => parseMatcher('team'), /expected LABEL=VALUE/);
    assert.throws(() => parseMatcher('team=~('), /bad regex/);
  });
});

describe('discovery: bounded', () => {
  it('caps targets per source with one line, and bodies by size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakwatch-sd-cap-'));
    const lines: string[] = [];
    const f = join(dir, 'many.json');
    writeFileSync(f, JSON.stringify([{ targets: ['a:1', 'b:1', 'c:1', 'd:1'] }]));
    const src = new FileSd(f, {
      refreshMs: 60_000,
      timeoutMs: 1000,
      maxTargets: 3,
      log: (l) => lines.push(l),
    });
    try {
      await src.start(() => undefined);
      assert.deepEqual(
        src.current().map((d) => d.labels.instance),
        ['a:1', 'b:1', 'c:1'],
      );
      assert.equal(lines.length, 1);
      assert.match(
        lines[0]!,
        /many\.json: 4 targets, over the cap of 3 per source \(--sd-max-targets\)/,
      );
    } finally {
      src.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const big = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ targets: Array.from({ length: 1000 }, (_, i) => `h${i}:1`) }]));
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    try {
      await assert.rejects(
        fetchJson(`http://127.0.0.1:${(big.address() as { port: number }).port}/`, {
          timeoutMs: 5000,
          maxBytes: 1000,
          expected: 'x',
        }),
        /over the 1000-byte cap/,
      );
    } finally {
      big.close();
    }
  });

  it('stop() aborts an http_sd fetch in flight; a silent one times out', async () => {
    // Accepts and never answers.
    const hang = createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const url = new URL(`http://127.0.0.1:${(hang.address() as { port: number }).port}/sd`);
    try {
      await assert.rejects(
        new HttpSd(url, {
          refreshMs: 60_000,
          timeoutMs: 300,
          maxTargets: 10,
          log: () => undefined,
        }).start(() => undefined),
        /no complete answer within 300 ms/,
      );
      const src = new HttpSd(url, {
        refreshMs: 60_000,
        timeoutMs: 60_000,
        maxTargets: 10,
        log: () => undefined,
      });
      const started = src.start(() => undefined);
      setTimeout(() => src.stop(), 100);
      await assert.rejects(started, /cancelled \(shutting down\)/);
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });
});

describe('labels across a restart under the same name', () => {
  it("a resolution carries the labels its alert fired with; the target's move on", async () => {
    // Real profiles the runtime wrote: the fixed service (3 goroutines), the leaky one (728).
    let profile = readFileSync(dump('notify-fixed.pb.gz'));
    const server = createServer((req, res) => {
      if (req.url !== '/debug/pprof/goroutine') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(profile);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const store = await openSqliteStore(':memory:');
    const events: AlertEvent[] = [];
    const w = new Watcher({
      store,
      publish: (e) => events.push(e),
      detectors: { baselineMs: 500, warmupMs: 0, fireAfter: 1, resolveAfter: 1 },
      scrape: { timeoutMs: 5000, maxBytes: 1 << 26, maxGoroutines: 1_000_000 },
      concurrency: 2,
      leakEvery: 1_000_000,
      heapEvery: 0,
      debug2IntervalMs: 3_600_000,
      debug2MaxGoroutines: 0,
      log: () => undefined,
    });
    const target = (pod: string) => ({
      name: 'pay/checkout',
      url,
      labels: { namespace: 'pay', pod },
      intervalMs: 100,
    });
    try {
      w.setTargets([target('checkout-abc')]);
      // The normal peak (3) is learnt over the first half second; then the leak shows.
      await until(() => (w.status()[0]?.scrapes ?? 0) >= 8, 20_000, 'a baseline');
      profile = readFileSync(dump('notify-leaky.pb.gz'));
      await until(() => events.some((e) => e.type === 'alert'), 20_000, 'the peak alert');
      // The pod comes back under the same name with a new pod label, and is healthy again.
      w.setTargets([target('checkout-xyz')]);
      profile = readFileSync(dump('notify-fixed.pb.gz'));
      await until(() => events.some((e) => e.type === 'resolved'), 20_000, 'the resolution');
      const alert = events.find((e) => e.type === 'alert')!;
      const resolved = events.find((e) => e.type === 'resolved')!;
      assert.equal(alert.detector, 'peak');
      assert.deepEqual(alert.labels, { namespace: 'pay', pod: 'checkout-abc' });
      assert.deepEqual(resolved.labels, alert.labels, 'Alertmanager matches them by labels');
      assert.deepEqual(w.status()[0]!.labels, { namespace: 'pay', pod: 'checkout-xyz' });
      w.stop();
      await w.flush();
      assert.deepEqual((await store.targets())[0]!.labels, {
        namespace: 'pay',
        pod: 'checkout-xyz',
      });
    } finally {
      w.stop();
      await store.close();
      server.close();
    }
  });
});

describe('discovery: file_sd and http_sd on real services', { skip, timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-sd-'));
  let leaky: Served;
  let fixed: Served;
  before(async () => {
    const bin = buildProgram('cmd/notify-server');
    [leaky, fixed] = await Promise.all([
      serve(bin, ['-variant', 'leaky', '-addr', '127.0.0.1:0']),
      serve(bin, ['-variant', 'fixed', '-addr', '127.0.0.1:0']),
    ]);
  });
  after(async () => {
    await Promise.all([leaky?.stop(), fixed?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('file_sd JSON: a rewrite mid-run adds and removes targets; a broken one keeps them', async () => {
    const file = join(dir, 'targets.json');
    const groups = (...g: { targets: string[]; labels: Record<string, string> }[]): string =>
      JSON.stringify(g);
    replace(
      file,
      groups({ targets: [hostPort(leaky.url)], labels: { job: 'notify', variant: 'leaky' } }),
    );
    const db = join(dir, 'json.db');
    const w = await watchProcess(['--file-sd', file, '--sd-refresh', '1s', '--db', db]);
    try {
      const leakyName = `notify/${hostPort(leaky.url)}`;
      const fixedName = `notify/${hostPort(fixed.url)}`;
      const ts = await pollUntil(w.targets, (t) => t.some((x) => x.scrapes > 0));
      assert.deepEqual(
        ts.map((t) => [t.name, t.url, t.labels]),
        [
          [
            leakyName,
            leaky.url,
            { instance: hostPort(leaky.url), job: 'notify', variant: 'leaky' },
          ],
        ],
      );

      // The file now lists the fixed service only: one is added, the other removed.
      replace(
        file,
        groups({ targets: [hostPort(fixed.url)], labels: { job: 'notify', variant: 'fixed' } }),
      );
      await pollUntil(
        w.targets,
        (t) => t.length === 1 && t[0]!.name === fixedName && t[0]!.scrapes > 0,
      );

      // A broken file: one line naming it, and the targets stay.
      replace(file, '[{"targets": ["127.0.0.1:1"');
      await until(() => /targets\.json: not valid JSON/.test(w.stderr()), 10_000, 'the log line');
      const kept = await w.targets();
      assert.deepEqual(
        kept.map((t) => t.name),
        [fixedName],
      );
      assert.equal(w.stderr().match(/not valid JSON/g)!.length, 1, 'logged once');
      assert.match(w.stderr(), /keeping the last 1 targets/);
    } finally {
      await stopProcess(w.proc);
    }
    // The labels are kept with the history.
    const store = await openSqliteStore(db);
    try {
      const stored = await store.targets();
      assert.deepEqual(
        stored.map((t) => [t.name, t.labels.variant]),
        [
          [`notify/${hostPort(fixed.url)}`, 'fixed'],
          [`notify/${hostPort(leaky.url)}`, 'leaky'],
        ].sort(),
      );
    } finally {
      await store.close();
    }
  });

  it('file_sd YAML: names from labels follow a service when its address changes', async () => {
    const file = join(dir, 'targets.yaml');
    const yaml = (addr: string, pod: string): string =>
      [
        '# written by the deploy tooling',
        `- targets: ['${addr}']`,
        '  labels:',
        '    namespace: pay',
        '    service: checkout',
        `    pod: ${pod}`,
        '',
      ].join('\n');
    replace(file, yaml(hostPort(leaky.url), 'checkout-7d9f-abc'));
    const w = await watchProcess([
      '--file-sd',
      file,
      '--sd-refresh',
      '1s',
      '--target-name',
      '{namespace}/{service}',
      '--db',
      join(dir, 'yaml.db'),
    ]);
    try {
      const first = await pollUntil(w.targets, (t) => (t[0]?.scrapes ?? 0) > 0);
      assert.equal(first[0]!.name, 'pay/checkout');
      assert.equal(first[0]!.labels?.pod, 'checkout-7d9f-abc');
      const before = first[0]!.scrapes;
      // The "pod" restarted elsewhere under a new name: same target, its scrapes go on.
      replace(file, yaml(hostPort(fixed.url), 'checkout-7d9f-xyz'));
      const moved = await pollUntil(
        w.targets,
        (t) => t[0]?.url === fixed.url && t[0].scrapes > before,
      );
      assert.deepEqual(
        moved.map((t) => [t.name, t.labels?.pod]),
        [['pay/checkout', 'checkout-7d9f-xyz']],
      );
    } finally {
      await stopProcess(w.proc);
    }
  });

  it("an alert on a discovered target carries the target's labels", async () => {
    const file = join(dir, 'alerting.json');
    replace(
      file,
      JSON.stringify([
        { targets: [hostPort(leaky.url)], labels: { namespace: 'pay', team: 'payments' } },
      ]),
    );
    const w = watch([...FAST, '--file-sd', file, '--db', join(dir, 'alert.db')]);
    // Users who subscribe and vanish: the leaky service's goroutines pile up.
    let loading = true;
    const load = (async () => {
      const bin = buildProgram('cmd/notify-load');
      for (let round = 1; loading; round++) {
        await loadRound(bin, [leaky.url], round);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    try {
      await until(() => w.events.some((e) => e.type === 'alert'), 90_000, 'an alert');
      const e = w.events.find((x) => x.type === 'alert') as unknown as {
        target: string;
        labels: Record<string, string>;
      };
      assert.equal(e.target, hostPort(leaky.url));
      assert.deepEqual(e.labels, {
        instance: hostPort(leaky.url),
        namespace: 'pay',
        team: 'payments',
      });
    } finally {
      loading = false;
      await load;
      await stopProcess(w.proc);
    }
  });

  it('http_sd: polled, its changes followed; an unreachable one later keeps the list', async () => {
    let body = JSON.stringify([{ targets: [hostPort(fixed.url)], labels: { team: 'growth' } }]);
    let status = 200;
    const server: Server = createServer((_, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    const sd = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/sd`;
    const w = await watchProcess([
      '--http-sd',
      sd,
      '--sd-refresh',
      '1s',
      '--db',
      join(dir, 'h.db'),
    ]);
    try {
      const first = await pollUntil(w.targets, (t) => (t[0]?.scrapes ?? 0) > 0);
      assert.deepEqual(
        first.map((t) => [t.name, t.labels]),
        [[hostPort(fixed.url), { instance: hostPort(fixed.url), team: 'growth' }]],
      );
      body = JSON.stringify([
        { targets: [hostPort(fixed.url), hostPort(leaky.url)], labels: { team: 'growth' } },
      ]);
      await pollUntil(w.targets, (t) => t.length === 2);
      status = 503;
      await until(() => /http_sd .*HTTP 503/.test(w.stderr()), 10_000, 'the failure logged');
      assert.equal((await w.targets()).length, 2, 'the last good list is kept');
    } finally {
      await stopProcess(w.proc);
      server.closeAllConnections();
      server.close();
    }
  });
});

const PROM = skip
  ? undefined
  : findTool('prometheus', 'LEAKWATCH_PROMETHEUS', 'prometheus-v0.316.0');
const promSkip =
  skip ??
  (PROM
    ? undefined
    : 'no prometheus binary (set LEAKWATCH_PROMETHEUS, or let .ci/run cache prometheus-v0.316.0)');
if (promSkip && !skip) console.log(`# skipping the Prometheus discovery test: ${promSkip}`);

describe('discovery: a real Prometheus', { skip: promSkip, timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-sd-prom-'));
  const services: Served[] = [];
  let prom: ChildProcess | undefined;
  let promUrl = '';
  let promErr = '';
  before(async () => {
    const bin = buildProgram('cmd/notify-server');
    for (const v of ['leaky', 'fixed', 'fixed'])
      services.push(await serve(bin, ['-variant', v, '-addr', '127.0.0.1:0']));
    const [leaky, fixed, other] = services.map((s) => new URL(s.url));
    // Prometheus scrapes /stats (JSON, so its own scrapes fail: that changes nothing, an
    // active target is listed up or down). Its address is on port 1: the pprof port comes
    // from the __meta_pprof_port label, as a pod annotation would give it in Kubernetes.
    const target = (u: URL, variant: string): string[] => [
      `      - targets: ['127.0.0.1:1']`,
      `        labels: {namespace: pay, variant: ${variant}, __meta_pprof_port: '${u.port}'}`,
    ];
    writeFileSync(
      join(dir, 'other.json'),
      JSON.stringify([{ targets: [other!.host], labels: { namespace: 'search' } }]),
    );
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 5s',
        'scrape_configs:',
        '  - job_name: notify',
        '    metrics_path: /stats',
        '    static_configs:',
        ...target(leaky!, 'leaky'),
        ...target(fixed!, 'fixed'),
        '  - job_name: search',
        '    file_sd_configs:',
        `      - files: ['${join(dir, 'other.json')}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prom = spawn(
      PROM!,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prom.stderr!.on('data', (d: Buffer) => (promErr += d.toString()));
    // Ready, and all three targets discovered.
    let n = 0;
    const end = Date.now() + 60_000;
    while (n < 3) {
      if (prom.exitCode !== null) throw new Error(`prometheus exited: ${promErr}`);
      if (Date.now() > end) throw new Error(`prometheus: ${n} targets after 60 s: ${promErr}`);
      await new Promise((r) => setTimeout(r, 300));
      const r = await fetch(`${promUrl}/api/v1/targets?state=active`).catch(() => undefined);
      if (r?.ok)
        n = ((await r.json()) as { data: { activeTargets: unknown[] } }).data.activeTargets.length;
    }
  });
  after(async () => {
    if (prom && prom.exitCode === null) {
      const gone = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await gone;
    }
    await Promise.all(services.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("watches the job's targets on the pprof port a discovered label gives", async () => {
    const w = await watchProcess([
      '--prometheus',
      promUrl,
      '--prometheus-job',
      'notify',
      '--prometheus-match',
      'namespace=pay',
      '--pprof-port',
      '{__meta_pprof_port}',
      '--target-name',
      '{namespace}/{job}/{variant}',
      '--sd-refresh',
      '1s',
      '--db',
      join(dir, 'w.db'),
    ]);
    try {
      const ts = await pollUntil(w.targets, (t) => t.length === 2 && t.every((x) => x.scrapes > 0));
      const [leaky, fixed] = services;
      assert.deepEqual(ts.map((t) => [t.name, t.url, t.state]).sort(), [
        ['pay/notify/fixed', fixed!.url, 'ok'],
        ['pay/notify/leaky', leaky!.url, 'ok'],
      ]);
      // Prometheus's labels after relabelling are kept; its __ ones are not.
      assert.deepEqual(ts.find((t) => t.name === 'pay/notify/leaky')!.labels, {
        instance: '127.0.0.1:1',
        job: 'notify',
        namespace: 'pay',
        variant: 'leaky',
      });
    } finally {
      await stopProcess(w.proc);
    }
  });

  it("a target of Prometheus's own file_sd, by a label matcher, named {job}/{instance}", async () => {
    const w = await watchProcess([
      '--prometheus',
      promUrl,
      '--prometheus-match',
      'namespace=~sea.*',
      '--sd-refresh',
      '1s',
      '--db',
      join(dir, 'search.db'),
    ]);
    try {
      const other = services[2]!;
      const ts = await pollUntil(w.targets, (t) => t.length === 1 && t[0]!.scrapes > 0);
      assert.deepEqual(
        ts.map((t) => [t.name, t.url, t.labels]),
        [
          [
            `search/${hostPort(other.url)}`,
            other.url,
            { instance: hostPort(other.url), job: 'search', namespace: 'search' },
          ],
        ],
      );
    } finally {
      await stopProcess(w.proc);
    }
  });

  it('a matcher that selects nothing: no error, a line saying 0 targets', async () => {
    const r = await cliProcess([
      'watch',
      '--prometheus',
      promUrl,
      '--prometheus-match',
      'namespace=nowhere',
      '--db',
      join(dir, 'none.db'),
      '--duration',
      '2s',
      '--no-view',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /discovery: 0 targets from 1 source\b/);
  });
});

/** A loopback port that was free a moment ago (Prometheus cannot report one it picked). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise((r) => s.close(r));
  return typeof a === 'object' && a ? a.port : 0;
}

describe('discovery: bad sources are one line and exit 2', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-sd-bad-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const oneLine = (r: { code: number; stderr: string }, want: RegExp): void => {
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, want);
  };
  const run = (args: string[]) =>
    cliProcess(['watch', '--db', join(dir, 'x.db'), '--duration', '1s', '--no-view', ...args]);

  it('a malformed file_sd file names the file and the expected format', async () => {
    const f = join(dir, 'sd.yaml');
    writeFileSync(f, 'targets: [a:1]\n');
    oneLine(await run(['--file-sd', f]), /sd\.yaml: expected a list of \{"targets": \["host:port"/);
    writeFileSync(f, '- targets: [a:1\n');
    oneLine(await run(['--file-sd', f]), /sd\.yaml: not valid YAML/);
    oneLine(await run(['--file-sd', join(dir, 'missing.json')]), /missing\.json: cannot read/);
  });

  it('an unreachable http_sd, and a URL that is not Prometheus', async () => {
    // A port that was just free: nothing listens there.
    const port = await freePort();
    oneLine(
      await run(['--http-sd', `http://127.0.0.1:${port}/sd`]),
      /http:\/\/127\.0\.0\.1:\d+\/sd: cannot connect \(ECONNREFUSED\)/,
    );
    // Something that answers, but is no Prometheus.
    const other = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"hello": "world"}');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const b = other.address();
    try {
      oneLine(
        await run(['--prometheus', `http://127.0.0.1:${typeof b === 'object' && b ? b.port : 0}`]),
        /api\/v1\/targets\?state=active: expected \{"status": "success"/,
      );
    } finally {
      other.close();
    }
    oneLine(await run(['--prometheus-job', 'x']), /need --prometheus URL/);
    oneLine(await run(['--prometheus', 'http://u:p@h:9090']), /credentials in the URL are refused/);
    oneLine(
      await run(['--file-sd', 'x', '--target-name', '{bad-label}']),
      /--target-name "\{bad-label\}": \{bad-label\} is not a label name/,
    );
  });
});

/** Reads until `ok` holds (up to 20 s); returns what it read last. */
async function pollUntil<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 200));
    v = await read();
  }
  assert.ok(ok(v), `not reached; last: ${JSON.stringify(v)}`);
  return v;
}
