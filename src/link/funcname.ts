/**
 * Go's runtime names for functions, taken apart: `pkg.(*T).m.func1.2` is method m of *T, inside
 * closure 1, inside closure 2 of that. The declared function (receiver and name) is what source
 * can be searched for; the closure path says the frame runs in a func literal inside it.
 */
import type { Node } from '../lint/go/syntax.js';

export interface FuncName {
  /** Receiver type name without `*` and type arguments; undefined for plain functions. */
  recv?: string;
  /** The receiver is a pointer: `(*T).m`. */
  pointer?: boolean;
  /** Declared name (`init` for every init function; `glob` for package-level closures). */
  name: string;
  /** The frame runs inside a func literal (`.funcN`, `.N`) of the declared function. */
  closure: boolean;
  /** A compiler-made wrapper (`gowrapN`, `deferwrapN`, method values `-fm`): no source line of its own. */
  wrapper: boolean;
}

/** Drops `[...]` type arguments, nested or not. */
function stripTypeArgs(s: string): string {
  let out = '';
  let depth = 0;
  for (const ch of s) {
    if (ch === '[') depth++;
    else if (ch === ']') depth = Math.max(0, depth - 1);
    else if (depth === 0) out += ch;
  }
  return out;
}

const CLOSURE = /^(func\d+|\d+)$/;
const WRAPPER = /^(gowrap|deferwrap)\d+$/;

/** Splits `func` (a full runtime name) given its package path `pkg`. */
export function parseFuncName(func: string, pkg: string): FuncName | undefined {
  if (!func.startsWith(`${pkg}.`)) return undefined;
  let rest = stripTypeArgs(func.slice(pkg.length + 1));
  let wrapper = false;
  if (rest.endsWith('-fm')) {
    rest = rest.slice(0, -3);
    wrapper = true;
  }
  let recv: string | undefined;
  const m = /^\((\*?)([^)]+)\)\.(.*)$/.exec(rest);
  if (m) {
    recv = m[2]!;
    rest = m[3]!;
  }
  // `glob..func1`: a closure in a package-level variable's initializer.
  const parts = rest.split('.').filter((p, i) => p !== '' || i === 0);
  if (parts.length === 0 || parts[0] === '') return undefined;
  let i = 0;
  // A value receiver prints without parentheses: T.m. A second part that is not a closure or
  // wrapper name, after a first that is not `init`, is a method name.
  if (
    recv === undefined &&
    parts.length >= 2 &&
    parts[0] !== 'init' &&
    parts[0] !== 'glob' &&
    !CLOSURE.test(parts[1]!) &&
    !WRAPPER.test(parts[1]!)
  ) {
    recv = parts[0];
    i = 1;
  }
  const name = parts[i]!;
  let tail = parts.slice(i + 1);
  // init.0, init.1: the Nth init function of the package, not a closure.
  if (name === 'init' && /^\d+$/.test(tail[0] ?? '')) tail = tail.slice(1);
  const closure = tail.some((p) => CLOSURE.test(p));
  if (tail.some((p) => WRAPPER.test(p))) wrapper = true;
  const out: FuncName = { name, closure, wrapper };
  if (recv !== undefined) out.recv = recv;
  if (m?.[1] === '*') out.pointer = true;
  return out;
}

/** The receiver type of a method declaration: its name (no `*`, no type parameters) and whether it is a pointer. */
export function receiverOf(decl: Node): { type: string; pointer: boolean } | undefined {
  const r = decl.childForFieldName('receiver')?.text;
  const m = r ? /(\*?)\s*([\p{L}_][\p{L}\p{N}_]*)\s*(\[[^\]]*\])?\s*\)\s*$/u.exec(r) : null;
  return m ? { type: m[2]!, pointer: m[1] === '*' } : undefined;
}

/** The declared function holding `n`, as Go names it without the package: `(*T).m`, `F`. */
export function enclosingName(n: Node): string | undefined {
  for (let p = n.parent; p; p = p.parent) {
    if (p.type !== 'function_declaration' && p.type !== 'method_declaration') continue;
    const name = p.childForFieldName('name')?.text ?? '?';
    const r = receiverOf(p);
    return r ? (r.pointer ? `(*${r.type}).${name}` : `${r.type}.${name}`) : name;
  }
  return undefined;
}
