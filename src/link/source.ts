/**
 * A checkout on disk, asked about frames from a dump: which local file a frame is in, whether the
 * code there is the code the dump ran (the function exists and holds the line; the line holds the
 * kind of operation the goroutine is blocked in), and the lines around it.
 *
 * Frames are placed by import path (from the function name) read against go.mod, plus the file's
 * base name; never by the absolute path the build machine had (/app, /build, a CI workspace, a
 * temp dir) and never by the module cache.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BlockKind } from '../analysis/blocking.js';
import { parseGo } from '../lint/go/package.js';
import { displayPath } from '../lint/run.js';
import type { Node } from '../lint/go/syntax.js';
import type { Frame } from '../model/frame.js';
import { parseFuncName, receiverOf, type FuncName } from './funcname.js';
import { modulesIn, packageDir, type Module } from './gomod.js';

export interface SourceFile {
  path: string;
  lines: string[];
  root: Node;
}

/** A frame placed in the checkout and checked against it. */
export interface Placed {
  frame: Frame;
  file: SourceFile;
  /** The declared function (or method) the frame runs in. */
  decl: Node;
  name: FuncName;
  /** Where the goroutine's own code is: the func literal for a closure frame, else `decl`. */
  body: Node;
}

type Placement =
  | { kind: 'placed'; at: Placed }
  /** In a module of the checkout, but the code here is not what the dump ran. */
  | { kind: 'mismatch'; frame: Frame; reason: string }
  /** Not the checkout's code (standard library, a dependency not vendored, generated wrappers). */
  | { kind: 'outside' };

/** What the innermost frame's line must hold, by what the goroutine is blocked on. */
type LineRole = 'blocking' | 'caller' | 'go';

/** Go source files larger than this are not read (generated tables, not code to link to). */
const MAX_FILE = 8 << 20;

export class Checkout {
  readonly dir: string;
  /** Paths are shown relative to this directory when inside it (where the user runs us). */
  readonly cwd: string;
  readonly modules: Module[];
  private readonly files = new Map<string, SourceFile | undefined>();

  constructor(dir: string, cwd = process.cwd()) {
    this.dir = dir;
    this.cwd = cwd;
    this.modules = modulesIn(dir);
  }

  /** A path for people (and for lint's findings, which use the same form). */
  display(path: string): string {
    return displayPath(path, this.cwd);
  }

  read(path: string): SourceFile | undefined {
    if (this.files.has(path)) return this.files.get(path);
    let f: SourceFile | undefined;
    try {
      if (statSync(path).size <= MAX_FILE) {
        const text = readFileSync(path, 'utf8');
        f = { path, lines: text.split('\n'), root: parseGo(text).rootNode };
      }
    } catch {
      f = undefined;
    }
    this.files.set(path, f);
    return f;
  }

  /** The local path of the frame's file, or undefined when no module of the checkout holds it. */
  private localFile(
    frame: Frame,
  ): { path: string; guessed?: boolean } | { missing: string } | undefined {
    const base = baseName(frame.file);
    if (frame.pkg !== 'main') {
      const pkg = frame.pkg.replace(/%2e/gi, '.').replace(/_test$/, '');
      const dir = packageDir(pkg, this.modules);
      if (dir === undefined) return undefined;
      const path = join(dir, base);
      return existsSync(path) ? { path } : { missing: `${base} is not in ${this.display(dir)}` };
    }
    // A main package has no import path in its function names: under -trimpath the file is
    // `<module path>/<dir>/<file>`; otherwise match the longest tail of the recorded path that
    // exists below a module of the checkout.
    const file = frame.file.replace(/\\/g, '/');
    for (const m of this.modules)
      if (file.startsWith(`${m.path}/`)) {
        const path = join(m.dir, ...file.slice(m.path.length + 1).split('/'));
        if (existsSync(path)) return { path };
      }
    // The directory holding the file must match too: `main.go` alone names half the world's
    // programs.
    const parts = file.split('/').filter(Boolean);
    const parent = parts[parts.length - 2];
    for (let k = parts.length; k >= 1; k--) {
      const tail = parts.slice(parts.length - k);
      for (const m of this.modules) {
        if (k === 1 && basename(m.dir) !== parent) continue;
        const path = join(m.dir, ...tail);
        if (existsSync(path) && statSync(path).isFile()) return { path, guessed: true };
      }
    }
    return undefined;
  }

