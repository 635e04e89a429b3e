/**
 * `leakwatch watch`: wires targets, the SQLite store, the watcher, alert sinks, the local API
 * and the live view together, and takes them down cleanly on SIGINT/SIGTERM. SIGHUP reloads the
 * targets file without losing history.
 */
import type { Server } from 'node:http';
import { UserError } from '../../errors.js';
import { printable } from '../../render/escape.js';
import { styleFor } from '../../render/style.js';
import { parseListen, startApi } from '../../watch/api.js';
import { DEFAULT_DETECTORS } from '../../watch/detectors.js';
import {
  AlertDispatcher,
  AlertmanagerSink,
  JsonlSink,
  LogSink,
  SlackSink,
  WebhookSink,
} from '../../watch/sinks/index.js';
import { openStore } from '../../watch/store/open.js';
import { parseDuration, targetsFromFile, targetsFromUrls } from '../../watch/targets.js';
import type { AlertEvent, AlertSink, Target } from '../../watch/types.js';
import { renderStatus } from '../../watch/view.js';
import { Watcher, type WatchOptions } from '../../watch/watcher.js';
import type { Frame } from '../../model/frame.js';
import type { Command } from 'commander';
import { wholeNumber, type Cli, type Io } from '../context.js';

export interface WatchFlags {
  config?: string;
  db: string;
  interval: string;
  listen?: string;
  token?: string;
  json?: boolean;
  webhook?: string;
  slack?: string;
  alertmanager?: string;
  timeout: string;
  maxBytes: number;
  maxGoroutines: number;
  concurrency: number;
  leakEvery: number;
  heapEvery: number;
  heapMinMb: number;
  debug2Interval: string;
  debug2Max: number;
  peakFactor: string;
  baseline: string;
  warmup: string;
  growthWindow: string;
  growthMin: number;
  stuckMinutes: number;
  fireAfter: number;
  resolveAfter: number;
  /** Stop after this long (tests and the demo); default: run until a signal. */
  duration?: string;
  source?: string;
  view?: boolean;
  /** Groups per target on /metrics; default 5. */
  metricsGroups?: number;
}

interface WatchSession {
  watcher: Watcher;
  api?: Server;
  stop(): Promise<void>;
  /** Resolves when the session stops (signal or --duration). */
  done: Promise<void>;
  /** Every alert and resolution published so far, oldest first (at most 1,000). */
  alerts(): AlertEvent[];
}

const MAX_METRICS_GROUPS = 100;

function loadTargets(urls: string[], f: WatchFlags): Target[] {
  const interval = parseDuration(f.interval, '--interval');
  const t = [
    ...(f.config ? targetsFromFile(f.config, interval) : []),
    ...targetsFromUrls(urls, interval),
  ];
  if (t.length === 0)
    throw new UserError('no targets: give URLs (http://host:port) or --config FILE');
  const seen = new Set<string>();
  for (const x of t) {
    if (seen.has(x.name)) throw new UserError(`two targets are named "${x.name}"`);
    seen.add(x.name);
  }
  return t;
}

