/**
 * Every process `leakwatch test` starts (go test, go test -c, test binaries re-run alone or
 * repeated) goes through one `Procs`: each runs in its own process group so that it and its
 * children can be stopped together, each has a deadline, and on Ctrl-C (or SIGTERM/SIGHUP) all
 * are stopped and the run ends with `Interrupted` so the caller's cleanup (temp dirs) runs.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Thrown when a signal stopped the run; the CLI exits 130 after the cleanup has run. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted (${signal})`);
  }
}

/** How long a process group gets between the polite signal and SIGKILL. */
const GRACE_MS = 3000;

export class Procs {
  private readonly live = new Set<ChildProcess>();
  interrupted?: NodeJS.Signals;

  /**
   * Starts a process in its own group. With `deadlineMs`, the group is stopped (SIGQUIT first,
   * so a Go binary prints its goroutines, then SIGKILL) if it runs longer.
   */
  spawn(cmd: string, args: string[], opts: SpawnOptions, deadlineMs?: number): ChildProcess {
    if (this.interrupted) throw new Interrupted(this.interrupted);
    const p = spawn(cmd, args, { ...opts, detached: true });
    this.live.add(p);
    let timer: NodeJS.Timeout | undefined;
    if (deadlineMs !== undefined) {
      timer = setTimeout(() => this.stop(p, 'SIGQUIT'), deadlineMs);
      timer.unref();
    }
    p.on('close', () => {
      this.live.delete(p);
      if (timer) clearTimeout(timer);
    });
    p.on('error', () => this.live.delete(p));
    return p;
  }

  /** Sends `sig` to the process's group, and SIGKILL if it is still there after the grace. */
  private stop(p: ChildProcess, sig: NodeJS.Signals): void {
    if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
    try {
      process.kill(-p.pid, sig);
    } catch {
      return; // already gone
    }
    const kill = setTimeout(() => {
      if (p.exitCode === null && p.signalCode === null) {
        try {
          process.kill(-p.pid!, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }, GRACE_MS);
    kill.unref();
    p.once('close', () => clearTimeout(kill));
  }

  /**
   * Catches SIGINT/SIGTERM/SIGHUP while the run lasts: the first stops every process group
   * (SIGINT, as a terminal would send it, then SIGKILL) and marks the run interrupted; a second
   * calls `hardExit` (remove temp files synchronously, exit 130). Returns the untrap function.
   */
  trap(hardExit: () => void): () => void {
    const on = (sig: NodeJS.Signals): void => {
      if (this.interrupted) {
        for (const p of this.live) if (p.pid !== undefined) killQuietly(-p.pid);
        hardExit();
        return;
      }
      this.interrupted = sig;
      for (const p of this.live) this.stop(p, 'SIGINT');
    };
    const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of sigs) process.on(s, on);
    return () => {
      for (const s of sigs) process.off(s, on);
    };
  }

  /** Throws `Interrupted` if a signal arrived: call between phases. */
  check(): void {
    if (this.interrupted) throw new Interrupted(this.interrupted);
  }

  /** Stops whatever is still running (any exit path, errors included). */
  stopAll(): void {
    for (const p of this.live) if (p.pid !== undefined) killQuietly(-p.pid);
  }
}

function killQuietly(pgid: number): void {
  try {
    process.kill(pgid, 'SIGKILL');
  } catch {
    // gone
  }
}