  /**
   * Places a frame and checks it: the function is declared in that file and spans the line, and
   * the line holds what `role` needs (a `go` statement for a creation site; the blocking
   * operation for the innermost frame; a call for a caller).
   */
  place(frame: Frame, role: LineRole, blockedOn?: BlockKind): Placement {
    const p = this.check(frame, role, blockedOn);
    if (p.kind !== 'mismatch' || frame.pkg !== 'main') return p;
    // A main package placed by the tail of its path that fails the check may be another
    // program's file of the same name: not this code changed, so not a mismatch.
    const w = this.localFile(frame);
    return w && 'path' in w && w.guessed ? { kind: 'outside' } : p;
  }

  private check(frame: Frame, role: LineRole, blockedOn?: BlockKind): Placement {
    if (frame.file.startsWith('<') || frame.line <= 0) return { kind: 'outside' };
    const where = this.localFile(frame);
    if (where === undefined) return { kind: 'outside' };
    if ('missing' in where) return { kind: 'mismatch', frame, reason: where.missing };
    const name = parseFuncName(frame.func, frame.pkg);
    if (!name) return { kind: 'outside' };
    // Compiler wrappers have no line of their own to check.
    if (name.wrapper && role !== 'go') return { kind: 'outside' };
    const file = this.read(where.path);
    if (!file)
      return { kind: 'mismatch', frame, reason: `${this.display(where.path)} cannot be read` };
    const show = `${this.display(where.path)}:${frame.line}`;
    if (frame.line > file.lines.length)
      return {
        kind: 'mismatch',
        frame,
        reason: `${show} is past the end of the file (${file.lines.length} lines)`,
      };
    const row = frame.line - 1;
    // A goroutine caught at its function's first instruction (a crash dump of one just
    // started) is printed at line 1: nothing to check there, and nothing to link.
    if (frame.line === 1) return { kind: 'outside' };
    const decl = findDecl(file.root, name, row);
    const fname = printable(name);
    if (!decl) {
      const any = findDecl(file.root, name, undefined);
      return {
        kind: 'mismatch',
        frame,
        reason: any
          ? `${show}: ${fname} is at lines ${any.startPosition.row + 1}-${any.endPosition.row + 1} here, not at line ${frame.line}`
          : `${fname} is not declared in ${this.display(where.path)}`,
      };
    }
    const ops = opsOnLine(decl, row);
    const want = expected(role, blockedOn);
    if (![...ops].some((o) => want.has(o)) && !(role === 'caller' && endsWithDefers(decl, row))) {
      const text = (file.lines[row] ?? '').trim();
      return {
        kind: 'mismatch',
        frame,
        reason: `${show} is ${text === '' ? 'a blank line' : `\`${clip(text)}\``}, not ${WANT_WORDS[role === 'blocking' ? (blockedOn ?? 'unknown') : role] ?? 'a call or channel operation'}`,
      };
    }
    let body = decl;
    if (name.closure) {
      // The innermost func literal around the line is the closure this frame runs.
      const lit = innermost(decl, row, 'func_literal');
      if (lit) body = lit;
    }
    return { kind: 'placed', at: { frame, file, decl, name, body } };
  }

  /** Source lines around `line` (1-based), at most `around` either side. */
  codeAround(file: SourceFile, line: number, around = 2): { line: number; text: string }[] {
    const out: { line: number; text: string }[] = [];
    for (let n = Math.max(1, line - around); n <= Math.min(file.lines.length, line + around); n++)
      out.push({ line: n, text: (file.lines[n - 1] ?? '').replace(/\r$/, '') });
    return out;
  }

  /** Every .go file of a directory, parsed (for package-wide questions). */
  packageFiles(dir: string): SourceFile[] {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.go'));
    } catch {
      return [];
    }
    return names
      .map((n) => this.read(join(dir, n)))
      .filter((f): f is SourceFile => f !== undefined);
  }
}

function baseName(file: string): string {
  return basename(file.replace(/\\/g, '/'));
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function printable(n: FuncName): string {
  return n.recv ? (n.pointer ? `(*${n.recv}).${n.name}` : `${n.recv}.${n.name}`) : n.name;
}

/**
 * The top-level declaration of function `n` in a file: with `row`, the one spanning that row
 * (several `init` functions share a name).
 */
function findDecl(root: Node, n: FuncName, row: number | undefined): Node | undefined {
  for (const d of root.namedChildren) {
    if (row !== undefined && (row < d.startPosition.row || row > d.endPosition.row)) continue;
    // Closures in package-level variable initializers: `glob..func1`, and `init.funcN` since
    // Go 1.22.
    if (n.name === 'glob' || (n.name === 'init' && n.closure)) {
      if (d.type === 'var_declaration' && row !== undefined) return d;
      if (n.name === 'glob') continue;
    }
    if (d.type !== 'function_declaration' && d.type !== 'method_declaration') continue;
    if (d.childForFieldName('name')?.text !== n.name) continue;
    if (d.type === 'method_declaration' ? receiverOf(d)?.type !== n.recv : n.recv !== undefined)
      continue;
    return d;
  }
  return undefined;
}

type Op = 'call' | 'send' | 'recv' | 'select' | 'range' | 'go' | 'defer' | 'return';

/** The operations that start on row `row` inside `scope`. */
export function opsOnLine(scope: Node, row: number): Set<Op> {
  const ops = new Set<Op>();
  const stack: Node[] = [scope];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.endPosition.row < row || n.startPosition.row > row) continue;
    const starts = n.startPosition.row === row;
    switch (n.type) {
      case 'call_expression': {
        // A call spanning lines is recorded at its opening parenthesis or its start.
        const a = n.childForFieldName('arguments');
        if (starts || a?.startPosition.row === row) ops.add('call');
        break;
      }
      case 'send_statement':
        if (starts) ops.add('send');
        break;
      case 'unary_expression':
        if (starts && n.child(0)?.type === '<-') ops.add('recv');
        break;
      case 'select_statement':
        if (starts) ops.add('select');
        break;
      case 'for_statement':
        if (starts && n.namedChildren.some((k) => k.type === 'range_clause')) ops.add('range');
        break;
      case 'go_statement':
        if (starts) ops.add('go');
        break;
      case 'defer_statement':
        if (starts) ops.add('defer');
        break;
      case 'return_statement':
        if (starts) ops.add('return');
        break;
    }
    for (const k of n.namedChildren) stack.push(k);
  }
  return ops;
}

/** Deferred calls run at the function's end: a caller frame may sit on its closing brace. */
function endsWithDefers(decl: Node, row: number): boolean {
  return row === decl.endPosition.row && decl.descendantsOfType('defer_statement').length > 0;
}

const ANY: ReadonlySet<Op> = new Set(['call', 'send', 'recv', 'select', 'range', 'go', 'defer']);

function expected(role: LineRole, k: BlockKind | undefined): ReadonlySet<Op> {
  if (role === 'go') return new Set(['go']);
  if (role === 'caller') return new Set(['call', 'range', 'go', 'defer', 'return']);
  switch (k) {
    case 'chan-send':
    case 'nil-chan-send':
      return new Set(['send', 'select']);
    case 'chan-receive':
    case 'nil-chan-receive':
      // A select with one case compiles to a plain receive.
      return new Set(['recv', 'range', 'select']);
    case 'select':
    case 'select-no-cases':
      return new Set(['select']);
    default:
      return ANY;
  }
}

const WANT_WORDS: Partial<Record<BlockKind | LineRole, string>> = {
  go: 'a go statement',
  caller: 'a call',
  'chan-send': 'a channel send',
  'nil-chan-send': 'a channel send',
  'chan-receive': 'a channel receive',
  'nil-chan-receive': 'a channel receive',
  select: 'a select statement',
  'select-no-cases': 'a select statement',
};

/** The innermost node of `type` inside `scope` that spans `row`. */
function innermost(scope: Node, row: number, type: string): Node | undefined {
  let best: Node | undefined;
  const stack: Node[] = [scope];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.endPosition.row < row || n.startPosition.row > row) continue;
    if (n.type === type) best = n;
    for (const k of n.namedChildren) stack.push(k);
  }
  return best;
}
