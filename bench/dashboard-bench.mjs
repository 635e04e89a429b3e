#!/usr/bin/env node
// Benchmark: the dashboard's target page over a big database (issue #12: "the target page of a
// 30-day x 100-target database loads in under 1 s").
//
//   npm run build && node bench/dashboard-bench.mjs [--targets 100] [--days 30] [--groups 16]
//                      [--loads 7] [--keep] [--write]
//
// 1. Generates bench/work/dashboard/fleet.db: `targets` targets, `days` days, laid out as the
//    SQLite store's retention keeps them (src/watch/store/sqlite.ts DEFAULT_RETENTION): the last
//    day at full detail (scrapes every 15 s, 30 s or 60 s by target), older days one snapshot per
//    5-minute bucket (tier 1, the one prune would keep: the bucket's largest). Each scrape has
//    `groups` stack groups (half shared by every target, half its own); one target in ten leaks
//    (+1 goroutine a minute in one group, restarted every 3 days) and has open peak and growth
//    alerts, a learnt baseline, waits from debug=2 dumps every 20th scrape (the longest per group
//    and the goroutines per wait bucket) and heap every 20th.
//    Bulk path: the store's own write() (the code addScrape runs), many scrapes per
//    transaction with synchronous=OFF; reached from here past TypeScript's `private`, which is
//    a compile-time fence only. Older days are then marked tier 1 with one UPDATE.
// 2. Serves it with the real CLI (`leakwatch serve --db FILE --listen 127.0.0.1:0`) and loads
//    the target page of a leaking target in Debian's chromium (playwright-core), 1366x768:
//    time from navigation start to the chart drawn and the groups table filled, `loads` times per
//    range (30 days, 24 h), the median reported (the first load, cold, shown apart).
// 3. Sizes: the JSON the page fetches and the assets served, raw and as sent to a browser that
//    takes gzip (what crosses the wire); the same series as {at, value} objects (the format
//    before [at, value] pairs) for comparison. The group view's JSON over 30 days, timed.
// --write replaces the "dashboard" section of bench/RESULTS.md.
import { spawn } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORK = join(ROOT, 'bench', 'work', 'dashboard');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const STORE = join(ROOT, 'dist', 'src', 'watch', 'store', 'sqlite.js');
const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(STORE)) {
  console.error(`${STORE} is missing: run npm run build first`);
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing (apt-get install chromium)`);
  process.exit(2);
}
const { openSqliteStore } = await import(pathToFileURL(STORE).href);

const { values: opt } = parseArgs({
  options: {
    targets: { type: 'string', default: '100' },
    days: { type: 'string', default: '30' },
    groups: { type: 'string', default: '16' },
    loads: { type: 'string', default: '7' },
    keep: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
});
const N = Number(opt.targets);
const DAYS = Number(opt.days);
const G = Number(opt.groups);
const LOADS = Number(opt.loads);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** The database's last minute: this one (`serve` would anchor an older file on its last scrape). */
const NOW = Math.floor(Date.now() / MIN) * MIN;
const MEDIUM = 5 * MIN;
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const frame = (func, file, line) => ({
  func: `github.com/acme/shop/internal/${func}`,
  pkg: `github.com/acme/shop/internal/${func.split('.')[0]}`,
  file: `/src/shop/internal/${file}`,
  line,
});

const leaky = (t) => t % 10 === 3;
const targetName = (t) => `shop-${String(t).padStart(3, '0')}.prod:6060`;

/** Group counts of target t at time `at` (a function of time, so both tiers agree). */
function groupsAt(t, at) {
  const hourOfDay = (at / HOUR) % 24;
  const traffic = 1 + Math.sin(((hourOfDay - 6) / 24) * 2 * Math.PI); // 0..2, busiest at noon
  const out = [];
  for (let k = 0; k < G; k++) {
    const id = k < G / 2 ? `shared-${k}` : `t${t}-own-${k}`;
    let count = 1 + ((k * 7 + t) % 12);
    if (k === 1) count = Math.round(20 + 60 * traffic); // request handlers follow traffic
    if (k === 2) count = Math.round(10 + 25 * traffic);
    if (k === G - 1 && leaky(t)) count = 5 + Math.floor((at % (3 * DAY)) / MIN); // the leak, restarted every 3 days
    if (k === G - 2 && Math.floor(at / MEDIUM) % 7 === 0) continue; // comes and goes
    out.push({ id, count, leaked: 0 });
  }
  return out;
}

function infoFor(id, t) {
  const leak = id === `t${t}-own-${G - 1}`;
  const holderFn = leak ? 'notify.(*Hub).heartbeat' : `svc.(*Worker).loop${id.replace(/\W/g, '')}`;
  const frames = [
    frame(holderFn, leak ? 'notify/hub.go' : 'svc/worker.go', leak ? 212 : 40),
    ...Array.from({ length: 8 }, (_, i) => frame(`svc.step${i}`, `svc/step${i}.go`, 10 + i)),
  ];
  return {
    id,
    frames,
    holder: frames[0],
    holderOwner: 'user',
    createdBy: frame(
      leak ? 'notify.(*Hub).Subscribe' : 'svc.Start',
      leak ? 'notify/hub.go' : 'svc/start.go',
      88,
    ),
    blockedOn: leak ? 'select' : 'chan-receive',
  };
}

async function generate(db) {
  for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true });
  const t0 = process.hrtime.bigint();
  const store = openSqliteStore(db);
  store.db.pragma('synchronous = OFF');
  const write = (s) => store.write(s);
  const batch = store.db.transaction((list) => {
    for (const s of list) write(s);
  });
  let scrapes = 0;
  const seen = new Set();
  const from = NOW - DAYS * DAY;
  const detailFrom = NOW - DAY;
  for (let t = 0; t < N; t++) {
    const step = [15_000, 30_000, 60_000][t % 3];
    const list = [];
    let i = 0;
    const push = (at) => {
      const groups = groupsAt(t, at);
      const infos = [];
      for (const g of groups) {
        if (seen.has(g.id)) continue;
        seen.add(g.id);
        infos.push(infoFor(g.id, t));
      }
      const s = {
        target: targetName(t),
        at,
        total: groups.reduce((a, g) => a + g.count, 0) + 12,
        groups,
        infos,
        durationMs: 4,
        source: 'proto',
      };
      if (i % 20 === 0) {
        s.heap = {
          inuse:
            80e6 + 40e6 * Math.sin(at / HOUR) ** 2 + (leaky(t) ? 2e4 * groups.at(-1).count : 0),
          sites: [],
        };
        s.waits = new Map(
          groups.map((g) => [
            g.id,
            g.id.startsWith(`t${t}-own-${G - 1}`) ? Math.floor((at % (3 * DAY)) / MIN) : 1,
          ]),
        );
        // Per group: most goroutines under a minute, a few at 1-5 min; the leak's spread over
        // the buckets its age has reached (one a minute since its restart).
        s.waitBuckets = new Map(
          groups.map((g) => {
            if (!g.id.startsWith(`t${t}-own-${G - 1}`))
              return [g.id, [g.count - (g.count >> 2), g.count >> 2]];
            const age = Math.floor((at % (3 * DAY)) / MIN);
            const counts = [5, 0, 0, 0, 0, 0, 0];
            [1, 5, 15, 60, 360, 1440, Infinity].forEach((upTo, b, all) => {
              const lo = b === 0 ? 0 : all[b - 1];
              counts[b] += Math.max(0, Math.min(age, upTo) - Math.min(age, lo));
            });
            return [g.id, counts];
          }),
        );
      }
      list.push(s);
      i++;
    };
    // Older days: one snapshot per 5-minute bucket, at its start (what downsampling keeps).
    for (let at = from + ((t * 977) % MEDIUM); at < detailFrom; at += MEDIUM) push(at);
    for (let at = detailFrom + ((t * 977) % step); at <= NOW; at += step) push(at);
    for (let k = 0; k < list.length; k += 5000) batch(list.slice(k, k + 5000));
    scrapes += list.length;
    await store.setBaseline(targetName(t), { since: from, normalPeak: 300 });
    if (leaky(t)) {
      const g = groupsAt(t, NOW).at(-1);
      const info = infoFor(g.id, t);
      for (const [detector, summary, group] of [
        ['peak', `goroutines 1800 are over 1.5x the normal peak (300)`, undefined],
        ['growth', `group ${g.id} (${info.holder.func}) grows +60/h`, g],
      ])
        await store.addAlert({
          type: 'alert',
          key: `${targetName(t)}/${detector}${group ? `/${group.id}` : ''}`,
          target: targetName(t),
          detector,
          at: new Date(NOW - 2 * HOUR).toISOString(),
          summary,
          group: group
            ? {
                id: group.id,
                holder: info.holder,
                createdBy: info.createdBy,
                blockedOn: info.blockedOn,
                count: group.count,
              }
            : undefined,
          evidence: {},
          labels: { team: 'shop' },
        });
    }
  }
  store.db.prepare('UPDATE snapshots SET tier = 1 WHERE at < ?').run(detailFrom);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  await store.close();
  return { scrapes, seconds: ms(t0) / 1000, bytes: statSync(db).size };
}

/** GET as a browser that takes gzip: bytes on the wire, the body, and the time to the end. */
function wire(url) {
  const t = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    httpGet(url, { headers: { 'accept-encoding': 'gzip, deflate, br' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const sent = Buffer.concat(chunks);
        const body = res.headers['content-encoding'] === 'gzip' ? gunzipSync(sent) : sent;
        resolve({ sent: sent.length, body, ms: ms(t) });
      });
    }).on('error', reject);
  });
}

/** The target JSON as it was sent before pairs: every point an {at, value} object. */
function asObjects(j) {
  const obj = (ps) => ps.map(([at, value]) => ({ at, value }));
  return Buffer.from(JSON.stringify({ ...j, totals: obj(j.totals), heap: obj(j.heap) }));
}

/** `leakwatch serve` as its own process; resolves with its base URL. */
function startServe(db) {
  const proc = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'leakwatch.js'), 'serve', '--db', db, '--listen', '127.0.0.1:0'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stderr.on('data', (d) => {
      err += d;
      const m = /dashboard on (http:\/\/\S+)\/ui\//.exec(err);
      if (m) resolve({ url: m[1], stop: () => proc.kill('SIGTERM') });
    });
    proc.on('exit', (c) => reject(new Error(`serve exited (${c}): ${err}`)));
  });
}

async function main() {
  mkdirSync(WORK, { recursive: true });
  const db = join(WORK, 'fleet.db');
  console.error(`generating ${N} targets x ${DAYS} days into ${db} ...`);
  const gen = await generate(db);
  console.error(
    `  ${gen.scrapes} snapshots in ${gen.seconds.toFixed(1)} s, ${(gen.bytes / 1e6).toFixed(0)} MB`,
  );
  const served = await startServe(db);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
  const name = targetName(3);
  const rows = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    for (const hours of [720, 24]) {
      const times = [];
      for (let k = 0; k < LOADS + 1; k++) {
        const t = process.hrtime.bigint();
        await page.goto(`${served.url}/ui/target?name=${encodeURIComponent(name)}&hours=${hours}`);
        await page.waitForFunction(
          // Runs in the page, where `document` is the page's.
          () =>
            globalThis.document.querySelector('#chart canvas') &&
            globalThis.document.querySelectorAll('#groups tbody tr').length > 0,
          undefined,
          { polling: 'raf', timeout: 60_000 },
        );
        times.push(ms(t));
      }
      const [cold, ...warm] = times;
      const api = `${served.url}/ui/api/target?name=${encodeURIComponent(name)}&hours=${hours}&points=1326`;
      // The server's share: the JSON alone, timed from here, as a browser gets it (gzip).
      const apiTimes = [];
      let got;
      for (let k = 0; k < LOADS; k++) {
        got = await wire(api);
        apiTimes.push(got.ms);
      }
      const body = got.body;
      const j = JSON.parse(body.toString());
      const old = asObjects(j);
      // The group view of the leaking group (count series, waits of the range's dumps).
      const leak = groupsAt(3, NOW).at(-1).id;
      const groupTimes = [];
      for (let k = 0; k < LOADS; k++)
        groupTimes.push(
          (
            await wire(
              `${served.url}/ui/api/group?name=${encodeURIComponent(name)}&id=${leak}&hours=${hours}&points=1326`,
            )
          ).ms,
        );
      rows.push({
        hours,
        cold,
        median: median(warm),
        min: Math.min(...warm),
        max: Math.max(...warm),
        json: body.length,
        sent: got.sent,
        old: old.length,
        oldGz: gzipSync(old).length,
        scrapes: j.scrapes,
        points: j.totals.length,
        api: median(apiTimes),
        group: median(groupTimes),
      });
      console.error(
        `  ${hours} h: cold ${cold.toFixed(0)} ms, median ${median(warm).toFixed(0)} ms; JSON ${kb(body.length)} (${j.scrapes} scrapes as ${j.totals.length} points)`,
      );
    }
    const fleet = await wire(`${served.url}/ui/api/fleet`);
    const assets = [];
    for (const path of [
      '/ui/',
      '/ui/target',
      '/ui/analyze',
      '/ui/assets/app.js',
      '/ui/assets/compare.js',
      '/ui/assets/dom.js',
      '/ui/assets/flame.js',
      '/ui/assets/panels.css',
      '/ui/assets/analyze.js',
      '/ui/assets/style.css',
      '/ui/assets/uPlot.min.js',
      '/ui/assets/uPlot.min.css',
      '/ui/assets/icon.svg',
    ]) {
      const b = await wire(served.url + path);
      assets.push({ path, raw: b.body.length, gz: b.sent });
    }
    report(gen, rows, fleet, assets, name);
  } finally {
    await browser.close();
    served.stop();
    if (!opt.keep) for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true });
  }
}

function report(gen, rows, fleet, assets, name) {
  const la = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const lines = [
    '## dashboard: the target page on a 30-day x 100-target database',
    '',
    `Made by \`node bench/dashboard-bench.mjs --targets ${N} --days ${DAYS} --groups ${G} --loads ${LOADS} --write\` on ${new Date().toISOString().slice(0, 10)};`,
    `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Debian chromium (headless, 1366x768); load average ${la} when done.`,
    '',
    `Database: ${gen.scrapes.toLocaleString('en-US')} snapshots (${N} targets; the last day at full detail, every 15/30/60 s by target; the older ${DAYS - 1} days one per 5 minutes, as retention keeps them), ${G} groups each, ${(gen.bytes / 1e6).toFixed(0)} MB; generated in ${gen.seconds.toFixed(0)} s through the store's own write path, 5,000 scrapes per transaction.`,
    '',
    `Target page of \`${name}\` (a leaking target with open alerts): navigation to chart drawn and groups table filled, served by \`leakwatch serve\` from the file. Median of ${LOADS} loads after a first (cold) one. "JSON alone" is the target API fetched by itself, gzip accepted (the server's share); "group JSON" the group view of the leaking group over the same range (its count series and its goroutines per wait bucket at the range's first and last dump). A load average far above the core count means the figures measure waiting for a CPU: re-run on a quiet machine.`,
    '',
    '| range | first load | median | min - max | JSON alone (median) | group JSON (median) | scrapes in range | points drawn | target JSON raw / sent (gzip) | same as {at, value} objects: raw / gzip |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.hours === 720 ? '30 days' : `${r.hours} h`} | ${r.cold.toFixed(0)} ms | **${r.median.toFixed(0)} ms** | ${r.min.toFixed(0)} - ${r.max.toFixed(0)} ms | ${r.api.toFixed(0)} ms | ${r.group.toFixed(0)} ms | ${r.scrapes.toLocaleString('en-US')} | ${r.points} | ${kb(r.json)} / **${kb(r.sent)}** | ${kb(r.old)} / ${kb(r.oldGz)} |`,
    ),
    '',
    `Fleet JSON (${N} targets, 60-point sparklines): ${kb(fleet.body.length)}, ${kb(fleet.sent)} sent (gzip).`,
    '',
    'Assets served: raw, and as sent to a browser that takes gzip (each compressed once, at level 9, and kept). Nothing is fetched from elsewhere.',
    '',
    '| path | raw | sent |',
    '|---|---:|---:|',
    ...assets.map((a) => `| \`${a.path}\` | ${kb(a.raw)} | ${kb(a.gz)} |`),
    `| **total** | **${kb(assets.reduce((s, a) => s + a.raw, 0))}** | **${kb(assets.reduce((s, a) => s + a.gz, 0))}** |`,
    '',
  ];
  const section = lines.join('\n');
  console.log(section);
  if (!opt.write) return;
  let text = readFileSync(RESULTS, 'utf8');
  const start = text.indexOf(lines[0]);
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + 1);
    text = text.slice(0, start) + section + (next >= 0 ? text.slice(next + 1) : '');
  } else text = `${text.trimEnd()}\n\n${section}`;
  writeFileSync(RESULTS, text);
  console.error(`wrote ${RESULTS}`);
}

await main();
