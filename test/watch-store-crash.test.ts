/**
 * kill -9 at any moment loses at most the scrape in flight and never corrupts the file.
 *
 * A child Node process (the real compiled store, a real file) writes scrapes in a loop, pruning
 * as it goes, and prints `committed I` after each addScrape returns. We SIGKILL it at random
 * moments, several times; after each kill we check the file (integrity_check, foreign keys),
 * that every scrape it reported is there (or was downsampled away by a prune it may have run),
 * that no scrape is half-written (every group count of every snapshot is what was written), and
 * that the next run resumes the history where it stopped.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../src/watch/store/sqlite.js';
import type { Scrape } from '../src/watch/types.js';
import { ROOT } from './helpers.js';

const STORE = pathToFileURL(join(ROOT, 'dist', 'src', 'watch', 'store', 'sqlite.js')).href;
const T0 = Date.UTC(2026, 0, 5);
const STEP = 15_000;
const MIN = 60_000;
const BUCKET = 5 * MIN;
const DETAIL = 2 * 60 * MIN;
const GROUPS = 20;

/**
 * What scrape I holds: total 1000 + I (so a bucket's largest total is its latest scrape), 20
 * fixed groups whose counts depend on I, and one group renamed every 100 scrapes (new groups
 * keep arriving). Shared by the child (as source) and the checks below.
 */
const SCRAPE_FOR = `(i) => {
  const groups = [];
  for (let k = 0; k < ${GROUPS}; k++) groups.push({ id: 'g' + k, count: 1 + ((i * (k + 1)) % 50), leaked: k === 0 ? 1 : 0 });
  groups.push({ id: 'v' + Math.floor(i / 100), count: 3, leaked: 0 });
  const infos = i % 100 === 0 || i % 37 === 0
    ? groups.map((g) => ({ id: g.id, blockedOn: 'chan-receive', frames: [{ func: 'main.f' + g.id, pkg: 'main', file: 'main.go', line: i }], createdBy: i % 2 ? { func: 'main.main', pkg: 'main', file: 'main.go', line: 1 } : undefined }))
    : [];
  return { target: 'svc', at: ${T0} + i * ${STEP}, total: 1000 + i, groups, infos, durationMs: 1, source: 'proto' };
}`;
const scrapeFor = new Function(`return ${SCRAPE_FOR}`)() as (i: number) => Scrape;

const CHILD = `
import { openSqliteStore } from ${JSON.stringify(STORE)};
const scrapeFor = ${SCRAPE_FOR};
const store = openSqliteStore(process.env.DB, {
  retention: { detailMs: ${DETAIL}, mediumBucketMs: ${BUCKET}, mediumMs: 1e12, maxAgeMs: 1e12 },
});
const last = (await store.targets()).find((t) => t.name === 'svc');
let i = last ? (last.lastAt - ${T0}) / ${STEP} + 1 : 0;
process.stdout.write('resumed ' + i + '\\n');
for (;; i++) {
  await store.addScrape(scrapeFor(i));
  process.stdout.write('committed ' + i + '\\n');
  if (i % 97 === 0) {
    while (!store.pruneNow(${T0} + i * ${STEP}));
    process.stdout.write('pruned ' + i + '\\n');
  }
}
`;

interface Run {
  resumed?: number;
  committed: number[];
  pruned: number[];
  walBytes: number;
}

