#!/usr/bin/env node
// Benchmark: the dashboard's compare, icicle and analyze-a-file assets. Sizes of what the browser
// downloads (bytes and gzip -9, the new assets beside the page's existing ones), and the time
// "analyze a file" takes in a real browser (Debian's chromium, headless, via playwright-core)
// against `leakwatch analyze --no-source` on the same file, N runs each in round-robin order.
//
//   node bench/dashboard-assets-bench.mjs [--runs N] [--write]
//
// Browser time is what the page measures itself (performance.now around reading, analyzing and
// rendering; the status line's "read in N ms"), page load excluded. CLI time is wall time around
// the process spawn, Node's startup included (as a user waits for it). Needs `npm run build`
// (the bundle dist/browser/analyze.js). --write replaces the block between the bench:dashboard-assets
// markers in bench/RESULTS.md (appending it the first time).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync, gunzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

/* global document -- the waitForFunction callback runs in the page */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const BIN = join(ROOT, 'bin', 'leakwatch.js');
const DUMPS = join(ROOT, 'testdata', 'dumps');
const FILES = ['notify-leaky.debug2.txt', 'notify-leaky.pb.gz', 'notify-leaky-50847.debug2.txt.gz'];

const { values: opts } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, write: { type: 'boolean', default: false } },
});
const runs = Math.max(1, Number(opts.runs));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const r = spawnSync(process.execPath, [join(ROOT, 'build', 'browser.mjs')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(1);

// A database for `serve` (the analyze page needs none of it): one scrape, written by the store.
const tmp = mkdtempSync(join(tmpdir(), 'dashboard-bench-'));
const db = join(tmp, 'x.db');
const { openSqliteStore } = await import(join(ROOT, 'dist', 'src', 'watch', 'store', 'sqlite.js'));
const s = openSqliteStore(db);
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

const serve = spawn(process.execPath, [BIN, 'serve', '--db', db, '--listen', '127.0.0.1:0'], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
const base = await new Promise((resolve, reject) => {
  let err = '';
  serve.stderr.on('data', (d) => {
    err += d;
    const m = /dashboard on (http:\/\/\S+)\/ui\//.exec(err);
    if (m) resolve(m[1]);
  });
  serve.on('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
});

const sizes = [];
for (const a of [
  'app.js',
  'compare.js',
  'flame.js',
  'dom.js',
  'panels.css',
  'analyze.js',
  'style.css',
  'uPlot.min.js',
]) {
  const body = Buffer.from(await (await globalThis.fetch(`${base}/ui/assets/${a}`)).arrayBuffer());
  sizes.push({
    a,
    bytes: body.length,
    gz: gzipSync(body, { level: 9 }).length,
    ours: !/^(app|style|uPlot)/.test(a),
  });
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
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
const page = await browser.newPage();
await page.goto(`${base}/ui/analyze`);

function cliOnce(path) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(process.execPath, [BIN, 'analyze', '--no-source', path], { stdio: 'ignore' });
    p.on('exit', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
  });
}

async function browserOnce(path, name) {
  await page.setInputFiles('#file', []);
  await page.setInputFiles('#file', path);
  const h = await page.waitForFunction(
    (n) =>
      /^(.+): read in (\d+) ms/.exec(
        document.getElementById('drop-status').textContent ?? '',
      )?.[1] === n &&
      Number(/read in (\d+) ms/.exec(document.getElementById('drop-status').textContent)[1]),
    name,
    { timeout: 300_000 },
  );
  return Number(await h.jsonValue());
}

const rows = [];
for (const name of FILES) {
  const path = join(DUMPS, name);
  const b = [];
  const c = [];
  for (let i = 0; i < runs; i++) {
    b.push(await browserOnce(path, name));
    c.push(await cliOnce(path));
  }
  const raw = readFileSync(path);
  const plain = name.endsWith('.gz') ? gunzipSync(raw).length : raw.length;
  rows.push({ name, size: statSync(path).size, plain, browser: median(b), cli: median(c) });
}
await browser.close();
serve.kill('SIGTERM');
rmSync(tmp, { recursive: true, force: true });

const mb = (n) => (n / 1e6).toFixed(1);
const kb = (n) => (n / 1000).toFixed(1);
const chromiumVersion = spawnSync('/usr/bin/chromium', ['--version'], {
  encoding: 'utf8',
}).stdout.trim();
const block = [
  '<!-- bench:dashboard-assets -->',
  '## Dashboard: compare, icicle and analyze-a-file',
  '',
  `- command: \`node bench/dashboard-assets-bench.mjs --runs ${runs}${opts.write ? ' --write' : ''}\``,
  `- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; load average at the end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
  `- machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; ${chromiumVersion} (headless)`,
  '',
  'Assets as served (bytes; gzip -9). Ours are new; app.js, style.css and uPlot for scale:',
  '',
  '| asset | bytes | gzip | |',
  '| --- | ---: | ---: | --- |',
  ...sizes.map(
    (x) => `| ${x.a} | ${x.bytes} | ${x.gz} | ${x.ours ? 'compare/flame/analyze' : 'existing'} |`,
  ),
  '',
  `Analyze a file: the page's own time (read, analyze, render; median of ${runs}) against \`leakwatch analyze --no-source FILE\` (wall, Node startup included; median of ${runs}), round-robin in one run:`,
  '',
  '| file | on disk | decompressed | in the browser | CLI |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (x) =>
      `| ${x.name} | ${kb(x.size)} kB | ${mb(x.plain)} MB | ${x.browser} ms | ${Math.round(x.cli)} ms |`,
  ),
  '<!-- /bench:dashboard-assets -->',
].join('\n');
console.log(block);
if (opts.write) {
  const text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
  const re = /<!-- bench:dashboard-assets -->[\s\S]*?<!-- \/bench:dashboard-assets -->/;
  writeFileSync(
    RESULTS,
    re.test(text) ? text.replace(re, block) : `${text.trimEnd()}\n\n${block}\n`,
  );
  process.stderr.write(`wrote ${RESULTS}\n`);
}
