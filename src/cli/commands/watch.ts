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
import { Fleet, isFleetStore } from '../../watch/fleet.js';
import type { AlertEvent, AlertSink, Target } from '../../watch/types.js';
import { renderStatus } from '../../watch/view.js';
import { Watcher, type WatchOptions } from '../../watch/watcher.js';
import type { Frame } from '../../model/frame.js';
import type { Command } from 'commander';
import { collect, wholeNumber, type Cli, type Io } from '../context.js';
import { Discovery, type DiscoveryOptions } from '../../watch/discovery/index.js';
import { checkTemplate } from '../../watch/discovery/sd.js';

export interface WatchFlags {
  /** A line under the live view's header (the demo puts its dashboard's address there). */
  note?: string;
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
  // Service discovery (optional: `demo` starts a watch without it).
  fileSd?: string[];
  httpSd?: string[];
  prometheus?: string;
  prometheusJob?: string[];
  prometheusMatch?: string[];
  pprofPort?: string;
  pprofPath?: string;
  targetName?: string;
  sdRefresh?: string;
  sdMaxTargets?: number;
  /** This replica's id in a fleet on PostgreSQL (default host:pid). */
  replicaId?: string;
}

interface WatchSession {
  watcher: Watcher;
  /** On a PostgreSQL --db: this replica's share of the fleet. */
  fleet?: Fleet;
  api?: Server;
  stop(): Promise<void>;
  /** Resolves when the session stops (signal or --duration). */
  done: Promise<void>;
  /** Every alert and resolution published so far, oldest first (at most 1,000). */
  alerts(): AlertEvent[];
}

const MAX_METRICS_GROUPS = 100;

function loadTargets(urls: string[], f: WatchFlags, discovering: boolean): Target[] {
  const interval = parseDuration(f.interval, '--interval');
  const t = [
    ...(f.config ? targetsFromFile(f.config, interval) : []),
    ...targetsFromUrls(urls, interval),
  ];
  if (t.length === 0 && !discovering)
    throw new UserError(
      'no targets: give URLs (http://host:port), --config FILE, --file-sd, --http-sd or --prometheus',
    );
  const seen = new Set<string>();
  for (const x of t) {
    if (seen.has(x.name)) throw new UserError(`two targets are named "${x.name}"`);
    seen.add(x.name);
  }
  return t;
}

/** Service discovery from the flags (nothing read yet); bad flags are UserErrors. */
function discoveryOf(f: WatchFlags, log: (line: string) => void): Discovery {
  const o: DiscoveryOptions = {
    fileSd: f.fileSd ?? [],
    httpSd: f.httpSd ?? [],
    prometheus: f.prometheus,
    prometheusJobs: f.prometheusJob ?? [],
    prometheusMatch: f.prometheusMatch ?? [],
    intervalMs: parseDuration(f.interval, '--interval'),
    refreshMs: parseDuration(f.sdRefresh ?? '30s', '--sd-refresh'),
    timeoutMs: parseDuration(f.timeout, '--timeout'),
    maxTargets: Math.max(1, f.sdMaxTargets ?? 10_000),
    log,
  };
  if (!o.prometheus && (o.prometheusJobs.length > 0 || o.prometheusMatch.length > 0))
    throw new UserError('--prometheus-job and --prometheus-match need --prometheus URL');
  if (f.targetName !== undefined) o.nameTemplate = checkTemplate(f.targetName, '--target-name');
  if (f.pprofPort !== undefined) {
    if (!/^\d+$/.test(f.pprofPort)) checkTemplate(f.pprofPort, '--pprof-port');
    else if (Number(f.pprofPort) < 1 || Number(f.pprofPort) > 65535)
      throw new UserError(`--pprof-port ${f.pprofPort}: expected a port (1-65535) or a {label}`);
    o.port = f.pprofPort;
  }
  if (f.pprofPath !== undefined) {
    if (!/^\/[\w./~-]*$/.test(f.pprofPath))
      throw new UserError(`--pprof-path ${printable(f.pprofPath)}: expected a path like /admin`);
    o.path = f.pprofPath;
  }
  return new Discovery(o);
}

