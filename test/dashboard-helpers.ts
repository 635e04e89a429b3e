/**
 * The dashboard's browser tests share these: Debian's chromium through playwright-core, a
 * `leakwatch serve` process, a page that records what a user would never want to see, and
 * testdata programs built with trimmed paths (for the screenshots).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { join } from 'node:path';
import { openSqliteStore } from '../src/watch/store/sqlite.js';
import { BIN, ROOT } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests must skip, or undefined. */
export const noBrowser = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing (apt-get install chromium)`;

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface ServeProcess {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** `leakwatch serve` as its own process; resolves with its base URL (http://host:port). */
export function startServe(args: string[]): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [BIN, 'serve', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /dashboard on (http:\/\/\S+)\/ui\//.exec(err);
      if (m)
        resolve({
          url: m[1]!,
          proc,
          stop: () =>
            new Promise<void>((done) => {
              if (proc.exitCode !== null) return done();
              proc.once('exit', () => done());
              proc.kill('SIGTERM');
            }),
        });
    });
    proc.on('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
  });
}

/**
 * A page that records script errors, console errors (CSP violations among them), dialogs, and
 * every request it makes (so a test can say nothing left the machine).
 */
export async function watchedPage(
  browser: Browser,
): Promise<{ page: Page; problems: string[]; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => requests.push(r.url()));
  return { page, problems, requests };
}

/**
 * A testdata program built into `dir` (not the shared testdata/bin) with the module's own file
 * paths trimmed as `go build -trimpath` would (leakwatch.test/testdata/notify/notify.go): only
 * the module's packages, so the standard library stays in the build cache (-trimpath itself
 * would rebuild all of it).
 */
export function trimmed(pkg: string, dir: string): string {
  const out = join(dir, pkg.replace(/\W+/g, '_'));
  const testdata = join(ROOT, 'testdata');
  const trim = `-gcflags=leakwatch.test/testdata/...=-trimpath=${testdata}=>leakwatch.test/testdata`;
  const r = spawnSync('go', ['build', trim, '-o', out, `./${pkg}`], {
    cwd: join(ROOT, 'testdata'),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`go build ./${pkg} failed:\n${r.stderr}`);
  return out;
}

/**
 * A database whose every string a profile or a target could carry is `hostile` markup: the
 * target name, a group's frames, an alert's summary and label. Three scrapes of one group `g1`
 * over the last three minutes (the runtime proved 3 leaked at the last, whose debug=2 dump is
 * bucketed) and an open growth alert. Returns the target's name.
 */
export async function hostileDb(path: string, hostile: string): Promise<string> {
  const store = openSqliteStore(path);
  const target = `evil${hostile}`;
  const frame = { func: `main.${hostile}`, pkg: 'main', file: `/src/${hostile}.go`, line: 7 };
  const now = Date.now();
  for (let i = 0; i < 3; i++)
    await store.addScrape({
      target,
      at: now - (3 - i) * 60_000,
      total: 10 + i * 5,
      groups: [{ id: 'g1', count: 5 + i * 5, leaked: i === 2 ? 3 : 0 }],
      infos:
        i === 0
          ? [{ id: 'g1', frames: [frame], holder: frame, createdBy: frame, blockedOn: 'chan-send' }]
          : [],
      durationMs: 1,
      source: i === 2 ? 'proto+debug2' : 'proto',
      ...(i === 2 ? { waitBuckets: new Map([['g1', [10, 5]]]) } : {}),
    });
  await store.addAlert({
    type: 'alert',
    key: `${target}/growth/g1`,
    target,
    detector: 'growth',
    at: new Date(now - 60_000).toISOString(),
    summary: `group ${hostile} grows`,
    evidence: {},
    labels: { team: hostile },
  });
  await store.close();
  return target;
}
