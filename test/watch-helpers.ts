/**
 * Running `leakwatch watch --json` as its own process in tests: its alert events as they come,
 * its stderr, and settings fast enough for a test (1 s scrapes, short windows).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, buildProgram, ROOT } from './helpers.js';

export interface Event {
  type: string;
  key: string;
  link?: { findings: { rule: string; file: string; line: number }[] };
  target: string;
  detector: string;
  summary: string;
  group?: {
    id: string;
    holder?: { func: string };
    createdBy?: { func: string };
    blockedOn: string;
    count: number;
  };
  /** The target's labels (service discovery), as the Alertmanager sink sends them. */
  labels: Record<string, string>;
}

/** Fast settings for a test: 1 s scrapes, a short baseline and growth window. */
export const FAST = [
  '--interval',
  '1s',
  '--baseline',
  '3s',
  '--warmup',
  '0s',
  '--growth-window',
  '20s',
  '--growth-min',
  '20',
  '--debug2-interval',
  '3s',
  '--leak-every',
  '5',
  '--no-view',
];

export function watch(args: string[]): {
  proc: ChildProcess;
  events: Event[];
  stderr: () => string;
} {
  const proc = spawn(process.execPath, [BIN, 'watch', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Event[] = [];
  let carry = '';
  let err = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    const lines = (carry + d).split('\n');
    carry = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) events.push(JSON.parse(l) as Event);
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { proc, events, stderr: () => err };
}

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * One target serving real captured profiles (testdata/cmd/pprof-farm, written by the runtime
 * days ago: their own timestamps are old). Resolves with its base URL.
 */
export async function servedProfile(
  args: string[] = [],
): Promise<{ url: string; stop: () => void }> {
  const p = spawn(buildProgram('cmd/pprof-farm'), ['-n', '1', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"([^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    });
    p.on('exit', (c) => reject(new Error(`pprof-farm exited ${c}`)));
  });
  return { url, stop: () => void p.kill('SIGKILL') };
}
