/** Shared by the tests: where things are, running the CLI, and running Go. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { main } from '../src/cli/main.js';

/** Tests run from dist/test/; the repository is two levels up. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DUMPS = join(ROOT, 'testdata', 'dumps');
export const BIN = join(ROOT, 'bin', 'leakwatch.js');

export function dump(name: string): string {
  return join(DUMPS, name);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, as `leakwatch ...args`, with stdin from `stdin` when given. */
export async function cli(args: string[], stdin?: Buffer | string): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const input = Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]);
  const code = await main(args, { stdout: out, stderr: err, stdin: input });
  return { code, stdout, stderr };
}

/** Runs the real bin as a separate process: exit codes and stderr exactly as a user sees them. */
export function cliProcess(
  args: string[],
  opts: { stdin?: Buffer | string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.on('error', () => {});
    p.stdin.end(opts.stdin ?? '');
  });
}

let goChecked: string | undefined | null = null;
/** Why Go tests must skip, or undefined when `go` runs here. */
export function noGo(): string | undefined {
  if (goChecked === null) {
    const r = spawnSync('go', ['version'], { encoding: 'utf8' });
    goChecked = r.status === 0 ? undefined : 'the Go toolchain (`go`) is not on PATH';
  }
  return goChecked;
}

/** Builds a testdata program once per test run; returns the binary path. */
const built = new Map<string, string>();
export function buildProgram(pkg: string, env: NodeJS.ProcessEnv = {}): string {
  const tag = env.GOEXPERIMENT ? `-${env.GOEXPERIMENT}` : '';
  const key = pkg + tag;
  const have = built.get(key);
  if (have && existsSync(have)) return have;
  const out = join(ROOT, 'testdata', 'bin', `${pkg.replace(/\W+/g, '_')}${tag}`);
  const r = spawnSync('go', ['build', '-o', out, `./${pkg}`], {
    cwd: join(ROOT, 'testdata'),
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`go build ./${pkg} failed:\n${r.stderr}`);
  built.set(key, out);
  return out;
}

/** A testdata program running in the background, serving on the URL it printed. */
export interface Served {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a testdata binary that prints `listening on http://127.0.0.1:PORT` as its first line
 * (notify-server, dumpout's -serve mode) and resolves once it does.
 */
export function serve(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${bin} did not print its address in 20 s; stderr: ${err}`));
    }, 20_000);
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        p.stdout.removeAllListeners('data');
        p.stdout.resume();
        resolve({
          url: m[1]!,
          stop: () =>
            new Promise<void>((done) => {
              if (p.exitCode !== null) return done();
              p.once('exit', () => done());
              p.kill('SIGKILL');
            }),
        });
      }
    });
    p.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited (${code}) before serving; stderr: ${err}`));
    });
  });
}

/** Runs a binary to completion; throws with its stderr on failure. */
export function run(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(bin, args, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The line of each `// BUG n` comment of the seed service (testdata/notify/notify.go), by n. */
export function bugLines(): Map<number, number> {
  const m = new Map<number, number>();
  readFileSync(join(ROOT, 'testdata', 'notify', 'notify.go'), 'utf8')
    .split('\n')
    .forEach((l, i) => {
      const b = /\/\/ BUG (\d)/.exec(l);
      if (b) m.set(Number(b[1]), i + 1);
    });
  return m;
}

/**
 * A Go tool binary the fleet tests run for real (Prometheus, promtool, Alertmanager): the path in
 * `$<envVar>`, else the copy `.ci/run` caches at ~/.cache/leakwatch-ci/<dir>/<name>, else `name`
 * on PATH or in $(go env GOPATH)/bin. Undefined when none answers `--version`, so the caller skips
 * with the install line.
 */
export function findTool(name: string, envVar: string, cacheDir: string): string | undefined {
  const candidates: string[] = [];
  if (process.env[envVar]) candidates.push(process.env[envVar]!);
  candidates.push(join(homedir(), '.cache', 'leakwatch-ci', cacheDir, name), name);
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' });
  if (gopath.status === 0 && gopath.stdout.trim()) {
    candidates.push(join(gopath.stdout.trim().split(':')[0]!, 'bin', name));
  }
  for (const c of candidates) {
    if (c.includes('/') && !existsSync(c)) continue;
    const r = spawnSync(c, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0) return c;
  }
  return undefined;
}

/** Prometheus's text parser, built from testdata/promparse, or why it is not there. */
export function promparse(): { bin?: string; skip?: string } {
  const dir = join(ROOT, 'testdata', 'promparse');
  const bin = join(ROOT, 'testdata', 'bin', 'promparse');
  const r = spawnSync('go', ['build', '-o', bin, '.'], { cwd: dir, encoding: 'utf8' });
  if (r.error) return { skip: `go not found (${r.error.message})` };
  if (r.status !== 0) return { skip: `cannot build testdata/promparse: ${r.stderr.trim()}` };
  return { bin };
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(bin: string, text: string): Record<string, Sample[]> {
  const r = spawnSync(bin, [], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `Prometheus's parser rejects /metrics: ${r.stderr}\n${text}`);
  return JSON.parse(r.stdout) as Record<string, Sample[]>;
}

/** A port free on 127.0.0.1 just now, for programs that cannot listen on port 0 and say where. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
