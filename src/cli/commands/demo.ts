/**
 * `leakwatch demo`: the seed's story on one machine. Builds the notification service from
 * testdata (leaky and fixed), serves both with real WebSockets and net/http/pprof, drives the
 * same load at both (clients that subscribe and vanish without a close frame, and the messages
 * sent to them), and watches both with `leakwatch watch` tuned to seconds instead of hours.
 * The leaky one alerts within seconds, naming the pump, the heartbeat and the blocked
 * publishers with their creation sites; the fixed one stays silent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.js';
import type { Command } from 'commander';
import type { Cli, Io } from '../context.js';
import { startWatch, type WatchFlags } from './watch.js';
import { interrupted, listenDashboard, type ServedDashboard } from '../../dashboard/listen.js';
import { dashboardHandler } from '../../dashboard/server.js';
import { parseListen } from '../../watch/api.js';
import { openSqliteStore } from '../../watch/store/sqlite.js';

interface DemoFlags {
  duration: string;
  db?: string;
  view?: boolean;
  json?: boolean;
  listen: string;
  /** Undefined: keep serving the dashboard after the watch only when a person is at a terminal. */
  keepServing?: boolean;
}

/**
 * The repository's testdata module: up from this file (dist/src/cli/commands, or dist/ in the
 * bundle) to the clone's root.
 */
function testdataDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'testdata', 'cmd', 'notify-server'))) return join(dir, 'testdata');
  }
  throw new UserError(
    `demo needs the repository's testdata/ (not found above ${fileURLToPath(import.meta.url)}): run it from a clone`,
  );
}

function build(dir: string, out: string, pkg: string): string {
  const bin = join(out, pkg.split('/').pop()!);
  const r = spawnSync('go', ['build', '-o', bin, `./${pkg}`], { cwd: dir, encoding: 'utf8' });
  if (r.error)
    throw new UserError(
      `demo needs Go on PATH to build the notification service (${r.error.message})`,
    );
  if (r.status !== 0)
    throw new UserError(`go build ./${pkg} failed: ${r.stderr.trim().split('\n')[0]}`);
  return bin;
}

function startServer(bin: string, variant: string): Promise<{ url: string; proc: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, ['-variant', variant, '-heartbeat', '30s'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, proc });
    });
    proc.on('exit', (c) =>
      reject(new UserError(`the ${variant} notification service exited (${c}) before serving`)),
    );
  });
}

function runLoad(bin: string, args: string[]): Promise<void> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { stdio: 'ignore' });
    p.on('close', () => resolve());
    p.on('error', () => resolve());
  });
}

/**
 * One round of the demo's load on each service, with notify-load: users subscribe and vanish;
 * some are sent three messages (their pump dies on the second write, the third sender blocks
 * forever), others none (their pump waits forever). The reference-scenario test uses it too.
 */
export async function loadRound(loadBin: string, urls: string[], round: number): Promise<void> {
  await Promise.all(
    urls.map(async (url) => {
      const common = [
        '-url',
        url,
        '-clients',
        '10',
        '-broadcasts',
        '0',
        '-settle',
        '100ms',
        '-pause',
        '20ms',
      ];
      await runLoad(loadBin, [...common, '-publishes', '30', '-user-prefix', `m${round}-`]);
      await runLoad(loadBin, [...common, '-user-prefix', `q${round}-`]);
    }),
  );
}

/**
 * The dashboard over the demo's database, as `leakwatch serve` would show it: a second reader of
 * the file the watcher writes (WAL), so it outlives the watch when asked to.
 */
async function serveDashboard(db: string, listen: string): Promise<ServedDashboard> {
  const { host, port } = parseListen(listen);
  if (!['127.0.0.1', '::1', 'localhost'].includes(host))
    throw new UserError(`--listen ${listen}: the demo serves on this machine only (127.0.0.1)`);
  const store = openSqliteStore(db);
  return listenDashboard(store, dashboardHandler(store), { host, port, listen });
}

