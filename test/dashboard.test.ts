/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) over a real
 * database: `leakwatch watch` records the leaky and the fixed notify services from testdata
 * until it alerts, then `leakwatch serve` shows that file. Plus hostile strings in a store
 * (they must render as text), and the token rules off loopback.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { loadRound } from '../src/cli/commands/demo.js';
import { openSqliteStore } from '../src/watch/store/sqlite.js';
import { buildProgram, cliProcess, noGo, ROOT, serve, type Served } from './helpers.js';
import { FAST, until, watch } from './watch-helpers.js';
import {
  hostileDb,
  launch,
  noBrowser,
  startServe,
  trimmed,
  watchedPage,
} from './dashboard-helpers.js';

if (noBrowser) console.log(`# skipping the dashboard browser tests: ${noBrowser}`);
const noGoHere = noGo();
if (noGoHere) console.log(`# skipping the dashboard over the notify scenario: ${noGoHere}`);
/** Set to a directory to save a screenshot of each page there (docs/ holds the committed ones). */
const SHOTS = process.env.LEAKWATCH_SCREENSHOTS;

describe(
  'dashboard over a real watch of the notify services',
  // Retaking the screenshots waits minutes more, for the leak's goroutines to age.
  { skip: noBrowser ?? noGoHere, timeout: SHOTS ? 900_000 : 300_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakwatch-dash-'));
    const db = join(dir, 'notify.db');
    let browser: Browser;
    let served: Awaited<ReturnType<typeof startServe>>;
    let stopAll = async (): Promise<void> => undefined;
    let leakyName = '';
    let fixedName = '';
    let leakyUrl = '';
    /** Stops the load on the services (the watch goes on). */
    let stopLoad = async (): Promise<void> => undefined;

    before(async () => {
      // File paths read as the module's, not this clone's, in the screenshots.
      const server = trimmed('cmd/notify-server', dir);
      const loadBin = buildProgram('cmd/notify-load');
      const leaky: Served = await serve(server, ['-variant', 'leaky', '-heartbeat', '30s']);
      const fixed: Served = await serve(server, ['-variant', 'fixed', '-heartbeat', '30s']);
      leakyName = 'notify-leaky';
      fixedName = 'notify-fixed';
      leakyUrl = leaky.url;
      const targets = join(dir, 'targets.json');
      writeFileSync(
        targets,
        JSON.stringify({
          targets: [
            { name: leakyName, url: leaky.url },
            { name: fixedName, url: fixed.url },
          ],
        }),
      );
      let loading = true;
      let round = 0;
      const loadLoop = (async () => {
        while (loading) {
          await loadRound(loadBin, [leaky.url, fixed.url], ++round);
          await new Promise((r) => setTimeout(r, 300));
        }
      })();
      stopLoad = async () => {
        loading = false;
        await loadLoop;
      };
      const w = watch([...FAST, '--db', db, '--config', targets]);
      // The pages are read while the watch goes on, as an SRE would see them.
      stopAll = async () => {
        stopAll = async () => undefined;
        w.proc.kill('SIGTERM');
        await new Promise((r) => w.proc.once('close', r));
        await stopLoad();
        await leaky.stop();
        await fixed.stop();
      };
      try {
        const fired = (detector: string, holder: string): boolean =>
          w.events.some(
            (e) =>
              e.target === leakyName &&
              e.detector === detector &&
              (holder === '' || (e.group?.holder?.func ?? '').endsWith(holder)),
          );
        await until(
          () =>
            fired('peak', '') && fired('growth', '.heartbeat') && fired('growth', '.pumpMessages'),
          150_000,
          'the peak alert and the heartbeat and pump growth alerts',
        ).catch((e: Error) => {
          throw new Error(`${e.message}; stderr: ${w.stderr()}`);
        });
        // Served while the watcher still writes to the same file (WAL readers, no claim).
        served = await startServe([
          '--db',
          db,
          '--listen',
          '127.0.0.1:0',
          '--source',
          join(ROOT, 'testdata', 'notify'),
        ]);
        const live = (await (await fetch(`${served.url}/ui/api/fleet`)).json()) as {
          targets: { name: string; alerts: unknown[] }[];
        };
        assert.equal(live.targets[0]?.name, leakyName);
        assert.ok(live.targets[0]!.alerts.length > 0);
        assert.doesNotMatch(w.stderr(), /locked|busy/i, 'the watcher saw no lock');
      } catch (err) {
        await stopAll();
        throw err;
      }
      browser = await launch();
    });
    after(async () => {
      await browser?.close();
      await served?.stop();
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    });

    it('fleet page: both targets, the leaky one first with its open peak alert, the fixed one up and quiet', async () => {
      const { page, problems } = await watchedPage(browser);
      await page.goto(`${served.url}/ui/`);
      await page.locator('#fleet tbody tr').nth(1).waitFor();
      const rows = await page.locator('#fleet tbody tr').evaluateAll((trs) =>
        trs.map((tr) => ({
          target: (tr as HTMLElement).dataset.target,
          cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
          spark: tr.querySelectorAll('svg polyline').length,
        })),
      );
      assert.deepEqual(
        rows.map((r) => r.target),
        [leakyName, fixedName],
      );
      const [leakyRow, fixedRow] = rows;
      assert.match(leakyRow!.cells[5]!, /peak: /, 'the open peak alert is listed');
      assert.match(leakyRow!.cells[5]!, /growth: /);
      assert.equal(fixedRow!.cells[5], '', 'the fixed service has no alert');
      assert.equal(fixedRow!.cells[1], 'up');
      assert.ok(
        Number(leakyRow!.cells[2]) > Number(fixedRow!.cells[2]),
        'more goroutines in the leaky one',
      );
      assert.equal(leakyRow!.spark, 1, 'a sparkline');
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'dashboard-fleet.png') });
      // The fixed twin's own page: no alert, under the same load.
      await page.getByRole('link', { name: fixedName }).click();
      await page.locator('#alerts li').first().waitFor();
      assert.deepEqual(await page.locator('#alerts li').allTextContents(), ['No alerts.']);
      assert.doesNotMatch((await page.locator('#summary').textContent()) ?? '', /above/);
      assert.ok((await page.locator('#chart canvas').count()) > 0);
      assert.deepEqual(problems, []);
    });

    it('target page: the chart has the scrapes, the growing group is on top, clicking it shows its stack', async () => {
      const { page, problems } = await watchedPage(browser);
      await page.goto(`${served.url}/ui/`);
      await page.getByRole('link', { name: leakyName }).click();
      await page.locator('#groups tbody tr').first().waitFor();
      assert.equal(
        (await page.locator('#chart canvas').count()) > 0,
        true,
        'the uPlot chart is drawn',
      );
      const summary = await page.locator('#summary').textContent();
      const scrapes = Number(/(\d+) scrapes in the last 24 h/.exec(summary ?? '')?.[1]);
      assert.ok(scrapes >= 5, `the chart has the watcher's scrapes: ${summary}`);
      assert.match(
        summary ?? '',
        /normal peak \d+, alert line \d/,
        'the learnt peak and the 1.5x line',
      );
      assert.match(summary ?? '', /^\d+ goroutines at .+, above the 1\.5x alert line/);
      const [now, line] = [
        Number(/^(\d+) goroutines/.exec(summary ?? '')?.[1]),
        Number(/alert line ([\d.]+)/.exec(summary ?? '')?.[1]),
      ];
      assert.ok(now > line, `climbed past the line: ${now} > ${line}`);
      // The chart's legend lists the three lines a user reads: total, normal peak, 1.5x line.
      const legend = await page.locator('#chart .u-legend').textContent();
      assert.match(legend ?? '', /goroutines.*heap in use \(MiB\).*normal peak.*1\.5x alert line/s);
      assert.match((await page.locator('#alerts').textContent()) ?? '', /alert peak: /);

      const top = page.locator('#groups tbody tr').first();
      const topCells = await top.locator('td').allTextContents();
      assert.match(topCells[1]!, /^\+\d+$/, `the top group grows: ${topCells.join(' | ')}`);
      assert.match(
        topCells[3]!,
        /\.(heartbeat|pumpMessages|deliver) /,
        'held by one of the leaking functions',
      );

      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'dashboard-target.png') });

      const heartbeat = page.locator('#groups tbody tr', { hasText: '.heartbeat ' }).first();
      assert.match((await heartbeat.locator('td').nth(1).textContent()) ?? '', /^\+\d+$/);
      await heartbeat.click();
      await page.locator('#stack li').first().waitFor();
      const stack = await page.locator('#stack li').allTextContents();
      assert.match(
        stack[0]!,
        /\(\*Service\)\.heartbeat .+\.go:\d+$/,
        `innermost frame with file:line: ${stack[0]}`,
      );
      assert.match(stack[stack.length - 1]!, /^created by .+\.Subscribe .+\.go:\d+$/);
      assert.ok(
        (await page.locator('#group-chart canvas').count()) > 0,
        "the group's count over time",
      );
      // The ownership answers analyze gives, from what the store kept of the group.
      const answers = await page.locator('#ownership dd').allTextContents();
      assert.match(answers[0]!, /^notify\.\(\*Service\)\.Subscribe at notify\/notify\.go:\d+$/);
      assert.match(answers[1]!, /in notify\.\(\*Service\)\.heartbeat at notify\/notify\.go:\d+/);
      assert.match(answers[3]!, /ctx\.Done|context/, 'the usual fix for a select that never fires');
      // The wait-time distribution of the range's dumps: every bucket, first and last dump.
      const waitRows = await page.locator('#group-waits tbody tr').allTextContents();
      assert.equal(waitRows.length, 8, `7 buckets and the total: ${waitRows.join(' | ')}`);
      assert.match(waitRows[0]!, /^< 1 min/);
      assert.match(waitRows[6]!, /^≥ 1 day/);
      const dumpHeads = await page.locator('#group-waits thead th').allTextContents();
      assert.match(dumpHeads.join(' | '), /First dump, .+ \| Last dump, .+/);
      const [firstTotal, lastTotal] = (
        await page.locator('#group-waits tr.total td').allTextContents()
      )
        .slice(1)
        .map(Number);
      assert.ok(
        firstTotal! < lastTotal!,
        `the leak grew from dump to dump: ${firstTotal} < ${lastTotal}`,
      );
      // --source: the line it waits on and the lint finding behind it (the ticker never stopped).
      await page.locator('#group-source pre.code').first().waitFor();
      assert.match(
        (await page.locator('#group-source pre.code .hit').first().textContent()) ?? '',
        /select/,
        'the marked line is the select the goroutine is parked in',
      );
      const findings = await page.locator('#group-source ul.findings li').allTextContents();
      assert.ok(
        findings.some((f) => /notify\.go:106: /.test(f)),
        `the ticker finding at notify.go:106: ${findings.join(' | ')}`,
      );
      assert.equal(
        await page.locator('#groups tbody tr.selected').getAttribute('data-group'),
        decodeURIComponent(/#group=(.+)$/.exec(page.url())?.[1] ?? ''),
        'the address names the open group',
      );

      const pump = page.locator('#groups tbody tr', { hasText: '.pumpMessages ' }).first();
      await pump.click();
      await page.waitForFunction(() =>
        /pumpMessages/.test(document.querySelector('#stack')?.textContent ?? ''),
      );
      assert.match((await page.locator('#group-title').textContent()) ?? '', /pumpMessages/);

      // Sorting by "Now": largest first, whatever grows.
      await page.locator('#groups thead th', { hasText: 'Now' }).click();
      const counts = (await page.locator('#groups tbody tr td:first-child').allTextContents()).map(
        Number,
      );
      assert.ok(counts.length > 3);
      assert.deepEqual(
        counts,
        [...counts].sort((a, b) => b - a),
      );
      assert.deepEqual(problems, []);
    });

    it('range picker, zoom and the progress indicator', async () => {
      const { page, problems } = await watchedPage(browser);
      // Hold the target's JSON until the indicator has been seen: no timing guess.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/ui/api/target?*', async (route) => {
        await held;
        await route.continue();
      });
      await page.goto(`${served.url}/ui/target?name=${leakyName}`);
      await page.locator('#busy').waitFor({ state: 'visible' });
      assert.equal(await page.evaluate(() => document.body.classList.contains('busy')), true);
      release();
      await page.locator('#groups tbody tr').first().waitFor();
      await page.locator('#busy').waitFor({ state: 'hidden' });
      await page.unroute('**/ui/api/target?*');

      assert.equal(await page.locator('#range a.on').textContent(), '24 h');
      await page.locator('#range a', { hasText: '1 h' }).click();
      await page.waitForURL(/hours=1$/);
      await page.locator('#groups tbody tr').first().waitFor();
      assert.equal(await page.locator('#range a.on').textContent(), '1 h');
      assert.match((await page.locator('#summary').textContent()) ?? '', /scrapes in the last 1 h/);

      // Drag across the middle of the chart: the server sends that window again.
      const over = page.locator('#chart .u-over');
      const box = (await over.boundingBox())!;
      const asked = page.waitForRequest((r) => r.url().includes('/ui/api/series?'));
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      const q = new URL((await asked).url()).searchParams;
      assert.ok(Number(q.get('to')) > Number(q.get('from')), 'a from/to window');
      assert.ok(Number(q.get('points')) >= 320, "points: the chart's width");
      await page.locator('#zoom', { hasText: 'Zoomed to' }).waitFor();
      await page.locator('#range button', { hasText: 'reset zoom' }).click();
      assert.equal(await page.locator('#zoom').textContent(), '');
      assert.equal(await page.locator('#range a.on').textContent(), '1 h');
      assert.deepEqual(problems, []);
    });

    it("group view: the last dump's wait-time distribution adds up to the group's count in it", async () => {
      // With the load stopped the leak's goroutines stay and no new ones come: the deliver
      // goroutines are parked on a send for good (never woken, unlike the heartbeats' ticker),
      // so every dump the watcher takes from now on holds the same count.
      await stopLoad();
      const stopped = Date.now();
      const q = `name=${encodeURIComponent(leakyName)}`;
      const deliver = (
        (await (await fetch(`${served.url}/ui/api/target?${q}`)).json()) as {
          groups: { id: string; info: { holder?: { func: string } } | null }[];
        }
      ).groups.find((g) => /\.deliver$/.test(g.info?.holder?.func ?? ''))!;
      assert.ok(deliver, 'the deliver group is listed');
      const dumpAfterStop = async (): Promise<boolean> => {
        const g = (await (
          await fetch(`${served.url}/ui/api/group?${q}&id=${deliver.id}&hours=1`)
        ).json()) as { waits: { last: { at: number } } | null };
        return (g.waits?.last.at ?? 0) > stopped + 2000;
      };
      for (const deadline = Date.now() + 60_000; !(await dumpAfterStop());) {
        assert.ok(Date.now() < deadline, 'a debug=2 dump after the load stopped, within 60 s');
        await new Promise((r) => setTimeout(r, 500));
      }
      // What analyze says of the live service's own debug=2 dump, for the same group.
      const live = JSON.parse(
        (await cliProcess(['analyze', '--json', '--no-source', leakyUrl])).stdout,
      ) as { groups: { id: string; count: number }[] };
      const want = live.groups.find((g) => g.id === deliver.id)?.count;
      assert.ok(want !== undefined && want > 0, 'analyze finds the deliver group');

      const { page, problems } = await watchedPage(browser);
      await page.goto(`${served.url}/ui/target?${q}&hours=1#group=${deliver.id}`);
      await page.locator('#group-waits tr.total').waitFor();
      const total = Number(
        (await page.locator('#group-waits tr.total td').last().textContent()) ?? '',
      );
      const buckets = await page
        .locator('#group-waits tbody tr:not(.total)')
        .evaluateAll((trs) => trs.map((tr) => Number(tr.lastElementChild?.textContent ?? '')));
      assert.equal(buckets.length, 7);
      assert.equal(
        total,
        buckets.reduce((a, b) => a + b, 0),
        'the total is the sum of its rows',
      );
      assert.equal(
        total,
        want,
        `the last dump holds the group's ${want} goroutines, as analyze counts them`,
      );
      const now = Number(
        /^(\d+) goroutines now/.exec(
          (await page.locator('#group-summary').textContent()) ?? '',
        )?.[1],
      );
      assert.equal(total, now, 'the same count as the scrape the page calls now');
      if (SHOTS) {
        // The picture waits for the leak to age: the runtime prints a wait from one minute up,
        // once a garbage collection has seen the goroutine waiting.
        const aged = async (): Promise<boolean> => {
          const g = (await (
            await fetch(`${served.url}/ui/api/group?${q}&id=${deliver.id}&hours=1`)
          ).json()) as { waits: { last: { counts: number[] } } | null };
          return (g.waits?.last.counts.slice(1) ?? []).some((n) => n > 0);
        };
        for (const deadline = Date.now() + 420_000; !(await aged());) {
          assert.ok(Date.now() < deadline, 'the deliver goroutines waited a minute within 7 min');
          await new Promise((r) => setTimeout(r, 2000));
        }
        await page.reload();
        await page.locator('#group-waits tr.total').waitFor();
        await page.locator('#group').evaluate((e) => e.scrollIntoView({ block: 'start' }));
        await page.screenshot({ path: join(SHOTS, 'dashboard-group.png') });
      }
      assert.deepEqual(problems, []);
    });
  },
);

