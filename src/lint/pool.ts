/**
 * `lint --jobs N`: packages parsed and checked in N worker threads (worker.ts), each taking the
 * next package as soon as it is done with one, largest first so that no thread is left with a
 * big package at the end. Results come back as plain data and are put back in package order,
 * so the output is the same for any N.
 */
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

function sizeOf(p: PackageFiles): number {
  let n = 0;
  for (const f of p.files) n += f.source.length;
  return n;
}

export function lintInWorkers(
  packages: readonly PackageFiles[],
  rules: readonly (readonly [string, Severity])[],
  cwd: string,
  threads: number,
): Promise<PackageResult[]> {
  const order = packages
    .map((_, i) => i)
    .sort((a, b) => sizeOf(packages[b]!) - sizeOf(packages[a]!));
  const results: PackageResult[] = new Array<PackageResult>(packages.length);
  const setup: Setup = { rules: [...rules], cwd };
  const workers: Worker[] = [];
  return new Promise<PackageResult[]>((resolve, reject) => {
    let next = 0;
    let done = 0;
    let failed = false;
    const stop = () => {
      for (const w of workers) void w.terminate();
    };
    // A worker's failure is a bug in lint (bad input never throws there): the whole run fails
    // with it, as it would in one thread.
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      stop();
      reject(err);
    };
    const feed = (w: Worker) => {
      if (next >= order.length) return;
      const id = order[next++]!;
      w.postMessage({ id, pkg: packages[id]! } satisfies Job);
    };
    for (let i = 0; i < threads; i++) {
      const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: setup });
      workers.push(w);
      w.on('message', (m: Done) => {
        if ('error' in m) {
          fail(new Error(`lint worker, package ${packages[m.id]?.dir}: ${m.error}`));
          return;
        }
        results[m.id] = m.result;
        if (++done === packages.length) {
          stop();
          resolve(results);
        } else feed(w);
      });
      w.on('error', fail);
      w.on('exit', (code) => {
        if (code !== 0 && done < packages.length)
          fail(new Error(`lint worker exited with ${code}`));
      });
      feed(w);
    }
  });
}
