/**
 * What a goroutine is blocked on, from the runtime's wait reason when the format has one
 * (tracebacks), else from the frames (protobuf keeps runtime frames; debug=1 hides the leading
 * ones, so channel operations are not visible there).
 */
import type { Frame } from '../model/frame.js';

export type BlockKind =
  | 'chan-send'
  | 'chan-receive'
  | 'nil-chan-send'
  | 'nil-chan-receive'
  | 'select'
  | 'select-no-cases'
  | 'mutex'
  | 'rwmutex'
  | 'waitgroup'
  | 'cond'
  | 'semaphore'
  | 'io'
  | 'sleep'
  | 'syscall'
  | 'running'
  | 'runtime'
  | 'transient'
  | 'hidden'
  | 'unknown';

/** Blocked with nothing that could ever wake it: no other goroutine can reach the primitive. */
export const FOREVER: ReadonlySet<BlockKind> = new Set([
  'nil-chan-send',
  'nil-chan-receive',
  'select-no-cases',
]);

/** Human words for each kind, for the text report. */
export const BLOCK_WORDS: Record<BlockKind, string> = {
  'chan-send': 'channel send',
  'chan-receive': 'channel receive',
  'nil-chan-send': 'send on a nil channel (blocks forever)',
  'nil-chan-receive': 'receive from a nil channel (blocks forever)',
  select: 'select',
  'select-no-cases': 'select {} (blocks forever)',
  mutex: 'sync.Mutex.Lock',
  rwmutex: 'sync.RWMutex lock',
  waitgroup: 'sync.WaitGroup.Wait',
  cond: 'sync.Cond.Wait',
  semaphore: 'semaphore acquire',
  io: 'network or file I/O',
  sleep: 'sleep',
  syscall: 'system call',
  running: 'running',
  runtime: 'runtime-internal wait',
  transient: 'a brief wait inside the runtime (GC start or assist, stop-the-world)',
  hidden: 'channel operation or select (debug=1 hides which)',
  unknown: 'unknown (this format does not say)',
};

const BY_STATE: Record<string, BlockKind> = {
  'chan send': 'chan-send',
  'chan receive': 'chan-receive',
  'chan send (nil chan)': 'nil-chan-send',
  'chan receive (nil chan)': 'nil-chan-receive',
  select: 'select',
  'select (no cases)': 'select-no-cases',
  'sync.Mutex.Lock': 'mutex',
  'sync.RWMutex.RLock': 'rwmutex',
  'sync.RWMutex.Lock': 'rwmutex',
  'sync.WaitGroup.Wait': 'waitgroup',
  'sync.Cond.Wait': 'cond',
  'IO wait': 'io',
  sleep: 'sleep',
  syscall: 'syscall',
  running: 'running',
  runnable: 'running',
  preempted: 'running',
  'chan send (synctest)': 'chan-send',
  'chan receive (synctest)': 'chan-receive',
  'select (synctest)': 'select',
};

/** Function names that identify the blocking call when there is no wait reason. */
const BY_FRAME: [string, BlockKind][] = [
  ['runtime.block', 'select-no-cases'],
  ['runtime.selectgo', 'select'],
  ['runtime.chansend1', 'chan-send'],
  ['runtime.chansend', 'chan-send'],
  ['runtime.chanrecv1', 'chan-receive'],
  ['runtime.chanrecv2', 'chan-receive'],
  ['runtime.chanrecv', 'chan-receive'],
  ['sync.(*Mutex).Lock', 'mutex'],
  ['internal/sync.(*Mutex).Lock', 'mutex'],
  ['internal/sync.(*Mutex).lockSlow', 'mutex'],
  ['sync.(*RWMutex).Lock', 'rwmutex'],
  ['sync.(*RWMutex).RLock', 'rwmutex'],
  ['sync.(*WaitGroup).Wait', 'waitgroup'],
  ['sync.(*Cond).Wait', 'cond'],
  // The runtime's own semaphores (work.startSema, worldsema): an allocation that starts a GC,
  // or a GC assist, parks here for a moment. sync's semaphores enter at semacquire1 instead.
  ['runtime.semacquire', 'transient'],
  ['runtime.gcStart', 'transient'],
  ['runtime.gcParkAssist', 'transient'],
  ['runtime.stopTheWorld', 'transient'],
  ['runtime.stopTheWorldGC', 'transient'],
  ['internal/poll.runtime_pollWait', 'io'],
  ['runtime.netpollblock', 'io'],
  ['time.Sleep', 'sleep'],
  ['syscall.Syscall', 'syscall'],
  ['syscall.Syscall6', 'syscall'],
  ['syscall.RawSyscall', 'syscall'],
  ['internal/runtime/syscall.Syscall6', 'syscall'],
];
const FRAME_KIND = new Map(BY_FRAME);

/** Packages whose frames show when a goroutine waits on a sync-level semaphore. */
const SEMA_USERS = ['sync.', 'internal/sync.', 'internal/poll.', 'golang.org/x/sync/'];

export function blockKind(state: string, frames: readonly Frame[]): BlockKind {
  const k = BY_STATE[state];
  if (k !== undefined) {
    // `semacquire` and friends are refined by frames; these are already precise.
    return k;
  }
  if (state === 'semacquire' || state === '' || state === 'waiting' || state === 'leaked') {
    // Look a few frames deep: the runtime frames sit on top of the sync call.
    for (let i = 0; i < frames.length && i < 8; i++) {
      const fk = FRAME_KIND.get(frames[i]!.func);
      if (fk !== undefined) return fk;
    }
    // Tracebacks hide the runtime's frames; every sync primitive shows its own (sync.(*X).Y,
    // internal/sync, internal/poll) above the caller. A `semacquire` with none of them is one of
    // the runtime's own semaphores, entered from an allocation or GC call in the frame shown.
    if (state === 'semacquire')
      return frames.some((f) => SEMA_USERS.some((p) => f.func.startsWith(p)))
        ? 'semaphore'
        : 'transient';
    if (state === '' && frames[0]?.func === 'runtime.gopark') return 'runtime';
    // debug=1 drops the leading runtime frames: a user function on top was parked by the
    // runtime directly, which is what channel operations and select do.
    if (state === '' && frames[0] !== undefined && !frames[0].func.startsWith('runtime.'))
      return 'hidden';
    return 'unknown';
  }
  // A GC assist parks the allocating goroutine until background marking catches up: a user
  // goroutine here is busy allocating, not stuck.
  if (state === 'GC assist wait' && frames.some((f) => !f.func.startsWith('runtime.')))
    return 'transient';
  if (
    state.startsWith('GC') ||
    state.includes('garbage collection') ||
    state.includes('(idle)') ||
    state.includes('finalizer') ||
    state.includes('trace') ||
    state.includes('cleanup') ||
    state === 'force gc (idle)' ||
    state === 'wait for GC cycle' ||
    state === 'dead' ||
    state === 'idle'
  ) {
    return 'runtime';
  }
  if (state.startsWith('chan send')) return 'chan-send';
  if (state.startsWith('chan receive')) return 'chan-receive';
  if (state.startsWith('select')) return 'select';
  if (state.startsWith('sync.WaitGroup.Wait')) return 'waitgroup';
  return 'unknown';
}