async function runDemo(f: DemoFlags, io: Io): Promise<number> {
  const dir = testdataDir();
  const work = mkdtempSync(join(tmpdir(), 'leakwatch-demo-'));
  const say = (s: string): void => void io.stderr.write(`leakwatch demo: ${s}\n`);
  const servers: ChildProcess[] = [];
  let loading = true;
  let dashboard: { url: string; close(): Promise<void> } | undefined;
  // A person at a terminal gets the dashboard until Ctrl-C; a pipe or CI gets an end.
  const keep = f.keepServing ?? (process.stdin.isTTY === true && process.stderr.isTTY === true);
  try {
    say('building the notification service (testdata/notify, leaky and fixed) with Go...');
    const server = build(dir, work, 'cmd/notify-server');
    const load = build(dir, work, 'cmd/notify-load');
    const leaky = await startServer(server, 'leaky');
    const fixed = await startServer(server, 'fixed');
    servers.push(leaky.proc, fixed.proc);
    say(`leaky service on ${leaky.url}, fixed twin on ${fixed.url}; both get the same load`);
    const targets = join(work, 'targets.json');
    writeFileSync(
      targets,
      JSON.stringify({
        interval: '1s',
        targets: [
          { name: 'notify-leaky', url: leaky.url },
          { name: 'notify-fixed', url: fixed.url },
        ],
      }),
    );
    let round = 0;
    // One round before the watch starts, so the normal peak is learnt under load: on a busy
    // machine the first scrapes could otherwise see the idle fixed twin (3 goroutines) and its
    // first load would read as a peak.
    await loadRound(load, [leaky.url, fixed.url], ++round);
    const loop = (async () => {
      while (loading) {
        await loadRound(load, [leaky.url, fixed.url], ++round);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const flags: WatchFlags = {
      config: targets,
      db: f.db ?? join(work, 'demo.db'),
      interval: '1s',
      json: f.json,
      timeout: '5s',
      maxBytes: 64 * 1024 * 1024,
      maxGoroutines: 5_000_000,
      concurrency: 4,
      leakEvery: 5,
      // A minute of a small service's heap is GC sawtooth, not a trend: goroutines tell this story.
      heapEvery: 0,
      heapMinMb: 64,
      debug2Interval: '3s',
      debug2Max: 20_000,
      peakFactor: '1.5',
      baseline: '5s',
      warmup: '0s',
      growthWindow: '30s',
      growthMin: 20,
      stuckMinutes: 30,
      fireAfter: 2,
      resolveAfter: 3,
      duration: f.duration,
      view: f.view,
    };
    say(`watching both for ${f.duration} (Ctrl-C stops sooner); history in ${flags.db}`);
    // Opened first (it creates the file); the watcher then claims it, the dashboard only reads.
    dashboard = await serveDashboard(flags.db, f.listen);
    say(`dashboard on ${dashboard.url} (open it in a browser)`);
    flags.note = `dashboard: ${dashboard.url}`;
    // Ctrl-C during the watch means "stop": then the dashboard does not stay either.
    let stopped = false;
    const mark = (): void => void (stopped = true);
    process.on('SIGINT', mark);
    process.on('SIGTERM', mark);
    const session = await startWatch([], flags, io);
    await session.done;
    process.off('SIGINT', mark);
    process.off('SIGTERM', mark);
    loading = false;
    await loop;
    const alerts = session.alerts();
    for (const name of ['notify-leaky', 'notify-fixed']) {
      const mine = alerts.filter((a) => a.target === name && a.type === 'alert');
      say(
        mine.length === 0
          ? `${name}: no alerts`
          : `${name}: ${mine.length} alert(s): ${mine.map((a) => `${a.detector} ${a.summary}`).join(' | ')}`,
      );
    }
    say(
      "the same leak at the incident's size: node bin/leakwatch.js analyze testdata/dumps/notify-leaky-50847.debug2.txt.gz",
    );
    if (keep && !stopped) {
      for (const p of servers) p.kill('SIGKILL');
      say(`the watch is over; the dashboard stays on ${dashboard.url} until Ctrl-C`);
      await interrupted();
    }
    return 0;
  } finally {
    loading = false;
    for (const p of servers) p.kill('SIGKILL');
    await dashboard?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

export function register(program: Command, cli: Cli): void {
  program
    .command('demo')
    .description(
      "the seed's incident on this machine: a leaky and a fixed notification service under load, watched live",
    )
    .option('--duration <duration>', 'how long to run', '60s')
    .option('--db <file>', 'keep the history here (default: a temporary file)')
    .option('--json', 'alert events as JSON lines on stdout')
    .option('--no-view', 'no live status view on a terminal')
    .option('--listen <host:port>', 'where to serve the dashboard', '127.0.0.1:0')
    .option(
      '--keep-serving',
      'after the watch, keep serving the dashboard until Ctrl-C (default on a terminal)',
    )
    .option('--no-keep-serving', 'end when the watch ends, even on a terminal')
    .action(async (opts: DemoFlags) => {
      cli.exit(await runDemo(opts, cli.io));
    });
}