export async function startWatch(urls: string[], f: WatchFlags, io: Io): Promise<WatchSession> {
  const targets = loadTargets(urls, f);
  // Each group is a series per target in Prometheus: the bound keeps a fleet's cardinality known.
  const metricsGroups = f.metricsGroups ?? 5;
  if (metricsGroups > MAX_METRICS_GROUPS)
    throw new UserError(
      `--metrics-groups ${metricsGroups}: at most ${MAX_METRICS_GROUPS} groups per target`,
    );
  const peakFactor = Number(f.peakFactor);
  if (!(peakFactor > 1))
    throw new UserError(`--peak-factor ${f.peakFactor}: must be a number above 1`);
  // Lines quote targets' errors and profiles: one line each, no control characters.
  const log = (line: string): void => void io.stderr.write(`leakwatch: ${printable(line)}\n`);
  // One watcher per file: a second one on the same database would double every series.
  const store = await openStore(f.db, { exclusive: true });
  const sinks: AlertSink[] = [];
  const view = f.view !== false && !f.json && (io.stdout as { isTTY?: boolean }).isTTY === true;
  if (f.json) sinks.push(new JsonlSink(io.stdout));
  else if (!view) sinks.push(new LogSink(io.stdout));
  if (f.webhook) sinks.push(new WebhookSink({ url: f.webhook }));
  if (f.slack) sinks.push(new SlackSink({ url: f.slack }));
  if (f.alertmanager) sinks.push(new AlertmanagerSink({ url: f.alertmanager }));
  const dispatcher = new AlertDispatcher(sinks, {
    retries: 5,
    backoffMs: 500,
    timeoutMs: 10_000,
    log,
  });
  const recent: AlertEvent[] = [];
  const all: AlertEvent[] = [];

  const watcher = new Watcher({
    store,
    publish: (e) => {
      if (all.length < 1000) all.push(e);
      recent.unshift(e);
      recent.length = Math.min(recent.length, 20);
      dispatcher.publish(e);
    },
    detectors: {
      ...DEFAULT_DETECTORS,
      peakFactor,
      baselineMs: parseDuration(f.baseline, '--baseline'),
      warmupMs: f.warmup === '0' || f.warmup === '0s' ? 0 : parseDuration(f.warmup, '--warmup'),
      growthWindowMs: parseDuration(f.growthWindow, '--growth-window'),
      growthMin: f.growthMin,
      stuckMinutes: f.stuckMinutes,
      heapMinBytes: f.heapMinMb * 1024 * 1024,
      fireAfter: Math.max(1, f.fireAfter),
      resolveAfter: Math.max(1, f.resolveAfter),
    },
    scrape: {
      timeoutMs: parseDuration(f.timeout, '--timeout'),
      maxBytes: f.maxBytes,
      maxGoroutines: f.maxGoroutines,
    },
    concurrency: Math.max(1, f.concurrency),
    leakEvery: Math.max(1, f.leakEvery),
    heapEvery: f.heapEvery,
    debug2IntervalMs: parseDuration(f.debug2Interval, '--debug2-interval'),
    debug2MaxGoroutines: f.debug2Max,
    log,
    link: f.source ? await sourceLinker(f.source) : undefined,
  });

  let api: Server | undefined;
  if (f.listen) {
    const { host, port } = parseListen(f.listen);
    const token = f.token ?? process.env.LEAKWATCH_TOKEN;
    const { dashboardHandler } = await import('../../dashboard/server.js');
    api = await startApi({
      host,
      port,
      token,
      pages: dashboardHandler(store, token ? { token } : {}),
      store,
      watcher,
      sinks: () => dispatcher.status(),
      storeHealth: () => watcher.storeHealth(),
      topN: metricsGroups,
    });
    const a = api.address();
    if (a && typeof a === 'object')
      log(
        `API on http://${a.address}:${a.port} (/metrics, /api/targets, /api/alerts, /api/sinks); dashboard on http://${a.address}:${a.port}/ui/`,
      );
  }
  // Alerts that were firing when the last watcher stopped: the sinks know them as open (no
  // duplicate), and the watcher resolves those that cleared while nobody watched.
  dispatcher.restore(await watcher.restoredAlerts());
  watcher.setTargets(targets);

  const style = styleFor(io.stdout);
  const header = `leakwatch watch: ${targets.length} target${targets.length === 1 ? '' : 's'}, history in ${f.db}`;
  const viewTimer = view
    ? setInterval(
        () =>
          io.stdout.write(
            `\u001b[H\u001b[2J${renderStatus(watcher.status(), recent, style, header, Date.now())}`,
          ),
        1000,
      )
    : undefined;
  // Alertmanager forgets alerts that are not re-sent (their endsAt passes): keep firing ones fresh.
  const resendTimer = f.alertmanager
    ? setInterval(() => dispatcher.resendFiring(), 60_000)
    : undefined;
  resendTimer?.unref();
  // Each prune works for at most ~100 ms, so it runs often and keeps up in small steps.
  // A full disk or a read-only file makes prune fail: logged once per streak, never fatal.
  let pruneFailing = false;
  const pruneTimer = setInterval(() => {
    store.prune(Date.now()).then(
      () => {
        if (pruneFailing) log('store: retention works again');
        pruneFailing = false;
      },
      (err: unknown) => {
        if (!pruneFailing) log(`store: retention failed (${(err as Error).message}); will retry`);
        pruneFailing = true;
      },
    );
  }, 15_000);
  pruneTimer.unref();

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return done;
    stopping = true;
    watcher.stop();
    if (viewTimer) clearInterval(viewTimer);
    clearInterval(pruneTimer);
    if (resendTimer) clearInterval(resendTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHup);
    // SIGTERM must end the process within 2 s: in-flight scrapes are aborted by stop(); the
    // sinks get what is left of that budget to deliver, then are closed (aborting requests).
    await dispatcher.close(1500);
    if (api) {
      // Keep-alive clients would hold close() open forever.
      api.closeAllConnections();
      await new Promise<void>((r) => api!.close(() => r()));
    }
    await watcher.flush();
    await store.close();
    resolveDone();
  };
  const onSignal = (): void => void stop();
  const onHup = (): void => {
    try {
      watcher.setTargets(loadTargets(urls, f));
      log('targets reloaded');
    } catch (err) {
      log(`reload failed, keeping the current targets: ${(err as Error).message}`);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHup);
  if (f.duration) setTimeout(() => void stop(), parseDuration(f.duration, '--duration'));
  return { watcher, api, stop, done, alerts: () => [...all] };
}

