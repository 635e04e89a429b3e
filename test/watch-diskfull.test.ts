/**
 * `watch` on a full disk: a real tmpfs, filled while the watcher writes to it. The watcher stays
 * up, logs the failure once, exports it (/api/store and /metrics), keeps its scrapes in memory,
 * and writes them when space returns. Needs root to mount a tmpfs; skips, saying so, without.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { noGo } from './helpers.js';
import { servedProfile, until, watch } from './watch-helpers.js';

const mnt = mkdtempSync(join(tmpdir(), 'leakwatch-full-'));
function mountTmpfs(): string | undefined {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], {
    encoding: 'utf8',
  });
  return r.status === 0
    ? undefined
    : `cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()})`;
}
const skip = noGo() ?? mountTmpfs();
if (skip) console.log(`# skipping the full-disk test: ${skip}`);

/** Fills the filesystem until it refuses a byte more. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // Then the last few bytes, so not even a page is left.
    try {
      for (;;) writeSync(fd, Buffer.alloc(512, 1));
    } catch {
      // full
    }
  } finally {
    closeSync(fd);
  }
}

describe('watch: a full disk', { skip, timeout: 180_000 }, () => {
  let stop = (): void => undefined;
  let url = '';
  before(async () => {
    ({ url, stop } = await servedProfile());
  });
  after(() => {
    stop();
    spawnSync('umount', [mnt]);
    // Lazily, if something still holds it: never leave a mount behind.
    spawnSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it('stays up, reports the failure, keeps scrapes in memory and writes them when space returns', async () => {
    const db = join(mnt, 'watch.db');
    const w = watch(['--db', db, '--interval', '1s', '--listen', '127.0.0.1:0', '--no-view', url]);
    try {
      await until(() => /API on http:\/\/[^:]+:\d+/.test(w.stderr()), 20_000, 'the API');
      const port = Number(/API on http:\/\/[^:]+:(\d+)/.exec(w.stderr())![1]);
      const api = async (path: string): Promise<string> =>
        (await fetch(`http://127.0.0.1:${port}${path}`)).text();
      await new Promise((r) => setTimeout(r, 3000));
      const filler = join(mnt, 'filler');
      fill(filler);
      const fullAt = Date.now();
      await until(() => /store: cannot write/.test(w.stderr()), 60_000, 'the store failure').catch(
        (e: Error) => {
          throw new Error(`${e.message}; stderr: ${w.stderr()}`);
        },
      );
      await new Promise((r) => setTimeout(r, 4000));
      assert.equal(w.proc.exitCode, null, 'still running on a full disk');
      const health = JSON.parse(await api('/api/store')) as { errors: number; pending: number };
      assert.ok(health.errors > 0 && health.pending > 0, JSON.stringify(health));
      assert.match(await api('/metrics'), /leakwatch_store_errors_total \d*[1-9]/);
      assert.equal(
        w.stderr().match(/store: cannot write/g)?.length,
        1,
        'logged once per streak, not per scrape',
      );

      rmSync(filler);
      await until(() => /store: writing again/.test(w.stderr()), 60_000, 'the recovery');
      w.proc.kill('SIGTERM');
      await new Promise((r) => w.proc.once('close', r));
      assert.equal(w.proc.exitCode, 0, w.stderr());
      const d = new Database(db, { readonly: true });
      const during = d
        .prepare('SELECT count(*) FROM snapshots WHERE at >= ? AND at < ?')
        .pluck()
        .get(fullAt, fullAt + 4000) as number;
      d.close();
      assert.ok(during >= 2, `scrapes taken while the disk was full were written later: ${during}`);
    } finally {
      // The mount can only go once the watcher has let go of its files.
      if (w.proc.exitCode === null && w.proc.signalCode === null) {
        w.proc.kill('SIGKILL');
        await new Promise((r) => w.proc.once('close', r));
      }
    }
  });
});
