/**
 * Goroutines that wait by design: the runtime's own, signal handling, servers waiting for the
 * next connection or request, HTTP client connection loops, the testing framework, and the
 * goroutine that wrote the dump. They are reported apart from suspects so a clean service reads
 * as clean. Each rule names the function that marks it, so a reader can check the claim.
 */
import type { Frame } from '../model/frame.js';
import type { BlockKind } from './blocking.js';
import { ownerOf } from './frames.js';

interface IdleRule {
  /** Shown in reports: why this group is not a suspect. */
  readonly reason: string;
  /** Any frame with one of these functions (exact, or prefix when ending in `*`). */
  readonly frames: readonly string[];
  /**
   * Idle only in a running service. After a test, a server or client connection still
   * waiting is exactly what a test must not leave behind.
   */
  readonly serviceOnly?: boolean;
}

/**
 * `service`: a dump of a running program. `test`: goroutines left when a test binary's tests
 * are done, where only the runtime's, the testing framework's and well-known daemons are
 * expected.
 */
export type IdleMode = 'service' | 'test';

const IDLE_RULES: readonly IdleRule[] = [
  {
    reason: 'the goroutine that wrote this dump',
    frames: [
      'runtime/pprof.writeGoroutineStacks',
      'runtime/pprof.writeGoroutine',
      'runtime.Stack',
      'runtime/debug.Stack',
      'runtime/pprof.(*Profile).WriteTo',
    ],
  },
  { reason: 'signal handling', frames: ['os/signal.signal_recv', 'os/signal.loop'] },
  {
    reason: 'HTTP server waiting for connections or requests',
    serviceOnly: true,
    frames: [
      'net/http.(*Server).Serve',
      'net/http.(*conn).serve',
      'net/http.(*connReader).backgroundRead',
      'net/http.(*connReader).startBackgroundRead*',
      'net/http.(*http2serverConn).serve',
      'golang.org/x/net/http2.(*serverConn).serve',
      'net/http.(*Server).ListenAndServe',
      'net/http.ListenAndServe',
    ],
  },
  {
    reason: 'HTTP client keep-alive connection loop',
    serviceOnly: true,
    frames: [
      'net/http.(*persistConn).readLoop',
      'net/http.(*persistConn).writeLoop',
      'net/http.(*http2ClientConn).readLoop',
      'golang.org/x/net/http2.(*ClientConn).readLoop',
    ],
  },
  {
    reason: 'testing framework',
    frames: [
      'testing.(*T).Run',
      'testing.runTests',
      'testing.(*M).Run',
      'testing.(*M).startAlarm',
      'testing.(*T).Parallel',
      'testing.tRunner.func1',
      'testing.(*testState).waitParallel',
    ],
  },
  {
    reason: 'well-known library background worker',
    frames: [
      'database/sql.(*DB).connectionOpener',
      'database/sql.(*DB).connectionCleaner',
      'k8s.io/klog/v2.(*flushDaemon).run*',
      'k8s.io/klog.(*loggingT).flushDaemon',
      'github.com/golang/glog.(*loggingT).flushDaemon',
      'go.opencensus.io/stats/view.(*worker).start',
      'google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run',
      'google.golang.org/grpc/internal/transport.(*controlBuffer).get',
      'google.golang.org/grpc/internal/transport.(*http2Client).reader',
      'google.golang.org/grpc/internal/transport.(*http2Server).keepalive',
      'google.golang.org/grpc/internal/transport.(*http2Client).keepalive',
    ],
  },
];

/** Rules compiled for lookup: exact names in a Map, `*` patterns as prefixes. */
class IdleMatcher {
  private readonly exact = new Map<string, IdleRule>();
  private readonly prefixes: [string, IdleRule][] = [];

  constructor(rules: readonly IdleRule[]) {
    for (const r of rules) {
      for (const f of r.frames) {
        if (f.endsWith('*')) this.prefixes.push([f.slice(0, -1), r]);
        else this.exact.set(f, r);
      }
    }
  }

  match(func: string): IdleRule | undefined {
    const r = this.exact.get(func);
    if (r) return r;
    for (const [p, pr] of this.prefixes) if (func.startsWith(p)) return pr;
    return undefined;
  }
}

const MATCHERS: Record<IdleMode, IdleMatcher> = {
  service: new IdleMatcher(IDLE_RULES),
  test: new IdleMatcher(IDLE_RULES.filter((r) => !r.serviceOnly)),
};

/** Runtime states that belong to the runtime's own goroutines (GC workers, finalizers...). */
function isRuntimeWait(kind: BlockKind, frames: readonly Frame[]): boolean {
  if (kind === 'runtime') return true;
  // A goroutine entirely inside the runtime (bgsweep, forcegchelper, runfinq...).
  return (
    frames.length > 0 &&
    frames.every((f) => f.pkg === 'runtime' || f.pkg.startsWith('internal/runtime'))
  );
}

/**
 * Why this stack is idle by design, or undefined for a possible suspect. `isMain` marks the
 * program's first goroutine (no creator): main blocking forever is how many servers end main().
 */
export function idleReason(
  frames: readonly Frame[],
  kind: BlockKind,
  isMain: boolean,
  mode: IdleMode = 'service',
): string | undefined {
  if (isRuntimeWait(kind, frames)) return 'Go runtime';
  // Caught for a moment inside the runtime (a GC it started or assists, a stop-the-world):
  // it runs again as soon as the GC lets it, so it is neither stuck nor leaked.
  if (kind === 'transient') return 'a brief wait inside the runtime (GC, stop-the-world)';
  const m = MATCHERS[mode];
  // Only the frames above the first user frame count: a handler blocked in user code is not
  // idle just because net/http's (*conn).serve sits at the bottom of its stack.
  for (const f of frames) {
    if (ownerOf(f) === 'user') break;
    const r = m.match(f.func);
    if (r) return r.reason;
  }
  if (isMain && mode === 'service') return 'the main goroutine';
  return undefined;
}