describe(
  'dashboard: hostile strings from a profile render as text',
  { skip: noBrowser, timeout: 60_000 },
  () => {
    const HOSTILE = '<img src=x onerror=alert(1)>';
    const dir = mkdtempSync(join(tmpdir(), 'leakwatch-dash-xss-'));
    const db = join(dir, 'hostile.db');
    let browser: Browser;
    let served: Awaited<ReturnType<typeof startServe>>;

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

    it('fleet and target pages show the name, function, file, summary and label as text; no element, no dialog', async () => {
      const { page, problems } = await watchedPage(browser);
      await page.goto(`${served.url}/ui/`);
      await page.locator('#fleet tbody tr').first().waitFor();
      assert.equal(await page.locator('img').count(), 0);
      assert.equal(await page.locator('#fleet tbody tr td a').textContent(), `evil${HOSTILE}`);
      assert.match((await page.locator('#fleet tbody tr td.alerts').textContent()) ?? '', /grows/);
      assert.ok(
        ((await page.locator('#fleet tbody tr td.alerts').textContent()) ?? '').includes(HOSTILE),
      );

      await page.locator('#fleet tbody tr td a').click();
      await page.locator('#groups tbody tr').first().waitFor();
      assert.equal(await page.locator('#title').textContent(), `evil${HOSTILE}`);
      assert.ok(((await page.locator('#alerts').textContent()) ?? '').includes(`team=${HOSTILE}`));
      await page.locator('#groups tbody tr').first().click();
      await page.locator('#stack li').first().waitFor();
      assert.equal(
        await page.locator('#stack li').first().textContent(),
        `main.${HOSTILE} /src/${HOSTILE}.go:7`,
      );
      // The runtime's verdict, stored with the counts, is shown; hostile names stay text.
      assert.match(
        (await page.locator('#group-verdict').textContent()) ?? '',
        /^\(leaked\): the runtime proved 3 of these goroutines/,
      );
      assert.equal(await page.locator('#groups tbody tr .badge').textContent(), 'leaked');
      assert.ok(
        ((await page.locator('#ownership').textContent()) ?? '').includes(`main.${HOSTILE}`),
      );
      assert.equal(await page.locator('img').count(), 0, 'no element was created from the data');
      assert.deepEqual(problems, []);
    });
  },
);

