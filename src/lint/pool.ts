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
  /** run.ts LintOptions.ignoreNeeds. */
  ignoreNeeds: boolean;
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

/** Packages queued in one worker at most (see feed). */
const DEPTH = 3;

/** A package's source in UTF-16 code units: what its parse and checks cost grows with. */
export function sizeOf(p: PackageFiles): number {
  let n = 0;
  for (const f of p.files) n += f.source.length;
  return n;
}

/**
 * Worker threads started at once, so that their start-up (tree-sitter and the rules loaded in
 * each) overlaps the main thread's reading of the files. Packages are added as they are read
 * and handed to whichever worker is free: in the order read while reading goes on, then the
 * largest first. Results are kept in the order the packages were added.
 */
export class LintPool {
  private readonly workers: Worker[] = [];
  /** Packages sent to each worker and not yet answered. */
  private readonly inFlight = new Map<Worker, number>();
  private readonly packages: PackageFiles[] = [];
  private readonly results: PackageResult[] = [];
  /** Indexes of added packages no worker has yet. */
  private pending: number[] = [];
  private done = 0;
  private finishing = false;
  /** The first failure of a worker (a bug in lint: the run fails with it). */
  private failure: Error | undefined;
  private settle: { resolve: (r: PackageResult[]) => void; reject: (e: Error) => void } | undefined;

  constructor(threads: number, setup: Setup) {
    const script = workerScript();
    for (let i = 0; i < threads; i++) {
      const w = new Worker(script, { workerData: setup });
      this.workers.push(w);
      this.inFlight.set(w, 0);
      w.on('message', (m: Done) => this.received(w, m));
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`lint worker exited with ${code}`));
      });
    }
  }

  add(pkg: PackageFiles): void {
    this.pending.push(this.packages.length);
    this.packages.push(pkg);
    this.feed();
  }

  /** The results of every package added, in the order added, once all are linted. */
  finish(): Promise<PackageResult[]> {
    this.finishing = true;
    // Nothing more will come: the largest first, so that no worker is left with a big one last.
    const size = (i: number) => sizeOf(this.packages[i]!);
    this.pending.sort((a, b) => size(b) - size(a));
    return new Promise<PackageResult[]>((resolve, reject) => {
      this.settle = { resolve, reject };
      this.check();
    });
  }

  /** Stops every worker (done, or the run failed). */
  async close(): Promise<void> {
    this.failure ??= new Error('lint pool closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private feed(): void {
    // Each worker holds up to DEPTH packages, so that it goes on to the next one at once instead
    // of waiting for this thread to be scheduled, read its answer and send another: on a busy
    // machine that wait can be longer than a small package takes.
    for (let depth = 1; depth <= DEPTH; depth++)
      for (const w of this.workers) {
        if (this.pending.length === 0 || this.failure) return;
        if (this.inFlight.get(w)! >= depth) continue;
        const id = this.pending.shift()!;
        this.inFlight.set(w, this.inFlight.get(w)! + 1);
        w.postMessage({ id, pkg: this.packages[id]! } satisfies Job);
      }
  }

  private received(w: Worker, m: Done): void {
    if (this.failure) return;
    if ('error' in m) {
      this.fail(new Error(`lint worker, package ${this.packages[m.id]?.dir}: ${m.error}`));
      return;
    }
    this.results[m.id] = m.result;
    this.done++;
    this.inFlight.set(w, this.inFlight.get(w)! - 1);
    this.feed();
    this.check();
  }

  private check(): void {
    if (this.failure) this.settle?.reject(this.failure);
    else if (this.finishing && this.done === this.packages.length)
      this.settle?.resolve(this.results);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.check();
  }
}
