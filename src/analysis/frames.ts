/**
 * Whose code a frame is: the runtime's, the standard library's, a third-party module's, or the
 * user's. The ownership questions are about user code, so this decides which frame we name.
 */
import type { Frame } from '../model/frame.js';

/**
 * First path elements of the standard library. A module path's first element has a dot
 * (github.com/...), so a dot-less root outside this list is a user module named without a domain.
 */
const STD_ROOTS = new Set(
  (
    'archive arena bufio builtin bytes cmp compress container context crypto database debug embed ' +
    'encoding errors expvar flag fmt go hash html image index internal io iter log maps math mime ' +
    'net os path plugin reflect regexp runtime slices sort strconv strings structs sync syscall ' +
    'testing text time unicode unique unsafe vendor weak'
  ).split(' '),
);

export type FrameOwner = 'runtime' | 'stdlib' | 'thirdparty' | 'user';

export function isRuntime(f: Frame): boolean {
  return (
    f.pkg === 'runtime' ||
    f.pkg.startsWith('runtime/internal') ||
    f.pkg.startsWith('internal/runtime')
  );
}

function isStdlib(f: Frame): boolean {
  const slash = f.pkg.indexOf('/');
  const root = slash < 0 ? f.pkg : f.pkg.slice(0, slash);
  if (!STD_ROOTS.has(root) || root === 'main') return false;
  // A user package called e.g. `net/foo` in a dot-less module is rare; GOROOT paths settle it.
  return true;
}

/** Module cache, vendor directory, or a -trimpath'd `module@version/` path. */
function isThirdParty(f: Frame): boolean {
  return f.file.includes('/pkg/mod/') || f.file.includes('/vendor/') || /@v\d/.test(f.file);
}

export function ownerOf(f: Frame): FrameOwner {
  if (isRuntime(f)) return 'runtime';
  if (isStdlib(f)) return 'stdlib';
  if (isThirdParty(f)) return 'thirdparty';
  return 'user';
}

/**
 * The frame that answers "which code holds it": the innermost user frame; failing that, the
 * innermost third-party frame (a library leaking on its own); failing that, the innermost frame
 * outside the runtime.
 */
export function holdingFrame(
  frames: readonly Frame[],
): { frame: Frame; owner: FrameOwner } | undefined {
  let third: Frame | undefined;
  let std: Frame | undefined;
  for (const f of frames) {
    const o = ownerOf(f);
    if (o === 'user') return { frame: f, owner: o };
    if (o === 'thirdparty') third ??= f;
    else if (o === 'stdlib') std ??= f;
  }
  if (third) return { frame: third, owner: 'thirdparty' };
  if (std) return { frame: std, owner: 'stdlib' };
  const last = frames[0];
  return last ? { frame: last, owner: 'runtime' } : undefined;
}

/** Short display name: `(*Service).deliver` for `leakwatch.test/testdata/notify.(*Service).deliver`. */
export function shortFunc(func: string): string {
  const slash = func.lastIndexOf('/');
  return slash < 0 ? func : func.slice(slash + 1);
}

/** Last two path elements of a file, enough to find it in an editor: `notify/service.go`. */
export function shortFile(file: string): string {
  const a = file.lastIndexOf('/');
  if (a < 0) return file;
  const b = file.lastIndexOf('/', a - 1);
  return file.slice(b + 1);
}

/**
 * Standard-library (and x/sync) functions that start a goroutine to run a function the caller
 * hands them. Go prints them as the creator (`created by sync.(*WaitGroup).Go`), which names the
 * same line of waitgroup.go for every such goroutine; the code that asked for it is the
 * function they run, the outermost frame below their own wrapper.
 */
const STARTERS: readonly (readonly [creator: string, name: string])[] = [
  ['sync.(*WaitGroup).Go', 'sync.(*WaitGroup).Go'],
  ['golang.org/x/sync/errgroup.(*Group).Go', 'errgroup.(*Group).Go'],
  ['golang.org/x/sync/errgroup.(*Group).TryGo', 'errgroup.(*Group).TryGo'],
  ['time.goFunc', 'time.AfterFunc'],
  ['context.(*afterFuncCtx).cancel', 'context.AfterFunc'],
];

/** The starter a function belongs to (itself or one of its closures), by its public name. */
function starterOf(func: string): string | undefined {
  for (const [c, name] of STARTERS) if (func === c || func.startsWith(`${c}.func`)) return name;
  return undefined;
}

/**
 * Where a goroutine was started, as a reader wants it: the `created by` frame, except that a
 * goroutine started through a standard-library starter (sync.WaitGroup.Go, errgroup's Go,
 * time.AfterFunc, context.AfterFunc) is attributed to the function it runs. Go does not print
 * the line that called the starter, so the site is that function at the line it is on.
 */
export function creationSite(
  c: Frame | undefined,
  frames: readonly Frame[],
): { site: Frame; via?: string } | undefined {
  if (!c) return undefined;
  const via = starterOf(c.func);
  if (via === undefined) return { site: c };
  // Outermost first: skip the starter's own wrapper (`sync.(*WaitGroup).Go.func1`).
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i]!;
    if (starterOf(f.func) !== undefined || isRuntime(f)) continue;
    return { site: f, via };
  }
  return { site: c };
}

/**
 * Whose code made the blocking call: the first frame below the runtime and the sync packages
 * (whose Lock and Wait are the call, not the caller).
 */
export function blockingCaller(frames: readonly Frame[]): Frame | undefined {
  return frames.find((f) => !isRuntime(f) && f.pkg !== 'sync' && f.pkg !== 'internal/sync');
}

/** A frame in a line of prose: `notify.(*Service).deliver (app/notify.go:144)`. */
export function frameShort(f: { func: string; file: string; line: number }): string {
  return `${shortFunc(f.func)} (${shortFile(f.file)}:${f.line})`;
}