describe('leakwatch serve: refusals and the token', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-dash-tok-'));
  const db = join(dir, 'x.db');
  before(async () => {
    mkdirSync(dir, { recursive: true });
    const s = openSqliteStore(db);
    await s.addScrape({
      target: 'a',
      at: Date.now(),
      total: 3,
      groups: [],
      infos: [],
      durationMs: 1,
      source: 'proto',
    });
    await s.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a missing database and an off-loopback address without a token, in one line', async () => {
    const missing = await cliProcess(['serve', '--db', join(dir, 'nope.db')]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /^leakwatch: --db .*nope\.db: no such file; expected a database written by leakwatch watch --db\n$/,
    );
    assert.equal(existsSync(join(dir, 'nope.db')), false, 'nothing was created');
    const open = await cliProcess(['serve', '--db', db, '--listen', '0.0.0.0:0'], {
      env: { LEAKWATCH_TOKEN: '' },
    });
    assert.equal(open.code, 2);
    assert.match(
      open.stderr,
      /^leakwatch: --listen 0\.0\.0\.0:0: serving beyond this machine needs a token/,
    );
  });

  it('off loopback with a token: 401 without it, in with the header, or with ?token= once (then a cookie)', async () => {
    const s = await startServe(['--db', db, '--listen', '0.0.0.0:0', '--token', 's3cret']);
    try {
      const base = s.url.replace('0.0.0.0', '127.0.0.1');
      assert.equal((await fetch(`${base}/ui/api/fleet`)).status, 401);
      assert.equal(
        (await fetch(`${base}/ui/api/fleet`, { headers: { authorization: 'Bearer wrong' } }))
          .status,
        401,
      );
      const ok = await fetch(`${base}/ui/api/fleet`, {
        headers: { authorization: 'Bearer s3cret' },
      });
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { targets: { name: string }[] }).targets[0]!.name, 'a');
      const link = await fetch(`${base}/ui/?token=s3cret`, { redirect: 'manual' });
      assert.equal(link.status, 303);
      assert.equal(link.headers.get('location'), '/ui/');
      const cookie = (link.headers.get('set-cookie') ?? '').split(';')[0]!;
      const page = await fetch(`${base}/ui/`, { headers: { cookie } });
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.equal((await fetch(`${base}/ui/?token=wrong`, { redirect: 'manual' })).status, 401);
    } finally {
      await s.stop();
    }
  });
});