/**
 * With --source: each alert about a group is linked to the checkout (src/link) before it is
 * sent. Loaded only then (it brings tree-sitter); a directory that is not a Go module is refused
 * at start, not at the first alert.
 */
async function sourceLinker(dir: string): Promise<WatchOptions['link']> {
  const [{ linkGroup }, { linkJson }, { enclosingModule }] = await Promise.all([
    import('../../link/analyze.js'),
    import('../../link/render.js'),
    import('../../link/gomod.js'),
  ]);
  if (enclosingModule(dir) === undefined)
    throw new UserError(`--source ${dir}: no go.mod here or above, expected a Go module checkout`);
  return async (e, info) => {
    const stack: { frames: Frame[]; createdBy?: Frame } = { frames: info.frames };
    if (info.createdBy) stack.createdBy = info.createdBy;
    e.link = linkJson(await linkGroup(dir, { stack, blockedOn: info.blockedOn }));
  };
}

async function runWatch(urls: string[], f: WatchFlags, io: Io): Promise<number> {
  const s = await startWatch(urls, f, io);
  await s.done;
  return 0;
}

export function register(program: Command, cli: Cli): void {
  program
    .command('watch')
    .description(
      'scrape live services (net/http/pprof), keep history, alert on leaks (docs/watch.md)',
    )
    .argument('[urls...]', 'targets: base URLs of net/http/pprof (http://host:port)')
    .option('--config <file>', 'targets file (JSON; docs/watch.md); SIGHUP reloads it')
    .option(
      '--db <file|url>',
      'history: a SQLite file, or postgres://USER@HOST:PORT/DB',
      './leakwatch.db',
    )
    .option('--interval <duration>', 'scrape interval', '15s')
    .option('--listen <host:port>', 'serve /metrics and the JSON API (127.0.0.1 unless --token)')
    .option('--token <token>', 'API token (or LEAKWATCH_TOKEN); required off loopback')
    .option(
      '--metrics-groups <k>',
      'stack groups per target on /metrics: those that rose most (docs/prometheus.md)',
      wholeNumber('--metrics-groups'),
      5,
    )
    .option('--json', 'alert events as JSON lines on stdout')
    .option('--webhook <url>', 'POST alert events as JSON here')
    .option('--slack <url>', 'Slack-compatible incoming webhook')
    .option('--alertmanager <url>', 'Alertmanager base URL (API v2)')
    .option('--timeout <duration>', 'per-request timeout', '10s')
    .option(
      '--max-bytes <n>',
      'largest response accepted, after decompression',
      wholeNumber('--max-bytes'),
      64 * 1024 * 1024,
    )
    .option(
      '--max-goroutines <n>',
      'a target reporting more goroutines fails its scrape',
      wholeNumber('--max-goroutines'),
      5_000_000,
    )
    .option('--concurrency <n>', 'scrapes in flight at once', wholeNumber('--concurrency'), 32)
    .option(
      '--leak-every <n>',
      'goroutineleak profile every N scrapes, when served',
      wholeNumber('--leak-every'),
      20,
    )
    .option(
      '--heap-every <n>',
      'heap profile every N scrapes (0: never)',
      wholeNumber('--heap-every'),
      4,
    )
    .option(
      '--heap-min-mb <n>',
      'smallest heap rise over the growth window that alerts',
      wholeNumber('--heap-min-mb'),
      64,
    )
    .option('--debug2-interval <duration>', 'at most one debug=2 dump per target this often', '10m')
    .option(
      '--debug2-max <n>',
      'no debug=2 dump above this many goroutines',
      wholeNumber('--debug2-max'),
      20_000,
    )
    .option('--peak-factor <x>', 'alert above x times the normal peak', '1.5')
    .option('--baseline <duration>', 'history the normal peak is learnt from', '1h')
    .option('--warmup <duration>', 'ignored after the first scrape or a restart', '2m')
    .option('--growth-window <duration>', 'window for the growth slope', '30m')
    .option(
      '--growth-min <n>',
      'smallest rise over the window that alerts',
      wholeNumber('--growth-min'),
      50,
    )
    .option(
      '--stuck-minutes <n>',
      'blocked this long on a channel or lock alerts',
      wholeNumber('--stuck-minutes'),
      30,
    )
    .option(
      '--fire-after <n>',
      'evaluations in a row before an alert fires',
      wholeNumber('--fire-after'),
      2,
    )
    .option(
      '--resolve-after <n>',
      'clear evaluations in a row before it resolves',
      wholeNumber('--resolve-after'),
      3,
    )
    .option(
      '--source <dir>',
      "checkout of the watched services' Go module: alerts name the source line and the lint finding",
    )
    .option('--duration <duration>', 'stop after this long (default: until SIGINT/SIGTERM)')
    .option('--no-view', 'no live status view on a terminal')
    .action(async (urls: string[], opts: WatchFlags) => {
      cli.exit(await runWatch(urls, opts, cli.io));
    });
}