export async function startWatch(urls: string[], f: WatchFlags, io: Io): Promise<WatchSession> {
  // Lines quote targets' errors and profiles: one line each, no control characters.
  const log = (line: string): void => void io.stderr.write(`leakwatch: ${printable(line)}\n`);
  // Each group is a series per target in Prometheus: the bound keeps a fleet's cardinality known.
  const metricsGroups = f.metricsGroups ?? 5;
  if (metricsGroups > MAX_METRICS_GROUPS)
    throw new UserError(
      `--metrics-groups ${metricsGroups}: at most ${MAX_METRICS_GROUPS} groups per target`,
    );
  const peakFactor = Number(f.peakFactor);
  if (!(peakFactor > 1))
    throw new UserError(`--peak-factor ${f.peakFactor}: must be a number above 1`);
  const discovery = discoveryOf(f, log);
  discovery.setStatic(loadTargets(urls, f, discovery.dynamic));
  // Discovery may change the list before the watcher exists: run() sets the receiver.
  let setTargets = (_all: Target[]): void => undefined;
  const targets = await discovery.start((all) => setTargets(all));
  try {
    return await run(urls, f, io, log, discovery, targets, peakFactor, (set) => (setTargets = set));
  } catch (err) {
    discovery.stop();
    throw err;
  }
}