/** Runs the child until `killAfterMs` after it opened the store (or after spawn), then kill -9. */
function runChild(db: string, killAfterMs: number, fromSpawn: boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, DB: db },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: Run = { committed: [], pruned: [], walBytes: 0 };
    let buf = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const kill = () => {
      timer = setTimeout(() => {
        run.walBytes = existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0;
        p.kill('SIGKILL');
      }, killAfterMs);
    };
    if (fromSpawn) kill();
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout.on('data', (d: Buffer) => {
      const lines = (buf + d.toString()).split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const [what, n] = line.split(' ');
        if (what === 'committed') run.committed.push(Number(n));
        else if (what === 'pruned') run.pruned.push(Number(n));
        else if (what === 'resumed') {
          run.resumed = Number(n);
          if (!fromSpawn) kill();
        }
      }
    });
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`child ended (${code}): ${err}`));
      resolve(run);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'leakwatch-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('watch store: kill -9', () => {
  it('loses at most the scrape in flight, never corrupts, and resumes', async (t) => {
    const db = join(dir, 'leakwatch.db');
    const reported = new Set<number>();
    let lastPruned = -1;
    let walSeen = 0;
    let prevMax = -1;
    const kills = [
      { ms: 40 + Math.random() * 300, fromSpawn: true }, // often while opening or migrating
      ...Array.from({ length: 6 }, () => ({ ms: Math.random() * 700, fromSpawn: false })),
    ];
    for (const [n, k] of kills.entries()) {
      const run = await runChild(db, k.ms, k.fromSpawn);
      for (const i of run.committed) reported.add(i);
      t.diagnostic(
        `kill ${n + 1} at ${k.ms.toFixed(0)} ms: ${run.committed.length} commits, ` +
          `${run.pruned.length} prunes, WAL ${run.walBytes} bytes`,
      );
      lastPruned = Math.max(lastPruned, ...run.pruned);
      if (run.walBytes > 0) walSeen++;
      if (!existsSync(db)) continue; // killed before it even created the file
      if (run.resumed !== undefined) {
        assert.equal(run.resumed, prevMax + 1, `run ${n + 1} resumes after the last stored scrape`);
      }
      prevMax = check(db, reported, lastPruned, `kill ${n + 1} after ${k.ms.toFixed(0)} ms`).max;
    }
    assert.ok(reported.size > 500, `the child wrote enough to mean something: ${reported.size}`);
    assert.ok(walSeen > 0, 'at least one kill left a write-ahead log to recover');

    // History resumes: a new writer appends to it.
    const s = openSqliteStore(db);
    const before = await s.totals('svc', 0, Infinity);
    const next = (before[before.length - 1]!.at - T0) / STEP + 1;
    await s.addScrape({ ...scrapeFor(next), infos: [] });
    assert.equal((await s.targets())[0]!.lastAt, T0 + next * STEP);
    assert.equal((await s.totals('svc', 0, Infinity)).length, before.length + 1);
    s.closeNow();
  });
});

/** The file after a kill: sound, complete up to what was reported, no scrape half-written. */
function check(path: string, reported: Set<number>, lastPruned: number, what: string) {
  // Reopening through the store recovers the WAL and must not need a migration.
  openSqliteStore(path).closeNow();
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', what);
    assert.deepEqual(db.pragma('foreign_key_check'), [], what);
    const rows = db
      .prepare(
        `SELECT s.id, s.at, s.total FROM snapshots s JOIN targets t ON t.id = s.target
         WHERE t.name = 'svc' ORDER BY s.at`,
      )
      .all() as { id: number; at: number; total: number }[];
    const stored = new Map(rows.map((r) => [(r.at - T0) / STEP, r]));
    const max = Math.max(-1, ...stored.keys());
    const maxReported = Math.max(-1, ...reported);
    assert.ok(
      max <= maxReported + 1,
      `${what}: at most the scrape in flight beyond what was reported`,
    );
    // A prune the child may have run: at most with now = the last scrape it reported.
    const cutoff = (i: number) => {
      const t = T0 + i * STEP - DETAIL;
      return t - (t % BUCKET);
    };
    const maxCutoff = cutoff(maxReported);
    const minCutoff = lastPruned >= 0 ? cutoff(lastPruned) : -Infinity;
    const perBucket = new Map<number, number[]>();
    for (const i of stored.keys()) {
      const b = T0 + i * STEP - ((T0 + i * STEP) % BUCKET);
      perBucket.set(b, [...(perBucket.get(b) ?? []), i]);
    }
    for (const i of reported) {
      const at = T0 + i * STEP;
      if (stored.has(i)) continue;
      const inBucket = perBucket.get(at - (at % BUCKET)) ?? [];
      assert.ok(
        at < maxCutoff && inBucket.length === 1 && inBucket[0]! > i,
        `${what}: scrape ${i} was reported committed and is gone (not downsampled)`,
      );
    }
    for (const [b, is] of perBucket) {
      if (b + BUCKET <= minCutoff) assert.equal(is.length, 1, `${what}: bucket ${b} downsampled`);
    }
    // Every stored scrape is whole: its total and each of its group counts as written.
    const counts = db.prepare(
      'SELECT g.gid AS id, c.count, c.leaked FROM group_counts c JOIN groups g ON g.id = c.grp WHERE c.snapshot = ? ORDER BY g.gid',
    );
    for (const [i, r] of stored) {
      assert.equal(r.total, 1000 + i, what);
      const want = scrapeFor(i)
        .groups.map((g) => ({ id: g.id, count: g.count, leaked: g.leaked }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      assert.deepEqual(counts.all(r.id), want, `${what}: scrape ${i} whole`);
    }
    return { max };
  } finally {
    db.close();
  }
}
