/**
 * One lint worker thread (started by pool.ts): takes packages one at a time, parses them and runs
 * the rules with the same code as the main thread (run.ts lintPackage), and sends back plain
 * findings.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Done, Job, Setup } from './pool.js';
import { collectIfDue, lintPackage } from './run.js';

const { rules, cwd } = workerData as Setup;
const port = parentPort!;

port.on('message', (job: Job) => {
  let reply: Done;
  try {
    reply = { id: job.id, result: lintPackage(job.pkg, rules, cwd) };
  } catch (err) {
    reply = { id: job.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  port.postMessage(reply);
  // The next package arrives as a message, so the trees' finalizers get their turn of the event
  // loop before it.
  collectIfDue(job.pkg.files.length);
});
