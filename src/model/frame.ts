/**
 * A frame of a goroutine's stack, as every reader produces it. Arguments and pointers are
 * dropped on purpose: two goroutines stuck on the same line are the same problem whatever
 * their arguments were, and grouping must not split them.
 */
export interface Frame {
  /** Fully qualified function name as Go prints it: `net/http.(*conn).serve`, `main.main.func1`. */
  readonly func: string;
  /** Import path of the function's package: `net/http`, `main`, `gopkg.in/yaml.v3`. */
  readonly pkg: string;
  /** Source file as the binary recorded it (absolute, or module-relative under -trimpath). */
  readonly file: string;
  readonly line: number;
}

/** Where a goroutine was started: the function holding the `go` statement, and its position. */
export type CreationSite = Frame;

/**
 * Splits a Go function name into its package path. The package is everything up to the first
 * dot after the last slash, except that a `.vN` major-version suffix (gopkg.in/yaml.v3) belongs
 * to the path.
 */
export function packageOf(func: string): string {
  const slash = func.lastIndexOf('/');
  let dot = func.indexOf('.', slash + 1);
  if (dot < 0) return func;
  // gopkg.in/yaml.v3.(*decoder).unmarshal: ".v3" is part of the import path.
  const rest = func.slice(dot + 1);
  const m = /^v\d+\./.exec(rest);
  if (m && slash >= 0) dot += m[0].length;
  return func.slice(0, dot);
}

/** `file:line`, the way Go prints positions. */
export function position(f: { file: string; line: number }): string {
  return `${f.file}:${f.line}`;
}

/** `func file:line`: one frame on one line, for people. */
export function frameText(f: Frame): string {
  return `${f.func} ${f.file}:${f.line}`;
}
