/**
 * `lint --jobs N`: packages parsed and checked in N worker threads (worker.ts), each taking the
 * next package as soon as it is done with one, largest first so that no thread is left with a
 * big package at the end. Results come back as plain data and are put back in package order,
 * so the output is the same for any N.
 */
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { PackageFiles } from './go/load.js';
import type { Severity } from './rule.js';
import type { PackageResult } from './run.js';

/** Main thread → worker: lint this package. */
export interface Job {
  id: number;
  pkg: PackageFiles;
}

/** Worker → main thread: a package's result, or the bug that stopped it. */
export type Done = { id: number; result: PackageResult } | { id: number; error: string };

/** What every worker is started with. */
export interface Setup {
  rules: (readonly [string, Severity])[];
  cwd: string;
}

/**
 * The worker's script: the one-file bundle (build/bundle.mjs) while it is as new as tsc's output,
 * else the compiled module under dist/src, as bin/leakwatch.js chooses for the main thread.
 */
function workerScript(): URL {
  const plain = new URL('./worker.js', import.meta.url);
  const bundle = new URL('../../lint-worker.cjs', import.meta.url);
  try {
    if (statSync(bundle).mtimeMs >= statSync(plain).mtimeMs) return bundle;
  } catch {
    // No bundle (a tsc-only build): the modules it would hold.
  }
  return plain;
}

function sizeOf(p: PackageFiles): number {
  let n = 0;
  for (const f of p.files) n += f.source.length;
  return n;
}

/**
 * Worker threads started at once, so that their start-up (tree-sitter and the rules loaded in
 * each) overlaps the main thread's reading of the files; `run` then hands them the packages.
 */
export class LintPool {
  private readonly workers: Worker[] = [];
  /** The first failure of a worker before or during `run` (a bug in lint: the run fails). */
  private failure: Error | undefined;
  private onFailure: ((err: Error) => void) | undefined;
  private onResult: ((w: Worker, m: Done) => void) | undefined;

  constructor(threads: number, setup: Setup) {
    const script = workerScript();
    for (let i = 0; i < threads; i++) {
      const w = new Worker(script, { workerData: setup });
      this.workers.push(w);
      w.on('message', (m: Done) => this.onResult?.(w, m));
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`lint worker exited with ${code}`));
      });
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.onFailure?.(err);
  }

  /** Lints `packages` in the workers, largest first; the results in the packages' order. */
  run(packages: readonly PackageFiles[]): Promise<PackageResult[]> {
    const order = packages
      .map((_, i) => i)
      .sort((a, b) => sizeOf(packages[b]!) - sizeOf(packages[a]!));
    const results: PackageResult[] = new Array<PackageResult>(packages.length);
    return new Promise<PackageResult[]>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      if (packages.length === 0) return resolve(results);
      let next = 0;
      let done = 0;
      const feed = (w: Worker) => {
        if (next >= order.length) return;
        const id = order[next++]!;
        w.postMessage({ id, pkg: packages[id]! } satisfies Job);
      };
      this.onFailure = reject;
      this.onResult = (w, m) => {
        if ('error' in m) {
          this.fail(new Error(`lint worker, package ${packages[m.id]?.dir}: ${m.error}`));
          return;
        }
        results[m.id] = m.result;
        if (++done === packages.length) resolve(results);
        else feed(w);
      };
      for (const w of this.workers) feed(w);
    });
  }

  /** Stops every worker (done, or the run failed). */
  async close(): Promise<void> {
    this.onFailure = undefined;
    this.onResult = undefined;
    this.failure ??= new Error('lint pool closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
