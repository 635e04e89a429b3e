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

export function isStdlib(f: Frame): boolean {
  const slash = f.pkg.indexOf('/');
  const root = slash < 0 ? f.pkg : f.pkg.slice(0, slash);
  if (!STD_ROOTS.has(root) || root === 'main') return false;
  // A user package called e.g. `net/foo` in a dot-less module is rare; GOROOT paths settle it.
  return true;
}

/** Module cache, vendor directory, or a -trimpath'd `module@version/` path. */
export function isThirdParty(f: Frame): boolean {
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

/** A frame in a line of prose: `notify.(*Service).deliver (app/notify.go:144)`. */
export function frameShort(f: { func: string; file: string; line: number }): string {
  return `${shortFunc(f.func)} (${shortFile(f.file)}:${f.line})`;
}
