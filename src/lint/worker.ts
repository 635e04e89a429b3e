/**
 * One lint worker thread (started by pool.ts): takes packages one at a time, parses them and runs
 * the rules with the same code as the main thread (run.ts lintPackage), and sends back plain
 * findings.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Done, Job, Setup } from './pool.js';
import { collectIfDue, lintPackage } from './run.js';

const { rules, cwd, ignoreNeeds } = workerData as Setup;
const port = parentPort!;

/**
 * Packages received and not yet linted. The pool sends a few ahead (pool.ts feed); they are
 * linted one per turn of the event loop, because the syntax trees of the last one are freed by
 * finalizers that run only between turns, and a port delivers queued messages in one go.
 */
const queue: Job[] = [];
let scheduled = false;

function next(): void {
  scheduled = false;
  const job = queue.shift();
  if (!job) return;
  let reply: Done;
  try {
    reply = { id: job.id, result: lintPackage(job.pkg, rules, cwd, ignoreNeeds) };
  } catch (err) {
    reply = { id: job.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  port.postMessage(reply);
  // Every package's files were parsed, at least for syntax errors (run.ts lintPackage).
  collectIfDue(job.pkg.files.length);
  schedule();
}

function schedule(): void {
  if (scheduled || queue.length === 0) return;
  scheduled = true;
  setImmediate(next);
}

port.on('message', (job: Job) => {
  queue.push(job);
  schedule();
});
