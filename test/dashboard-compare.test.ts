/**
 * The dashboard's compare, flame and "analyze a file" views in a real browser (Debian's
 * chromium through playwright-core). Compare and flame over a real database that `leakwatch
 * watch` wrote while the leaky notify service from testdata ran under load; the file analyzer on
 * the committed fixtures of testdata/dumps, checked against `leakwatch analyze` on the same
 * files; hostile names in a dropped file and in a store, shown as text.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadRound } from '../src/cli/commands/demo.js';
import { openSqliteStore } from '../src/watch/store/sqlite.js';
import { buildProgram, cli, dump, noGo, ROOT, serve, type Served } from './helpers.js';
import {
  hostileDb,
  launch,
  noBrowser,
  startServe,
  trimmed,
  watchedPage,
  type ServeProcess,
} from './dashboard-helpers.js';
import { FAST, until, watch } from './watch-helpers.js';

if (noBrowser) console.log(`# skipping the dashboard compare/flame/file tests: ${noBrowser}`);
const noGoHere = noGo();
if (noGoHere) console.log(`# skipping compare and flame over the notify scenario: ${noGoHere}`);
const HOSTILE = '<img src=x onerror=alert(1)>';
/** Set to a directory to save screenshots of the compare and analyze views (docs/ holds them). */
const SHOTS = process.env.LEAKWATCH_SCREENSHOTS;

/** The analyzer bundle is made by `npm run build`; a tsc-only build makes it here. */
function buildBrowserBundle(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'build', 'browser.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build/browser.mjs failed: ${r.stderr}`);
}

/** A store with one scrape: `serve` needs a database, the analyze page needs nothing of it. */
async function tinyDb(path: string): Promise<void> {
  const s = openSqliteStore(path);
  await s.addScrape({
    target: 'a',
    at: Date.now(),
    total: 1,
    groups: [],
    infos: [],
    durationMs: 1,
    source: 'proto',
  });
  await s.close();
}

/** Hands `bytes` to the page as a file dropped on it (a real drop event with a DataTransfer). */
async function dropFile(page: Page, name: string, bytes: Buffer): Promise<void> {
  await page.evaluate(
    ({ name, b64 }) => {
      const bin = atob(b64);
      const u8 = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([u8], name));
      document
        .getElementById('drop')!
        .dispatchEvent(
          new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }),
        );
    },
    { name, b64: bytes.toString('base64') },
  );
}

/** Waits for the analyzer to finish with `name` (a report or an error). */
async function settled(page: Page, name: string): Promise<'report' | 'error'> {
  await page.waitForFunction(
    (n) =>
      (document.getElementById('drop-status')?.textContent ?? '').startsWith(`${n}: read in`) ||
      !document.getElementById('error')!.hidden,
    name,
    { timeout: 60_000 },
  );
  return (await page.locator('#error').isHidden()) ? 'report' : 'error';
}