async function run(
  urls: string[],
  f: WatchFlags,
  io: Io,
  log: (line: string) => void,
  discovery: Discovery,
  targets: Target[],
  peakFactor: number,
  onTargets: (set: (all: Target[]) => void) => void,
): Promise<WatchSession> {
  // One watcher per file: a second one on the same database would double every series.
  if (f.replicaId !== undefined && !/^postgres(ql)?:\/\//i.test(f.db))
    throw new UserError(
      `--replica-id ${f.replicaId}: replicas share a PostgreSQL --db (postgres://...), not a SQLite file`,
    );
  const store = await openStore(f.db, { exclusive: true });
  // On PostgreSQL any number of watchers share the targets (fleet.ts); SQLite has one per file.
  const fleet = isFleetStore(store)
    ? new Fleet({
        store,
        id: f.replicaId,
        // The shortest interval of any target: a dead replica's targets wait at most 3 of them.
        intervalMs: Math.max(
          250,
          Math.min(parseDuration(f.interval, '--interval'), ...targets.map((t) => t.intervalMs)),
        ),
        apply: (owned) => watcher.setTargets(owned),
        log,
      })
    : undefined;
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
    decide:
      fleet &&
      (async (e) => {
        const send = await fleet.decide(e);
        // Another replica sent it: the dispatcher still learns the key's state, so this
        // replica's later resolution goes out and a re-send to Alertmanager does not revive it.
        if (!send && e.type === 'alert') dispatcher.restore([e]);
        if (!send && e.type === 'resolved') dispatcher.forget((x) => x.key === e.key);
        return send;
      }),
    restore: (open) => dispatcher.restore(open),
    dropped: (target) => dispatcher.forget((e) => e.target === target),
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
      pages: dashboardHandler(store, {
        ...(token ? { token } : {}),
        ...(f.source ? { source: f.source } : {}),
      }),
      store,
      watcher,
      sinks: () => dispatcher.status(),
      fleet: fleet && (() => fleet.view()),
      storeHealth: () => watcher.storeHealth(),
      topN: f.metricsGroups ?? 5,
    });
    const a = api.address();
    if (a && typeof a === 'object')
      log(
        `API on http://${a.address}:${a.port} (/metrics, /api/targets, /api/alerts, /api/sinks); dashboard on http://${a.address}:${a.port}/ui/`,
      );
  }
  // Alerts that were firing when the last watcher stopped: the sinks know them as open (no
  // duplicate), and the watcher resolves those that cleared while nobody watched.
  // The one place where the full target list (static and discovered) reaches the watcher: on
  // start, on every discovery change and on SIGHUP. On PostgreSQL the fleet takes this
  // replica's share of it (fleet.ts); alone, the watcher takes all.
  if (fleet) {
    // Each replica restores only the open alerts of the targets it owns (Watcher.restore).
    try {
      await fleet.start(discovery.current());
    } catch (err) {
      // Refused (its id is another live replica's): nothing of this process may stay open.
      watcher.stop();
      api?.closeAllConnections();
      api?.close();
      await dispatcher.close();
      await store.close();
      throw err;
    }
    onTargets((all) => fleet.setTargets(all));
  } else {
    dispatcher.restore(await watcher.restoredAlerts());
    const apply = (all: Target[]): void => watcher.setTargets(all);
    onTargets(apply);
    apply(discovery.current());
  }

  const style = styleFor(io.stdout);
  const header = `leakwatch watch: ${targets.length} target${targets.length === 1 ? '' : 's'}, history in ${f.db}${f.note ? `\n${f.note}` : ''}`;
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
    // In a fleet one replica prunes (the first live one by id): the others would only queue
    // behind its locks.
    if (fleet && !fleet.prunes()) return;
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
    discovery.stop();
    watcher.stop();
    if (viewTimer) clearInterval(viewTimer);
    clearInterval(pruneTimer);
    if (resendTimer) clearInterval(resendTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHup);
    // Leaving first lets the others take this replica's targets at their next heartbeat.
    await fleet?.stop();
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
    let fresh: Target[];
    try {
      fresh = loadTargets(urls, f, discovery.dynamic);
    } catch (err) {
      log(`reload failed, keeping the current targets: ${(err as Error).message}`);
      return;
    }
    discovery.setStatic(fresh);
    void discovery.reload().then(() => log('targets reloaded'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHup);
  if (f.duration) setTimeout(() => void stop(), parseDuration(f.duration, '--duration'));
  return { watcher, fleet, api, stop, done, alerts: () => [...all] };
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
    .option(
      '--file-sd <file>',
      'Prometheus file_sd file, JSON or YAML; reloaded when it changes (repeatable)',
      collect,
      [],
    )
    .option(
      '--http-sd <url>',
      'Prometheus http_sd endpoint, polled every --sd-refresh (repeatable)',
      collect,
      [],
    )
    .option('--prometheus <url>', 'a Prometheus server: watch its active targets (/api/v1/targets)')
    .option(
      '--prometheus-job <job>',
      'only targets of this job (repeatable: any of them)',
      collect,
      [],
    )
    .option(
      '--prometheus-match <matcher>',
      'only targets whose label matches: L=V, L!=V, L=~RE, L!~RE (repeatable: all of them)',
      collect,
      [],
    )
    .option(
      '--pprof-port <port|{label}>',
      "discovered targets' pprof port: a number, or a label holding it",
    )
    .option(
      '--pprof-path <path>',
      'where net/http/pprof is mounted on discovered targets (default /)',
    )
    .option(
      '--target-name <template>',
      'name (history key) of discovered targets from labels, e.g. {namespace}/{service}',
    )
    .option(
      '--sd-refresh <duration>',
      'how often http_sd and Prometheus are polled (and file_sd checked)',
      '30s',
    )
    .option(
      '--sd-max-targets <n>',
      'most targets taken from one discovery source',
      wholeNumber('--sd-max-targets'),
      10_000,
    )
    .option('--duration <duration>', 'stop after this long (default: until SIGINT/SIGTERM)')
    .option('--no-view', 'no live status view on a terminal')
    .option(
      '--replica-id <id>',
      'on a PostgreSQL --db, this replica of the fleet (default host:pid; docs/watch-fleet.md)',
    )
    .action(async (urls: string[], opts: WatchFlags) => {
      cli.exit(await runWatch(urls, opts, cli.io));
    });
}