describe('dashboard: analyze a dropped file', { skip: noBrowser, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-dash-drop-'));
  let browser: Browser;
  let served: ServeProcess;

  before(async () => {
    buildBrowserBundle();
    await tinyDb(join(dir, 'x.db'));
    served = await startServe(['--db', join(dir, 'x.db'), '--listen', '127.0.0.1:0']);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await served?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Every reader and both gzip paths: traceback, debug=1, protobuf, the leak profile, a dump
  // inside container logs, a crash, 50,847 goroutines, labels, and a dump with no suspect.
  const FIXTURES = [
    'notify-leaky.debug2.txt',
    'notify-leaky.debug1.txt',
    'notify-leaky.pb.gz',
    'notify-leaky.leak.pb.gz',
    'notify-leaky-50847.debug2.txt.gz',
    'anchors.debug2.txt.gz',
    'shapes-labels.pb.gz',
    'container-log.txt',
    'panic.txt',
    'notify-fixed.debug2.txt',
  ];

  it('shows the report and suspects `leakwatch analyze --no-source` prints, for every format, and sends nothing', async () => {
    const { page, problems, requests } = await watchedPage(browser);
    await page.goto(`${served.url}/ui/analyze`);
    await page.locator('#drop').waitFor();
    await page.waitForLoadState('networkidle');
    const loaded = requests.length;
    for (const [i, name] of FIXTURES.entries()) {
      const path = dump(name);
      // Half through the file chooser, half dropped on the page.
      if (i % 2 === 0) await page.setInputFiles('#file', path);
      else await dropFile(page, name, readFileSync(path));
      assert.equal(
        await settled(page, name),
        'report',
        `${name}: ${await page.locator('#error').textContent()}`,
      );
      const text = await cli(['analyze', '--no-source', path]);
      const json = JSON.parse((await cli(['analyze', '--no-source', '--json', path])).stdout) as {
        total: number;
        suspects: { id: string; count: number }[];
      };
      assert.equal(
        await page.locator('#report').textContent(),
        // The CLI names the path it was given, the page the file's name.
        text.stdout.replace(`${path}: `, `${name}: `),
        `${name}: the same report`,
      );
      const rows = await page.locator('#suspects tbody tr').evaluateAll((trs) =>
        trs.map((tr) => ({
          id: (tr as HTMLElement).dataset.group,
          count: Number(tr.querySelector('td')!.textContent),
        })),
      );
      assert.deepEqual(
        rows,
        json.suspects.map((s) => ({ id: s.id, count: s.count })),
        `${name}: the same suspects`,
      );
      assert.match(
        (await page.locator('#result-summary').textContent()) ?? '',
        new RegExp(
          `^${json.total} goroutines in \\d+ groups · ${json.suspects.length === 0 ? 'no suspects' : `${json.suspects.length} suspect`}`,
        ),
      );
    }
    if (SHOTS) {
      await page.setInputFiles('#file', dump('notify-leaky.debug2.txt'));
      await settled(page, 'notify-leaky.debug2.txt');
      await page.screenshot({ path: join(SHOTS, 'dashboard-analyze.png') });
      await page.setInputFiles('#file', dump('notify-fixed.debug2.txt'));
      await settled(page, 'notify-fixed.debug2.txt');
    }
    assert.ok(
      (await page.locator('#suspects tbody tr').count()) === 0,
      'the fixed service, read last, has no suspect',
    );
    assert.deepEqual(
      requests.slice(loaded),
      [],
      'no request after the page loaded: the files stayed here',
    );
    assert.deepEqual(problems, []);
  });

  it('names the leaking functions of the notify dump, and says in one line what it cannot read', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${served.url}/ui/analyze`);
    await page.setInputFiles('#file', dump('notify-leaky.debug2.txt'));
    await settled(page, 'notify-leaky.debug2.txt');
    const holders = await page.locator('#suspects tbody tr td:nth-child(3)').allTextContents();
    for (const f of ['heartbeat', 'pumpMessages', 'deliver'])
      assert.ok(
        holders.some((h) => h.includes(`.${f} `)),
        `${f} is a suspect: ${holders.join(' | ')}`,
      );

    const cases: [string, Buffer, RegExp][] = [
      [
        'notes.txt',
        Buffer.from('hello\nnot a dump\n'),
        /^Could not read: notes\.txt: no goroutine found; expected a goroutine dump/,
      ],
      ['empty.txt', Buffer.alloc(0), /^Could not read: empty\.txt: file is empty/],
      [
        'cut.pb.gz',
        readFileSync(dump('notify-leaky.pb.gz')).subarray(0, 200),
        /^Could not read: cut\.pb\.gz: gzip data is corrupt or truncated/,
      ],
      [
        'page.html',
        Buffer.from('<!doctype html><html><body>502 Bad Gateway</body></html>\n'),
        /^Could not read: page\.html: an HTML page, expected a goroutine dump or profile$/,
      ],
    ];
    for (const [name, bytes, want] of cases) {
      await dropFile(page, name, bytes);
      assert.equal(await settled(page, name), 'error', name);
      assert.match((await page.locator('#error').textContent()) ?? '', want);
      assert.ok(await page.locator('#result').isHidden());
    }
    assert.deepEqual(problems, []);
  });

  it('shows hostile function names, labels and file names from a dropped dump as text', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${served.url}/ui/analyze`);
    // A real dump with a hostile name spliced in (as test/analyze-escape.test.ts does); a Go
    // function name has no spaces or parentheses, so the markup is made without them.
    const evil = 'pump<b>bold</b><script>alert.x</script>';
    const text = readFileSync(dump('notify-leaky.debug2.txt'), 'utf8').replaceAll(
      'pumpMessages',
      evil,
    );
    const name = `${HOSTILE}.txt`;
    await dropFile(page, name, Buffer.from(text));
    assert.equal(await settled(page, name), 'report');
    assert.ok(((await page.locator('#drop-status').textContent()) ?? '').startsWith(name));
    const holders = await page.locator('#suspects tbody tr td:nth-child(3)').allTextContents();
    assert.ok(
      holders.some((h) => h.includes(`.${evil} `)),
      holders.join(' | '),
    );
    assert.ok(((await page.locator('#report').textContent()) ?? '').includes(`.${evil}`));
    assert.equal(await page.locator('#result b, #result script').count(), 0);
    // Labels: a real profile's label values, each made hostile.
    const labelled = readFileSync(dump('shapes-labels.debug1.txt'), 'utf8').replace(
      /labels: \{"([^"]+)":"([^"]+)"/,
      `labels: {"$1":"${HOSTILE}"`,
    );
    assert.ok(labelled.includes(HOSTILE), 'the fixture has labels to make hostile');
    await dropFile(page, 'labels.txt', Buffer.from(labelled));
    assert.equal(await settled(page, 'labels.txt'), 'report');
    assert.equal(await page.locator('img').count(), 0, 'no element was made from the data');
    assert.deepEqual(problems, []);
  });
});

interface Compared {
  before: { at: number; total: number };
  after: { at: number; total: number };
  changes: { change: string; id: string; before: number; after: number; delta: number }[];
}

describe(
  'dashboard: compare two moments and the stacks at one, over a real watch of the leaky notify service',
  { skip: noBrowser ?? noGoHere, timeout: 300_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakwatch-dash-compare-'));
    const db = join(dir, 'notify.db');
    let browser: Browser;
    let served: ServeProcess;
    let leakyName = '';

    before(async () => {
      // For the screenshots, file paths as -trimpath prints them (no checkout path in docs/).
      const server = SHOTS ? trimmed('cmd/notify-server', dir) : buildProgram('cmd/notify-server');
      const loadBin = buildProgram('cmd/notify-load');
      const leaky: Served = await serve(server, ['-variant', 'leaky', '-heartbeat', '30s']);
      leakyName = new URL(leaky.url).host;
      let loading = true;
      let round = 0;
      const loadLoop = (async () => {
        while (loading) {
          await loadRound(loadBin, [leaky.url], ++round);
          await new Promise((r) => setTimeout(r, 300));
        }
      })();
      const w = watch([...FAST, '--db', db, leaky.url]);
      try {
        // Long enough for an alert to fire (the "before the alert" preset) and the leak to grow.
        await until(
          () => w.events.some((e) => e.type === 'alert' && e.detector === 'growth'),
          150_000,
          'a growth alert on the leaky service',
        ).catch((e: Error) => {
          throw new Error(`${e.message}; stderr: ${w.stderr()}`);
        });
      } finally {
        w.proc.kill('SIGTERM');
        await new Promise((r) => w.proc.once('close', r));
        loading = false;
        await loadLoop;
        await leaky.stop();
      }
      served = await startServe(['--db', db, '--listen', '127.0.0.1:0']);
      browser = await launch();
    });
    after(async () => {
      await browser?.close();
      await served?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function targetPage(): Promise<Awaited<ReturnType<typeof watchedPage>>> {
      const w = await watchedPage(browser);
      await w.page.goto(`${served.url}/ui/target?name=${encodeURIComponent(leakyName)}`);
      await w.page.locator('#preset-15m').waitFor();
      return w;
    }

    it('a preset compares the first and the latest scrape: the leaking groups grew, with the counts the store holds', async () => {
      const { page, problems } = await targetPage();
      await page.locator('#preset-15m').click();
      await page.locator('#compare tbody tr').first().waitFor();
      const rows = await page.locator('#compare tbody tr').evaluateAll((trs) =>
        trs.map((tr) => ({
          id: (tr as HTMLElement).dataset.group ?? '',
          change: (tr as HTMLElement).dataset.change ?? '',
          cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
        })),
      );
      const leaking = rows.filter((r) => /\.(heartbeat|pumpMessages|deliver) /.test(r.cells[5]!));
      assert.ok(
        leaking.length > 0,
        `a leaking group is listed: ${JSON.stringify(rows.slice(0, 5))}`,
      );
      for (const r of leaking) {
        assert.match(r.change, /^(grew|appeared)$/, JSON.stringify(r));
        assert.match(r.cells[3]!, /^\+\d+$/);
        assert.equal(Number(r.cells[2]) - Number(r.cells[1]), Number(r.cells[3]));
      }
      assert.ok(
        leaking.some((r) => /\.heartbeat /.test(r.cells[5]!)),
        'the heartbeat group is among them',
      );
      // The same answer as the API, and each count is the one the group's series holds then.
      const api = (await (
        await fetch(
          `${served.url}/ui/api/compare?name=${encodeURIComponent(leakyName)}&a=0&b=${Date.now()}`,
        )
      ).json()) as Compared;
      assert.deepEqual(
        rows.map((r) => r.id),
        api.changes.slice(0, rows.length).map((c) => c.id),
      );
      const top = api.changes.find((c) => c.id === leaking[0]!.id)!;
      const series = (await (
        await fetch(
          `${served.url}/ui/api/group?name=${encodeURIComponent(leakyName)}&id=${top.id}&hours=24`,
        )
      ).json()) as { series: [number, number][] };
      const at = (t: number): number | undefined => series.series.find((p) => p[0] === t)?.[1];
      assert.equal(at(api.before.at), top.before, 'A is the series value at the first scrape');
      assert.equal(at(api.after.at), top.after, 'B is the series value at the last scrape');
      assert.match(
        (await page.locator('#compare-summary').textContent()) ?? '',
        new RegExp(
          `A .*: ${api.before.total} goroutines · B .*: ${api.after.total} goroutines · \\+\\d+ in`,
        ),
      );
      assert.deepEqual(problems, []);
    });

    it('two clicks on the chart set A and B; "before the alert" takes the scrape before it fired', async () => {
      const { page, problems } = await targetPage();
      const over = page.locator('#chart .u-over');
      const box = (await over.boundingBox())!;
      await over.click({ position: { x: box.width * 0.1, y: box.height / 2 } });
      await over.click({ position: { x: box.width * 0.9, y: box.height / 2 } });
      const a = await page.locator('#moment-a').textContent();
      const b = await page.locator('#moment-b').textContent();
      assert.notEqual(a, b, 'two different moments');
      assert.equal(await page.locator('#chart .moment-mark').count(), 2, 'A and B are marked');
      await page.locator('#compare-run').click();
      await page.locator('#compare tbody tr').first().waitFor();

      const alertBtn = page.locator('#preset-alert');
      assert.match((await alertBtn.textContent()) ?? '', /^before the \w+ alert → now$/);
      await alertBtn.click();
      await page.waitForFunction(() =>
        /^A /.test(document.getElementById('compare-summary')?.textContent ?? ''),
      );
      const view = (await (
        await fetch(`${served.url}/ui/api/target?name=${encodeURIComponent(leakyName)}`)
      ).json()) as { alerts: { type: string; at: number }[]; totals: [number, number][] };
      const fired = Math.max(...view.alerts.filter((x) => x.type === 'alert').map((x) => x.at));
      const want = view.totals.filter(([t]) => t < fired).pop()![0];
      const api = (await (
        await fetch(
          `${served.url}/ui/api/compare?name=${encodeURIComponent(leakyName)}&a=${want}&b=${Date.now()}`,
        )
      ).json()) as Compared;
      assert.equal(api.before.at, want);
      assert.ok(
        ((await page.locator('#compare-summary').textContent()) ?? '').includes(
          `: ${api.before.total} goroutines · B`,
        ),
      );
      assert.deepEqual(problems, []);
    });

    it('the flame view draws every goroutine at B, names the leaking frames, and zooms on a click', async () => {
      const { page, problems } = await targetPage();
      await page.locator('#preset-1h').click();
      await page.locator('#flame .fl').first().waitFor();
      const title = (await page.locator('#flame-summary').textContent()) ?? '';
      const total = Number(/^(\d+) goroutines/.exec(title)?.[1]);
      const root = page.locator('#flame .fl').first();
      assert.equal(await root.textContent(), 'all goroutines');
      assert.equal(
        Number(await root.getAttribute('data-count')),
        total,
        'the root is every goroutine',
      );
      const funcs = await page
        .locator('#flame .fl')
        .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.func ?? ''));
      for (const f of ['.heartbeat', '.pumpMessages'])
        assert.ok(
          funcs.some((x) => x.endsWith(f)),
          `a bar for ${f}`,
        );
      const heartbeat = page.locator('#flame .fl[data-func$=".heartbeat"]').first();
      const count = Number(await heartbeat.getAttribute('data-count'));
      assert.ok(count > 0 && count < total);
      await heartbeat.click();
      const zoomed = page.locator('#flame .fl:not(.ancestor)').first();
      assert.match((await zoomed.getAttribute('data-func')) ?? '', /\.heartbeat$/);
      assert.equal(await zoomed.evaluate((e) => (e as HTMLElement).style.width), '100%');
      assert.ok((await page.locator('#flame .fl.ancestor').count()) >= 1, 'the way back is shown');
      await page.locator('#flame .fl.ancestor').first().click();
      assert.equal(await page.locator('#flame .fl.ancestor').count(), 0, 'zoomed back out');
      if (SHOTS)
        await page.screenshot({ path: join(SHOTS, 'dashboard-compare.png'), fullPage: true });
      // Stacks at A: fewer goroutines than at B in a leak.
      await page.locator('#flame-a').click();
      await page.waitForFunction(() =>
        /^Stacks at A/.test(document.getElementById('flame-title')?.textContent ?? ''),
      );
      const atA = Number(
        /^(\d+) goroutines/.exec((await page.locator('#flame-summary').textContent()) ?? '')?.[1],
      );
      assert.ok(atA < total, `${atA} at A, ${total} at B`);
      assert.deepEqual(problems, []);
    });
  },
);

describe(
  'dashboard: hostile strings in compare and flame render as text',
  { skip: noBrowser, timeout: 60_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakwatch-dash-compare-xss-'));
    const db = join(dir, 'hostile.db');
    let browser: Browser;
    let served: ServeProcess;
    const target = `evil${HOSTILE}`;

    before(async () => {
      await hostileDb(db, HOSTILE);
      served = await startServe(['--db', db, '--listen', '127.0.0.1:0']);
      browser = await launch();
    });
    after(async () => {
      await browser?.close();
      await served?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the JSON refuses a bad time or an unknown target in one line (400)', async () => {
      const q = `name=${encodeURIComponent(target)}`;
      const get = async (path: string): Promise<[number, string]> => {
        const r = await fetch(`${served.url}${path}`);
        return [r.status, ((await r.json()) as { error: string }).error];
      };
      assert.deepEqual(await get(`/ui/api/compare?${q}&a=soon&b=1`), [
        400,
        'a=soon: expected milliseconds since 1970',
      ]);
      assert.deepEqual(await get(`/ui/api/stacks?${q}`), [
        400,
        'at=: expected milliseconds since 1970',
      ]);
      assert.deepEqual(await get(`/ui/api/stacks?name=nobody&at=1`), [
        400,
        'nobody: no scrape stored',
      ]);
      const [code] = await get(`/ui/api/stacks?${q}&at=${Date.now()}`);
      assert.equal(code, 200);
    });

    it('the compare table and the flame bars show the function and file as text', async () => {
      const { page, problems } = await watchedPage(browser);
      await page.goto(`${served.url}/ui/target?name=${encodeURIComponent(target)}`);
      await page.locator('#preset-15m').click();
      await page.locator('#compare tbody tr').first().waitFor();
      assert.equal(
        await page.locator('#compare tbody tr td').nth(5).textContent(),
        `main.${HOSTILE} /src/${HOSTILE}.go:7`,
      );
      await page.locator('#flame .fl').nth(1).waitFor();
      assert.equal(await page.locator('#flame .fl').nth(1).textContent(), `main.${HOSTILE}`);
      assert.equal(await page.locator('img').count(), 0);
      assert.deepEqual(problems, []);
    });
  },
);
