/**
 * A parsed Go package: every file's tree plus the few package-wide indexes the rules share
 * (declared functions by name, struct fields, `go` statements, plain-code text). Built once per
 * package, dropped when the package is done, so memory follows the largest package, not the
 * whole tree.
 */
import Parser from 'tree-sitter';
import Go from 'tree-sitter-go';
import type { PackageFiles } from './load.js';
import { type Node, FUNC_TYPES, topLevel, unparen } from './syntax.js';
import { codeOnly } from './text.js';

export interface GoFile {
  path: string;
  source: string;
  /** Source with comments and literals blanked; same offsets. */
  code: string;
  root: Node;
  /** Local import name → import path. */
  imports: Map<string, string>;
}

export interface FuncDecl {
  name: string;
  /** Receiver type name without `*` or type parameters, for methods. */
  recv?: string;
  node: Node;
  body: Node | null;
  file: GoFile;
}

export interface GoStmt {
  node: Node;
  file: GoFile;
  call: Node;
  /** The function the goroutine runs: a literal, or declared functions the name may refer to. */
  literal?: Node;
  targets: FuncDecl[];
}

interface ParseProblem {
  path: string;
  line: number;
  column: number;
}

let parser: Parser | undefined;
function getParser(): Parser {
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(Go as unknown as Parser.Language);
  }
  return parser;
}

export function parseGo(source: string): Parser.Tree {
  // The binding reads the string through a callback in chunks; one chunk for the whole file is
  // several times faster than the default 32 KiB on large files.
  return getParser().parse(source, undefined, { bufferSize: source.length * 2 + 1024 });
}

/**
 * Node types rules ask `Package.nodes` for that are found without walking the trees, each by
 * the keyword its node begins with or sits under (`func`: declared functions, all at the top
 * level). A kind is looked for in a package only when a rule asks for one of its types.
 */
const INDEXED: Readonly<Record<string, string>> = {
  function_declaration: 'func',
  method_declaration: 'func',
  go_statement: 'go',
  type_spec: 'type',
  field_declaration: 'struct',
  var_spec: 'var',
};
const INDEXED_TYPES = Object.keys(INDEXED);

/**
 * The file's nodes found from keyword `word` (see INDEXED), in tree order. A walk over a whole
 * native tree costs a fifth of its parse, while declared functions are top-level nodes (a
 * cursor steps over those) and every other one is a keyword's parent or lies one or two levels
 * under it: found from the keyword in the code, a few native calls each, and only for the kinds
 * some rule asks about in this package.
 */
function keywordNodes(file: GoFile, word: string): Node[] {
  const root = file.root;
  const out: Node[] = [];
  if (word === 'func') {
    const c = root.walk();
    if (c.gotoFirstChild())
      do
        if (c.nodeType === 'function_declaration' || c.nodeType === 'method_declaration')
          out.push(c.currentNode);
      while (c.gotoNextSibling());
    return out;
  }
  const under = (parent: Node, type: string) => {
    for (const k of parent.namedChildren) if (k.type === type) out.push(k);
  };
  const code = file.code;
  const re = new RegExp(`\\b${word}\\b`, 'g');
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const token = root.descendantForIndex(m.index, m.index + word.length);
    // Not an identifier that merely contains the word (`ñvar`), nor `.(type)`.
    const parent = token.type === word ? token.parent : null;
    if (!parent) continue;
    if (word === 'go') {
      if (parent.type === 'go_statement') out.push(parent);
    } else if (word === 'type') {
      if (parent.type === 'type_declaration') under(parent, 'type_spec');
    } else if (word === 'var') {
      if (parent.type !== 'var_declaration') continue;
      under(parent, 'var_spec');
      for (const list of parent.namedChildren)
        if (list.type === 'var_spec_list') under(list, 'var_spec');
    } else if (parent.type === 'struct_type') {
      const list = parent.namedChildren.find((k) => k.type === 'field_declaration_list');
      if (list) under(list, 'field_declaration');
    }
  }
  // A struct's fields come before the struct types nested in them, and a var's specs before a
  // var inside their values: sorted into tree order.
  return byStart(out);
}

/** Nodes sorted by start (no two of INDEXED's start at the same place: that is tree order). */
function byStart(nodes: Node[]): Node[] {
  // Each startIndex is a native call: read once per node, not once per comparison.
  const at = new Map(nodes.map((n) => [n, n.startIndex]));
  return nodes.sort((a, b) => at.get(a)! - at.get(b)!);
}

function importsOf(root: Node): Map<string, string> {
  const m = new Map<string, string>();
  // Imports sit at the top of the file: no need to walk function bodies for them.
  const decls = topLevel(root, 'import_declaration');
  for (const spec of decls.flatMap((d) => d.descendantsOfType('import_spec'))) {
    const path = spec.childForFieldName('path')?.text.replace(/^["`]|["`]$/g, '');
    if (!path) continue;
    const name = spec.childForFieldName('name')?.text;
    const local =
      name ??
      path
        .split('/')
        .pop()!
        .replace(/^go-/, '')
        .replace(/\.v\d+$/, '');
    if (local === '_' || local === '.') continue;
    // gopkg.in/yaml.v3 style and major-version suffixes: the package name is the element
    // before /vN.
    const parts = path.split('/');
    const last = parts[parts.length - 1]!;
    m.set(/^v\d+$/.test(last) && !name ? parts[parts.length - 2]! : local, path);
  }
  return m;
}

export class Package {
  readonly dir: string;
  readonly name: string;
  readonly files: GoFile[] = [];
  readonly problems: ParseProblem[] = [];
  /** Go 1.N of the module's go.mod; undefined when there is none (old semantics apply). */
  readonly goMinor: number | undefined;
  private cache = new Map<string, { file: GoFile; node: Node }[]>();
  private _funcs?: Map<string, FuncDecl[]>;
  private _fields?: Map<string, Map<string, Node>>;
  private _gos?: GoStmt[];

  /** `codes`: each file's codeOnly text, when the caller has it already (run.ts). */
  constructor(files: PackageFiles, codes?: readonly string[]) {
    this.dir = files.dir;
    this.name = files.name;
    this.goMinor = files.goMinor;
    for (const [i, f] of files.files.entries()) {
      const root = parseGo(f.source).rootNode;
      // tree-sitter recovers around a syntax error (Go 1.26's new(expr), a shadowed make): the
      // rest of the file is still linted, so its close/delete/Stop calls still count for the
      // package, and the file is listed so that nobody mistakes silence for a clean bill.
      const problem = syntaxProblem(f.path, root);
      if (problem) this.problems.push(problem);
      this.files.push({
        path: f.path,
        source: f.source,
        code: codes?.[i] ?? codeOnly(f.source),
        root,
        imports: importsOf(root),
      });
    }
  }

  private memos = new Map<string, unknown>();

  /** A value several rules share, computed once per package under `key`. */
  memo<T>(key: string, make: () => T): T {
    if (!this.memos.has(key)) this.memos.set(key, make());
    return this.memos.get(key) as T;
  }

  /** Whether the module's go.mod says at least Go 1.`minor`. */
  goAtLeast(minor: number): boolean {
    return this.goMinor !== undefined && this.goMinor >= minor;
  }

  /** Per file, INDEXED nodes by keyword (a tree with syntax errors: all of them, walked). */
  private index = new Map<GoFile, Map<string, Node[]>>();

  /** The file's INDEXED nodes found from `word`. */
  private indexed(file: GoFile, word: string): Node[] {
    let kinds = this.index.get(file);
    if (!kinds) {
      this.index.set(file, (kinds = new Map()));
      // A tree with syntax errors may hold these nodes anywhere (inside ERROR nodes): it is
      // walked once, for every kind.
      if (file.root.hasError) {
        for (const w of Object.values(INDEXED)) kinds.set(w, []);
        for (const n of file.root.descendantsOfType(INDEXED_TYPES))
          kinds.get(INDEXED[n.type]!)!.push(n);
      }
    }
    let nodes = kinds.get(word);
    if (!nodes) kinds.set(word, (nodes = keywordNodes(file, word)));
    return nodes;
  }

  /** Every node of the given types in the package, with its file (cached per type list). */
  nodes(...types: string[]): { file: GoFile; node: Node }[] {
    const key = types.join(',');
    let have = this.cache.get(key);
    if (!have) {
      have = [];
      // A walk over native trees costs about a fifth of parsing: the common types are found
      // from their keywords instead (INDEXED), once per file and kind, shared by every rule.
      if (types.every((t) => INDEXED[t] !== undefined)) {
        const want = new Set(types);
        const words = [...new Set(types.map((t) => INDEXED[t]!))];
        for (const file of this.files) {
          const found = words.flatMap((w) => this.indexed(file, w));
          for (const node of words.length > 1 ? byStart(found) : found)
            if (want.has(node.type)) have.push({ file, node });
        }
      } else
        for (const file of this.files)
          for (const node of file.root.descendantsOfType(types)) have.push({ file, node });
      this.cache.set(key, have);
    }
    return have;
  }

  /** Whether any file's code (comments and strings blanked) matches `re`. */
  codeMatches(re: RegExp): boolean {
    return this.files.some((f) => {
      re.lastIndex = 0;
      return re.test(f.code);
    });
  }

  /** Identifier → offsets in each file's code, built once per package on first use. */
  private words?: Map<GoFile, Map<string, number[]>>;

  /** Offsets of the word `name` (an identifier) in the package's code, per file. */
  occurrences(name: string): { file: GoFile; index: number }[] {
    if (!this.words) {
      this.words = new Map();
      const re = /[\p{L}_][\p{L}\p{N}_]*/gu;
      for (const file of this.files) {
        const m = new Map<string, number[]>();
        const code = file.code;
        re.lastIndex = 0;
        for (let x = re.exec(code); x; x = re.exec(code)) {
          // Skip words that are part of a number literal (1e9, 0x1f).
          const prev = x.index > 0 ? code.charCodeAt(x.index - 1) : 32;
          if (prev >= 48 && prev <= 57) continue;
          let list = m.get(x[0]);
          if (!list) m.set(x[0], (list = []));
          list.push(x.index);
        }
        this.words.set(file, m);
      }
    }
    const out: { file: GoFile; index: number }[] = [];
    for (const [file, m] of this.words)
      for (const index of m.get(name) ?? []) out.push({ file, index });
    return out;
  }

  /**
   * The matches of global regex `re` that contain an occurrence of the word `name`, found by
   * running `re` only over a window around each occurrence: a rule asking about one name per
   * node costs what that name's uses cost, not a pass over the package. `re` must not need more
   * than WINDOW characters of context on either side of the name.
   */
  codeSearchWord(
    name: string,
    re: RegExp,
  ): { file: GoFile; index: number; match: RegExpExecArray }[] {
    const WINDOW = 160;
    const out: { file: GoFile; index: number; match: RegExpExecArray }[] = [];
    let lastFile: GoFile | undefined;
    let lastIndex = -1;
    for (const { file, index } of this.occurrences(name)) {
      const from = Math.max(0, index - WINDOW);
      const text = file.code.slice(from, index + name.length + WINDOW);
      re.lastIndex = 0;
      for (let m = re.exec(text); m; m = re.exec(text)) {
        if (m[0].length === 0) re.lastIndex++;
        const at = from + m.index;
        if (at > index) break;
        if (at + m[0].length < index + name.length) continue;
        if (file === lastFile && at <= lastIndex) continue;
        lastFile = file;
        lastIndex = at;
        out.push({ file, index: at, match: m });
        break;
      }
    }
    return out;
  }

  /** All matches of a global regex over the package's code (of the files `only` keeps). */
  codeSearch(
    re: RegExp,
    only?: (file: GoFile) => boolean,
  ): { file: GoFile; index: number; match: RegExpExecArray }[] {
    const out: { file: GoFile; index: number; match: RegExpExecArray }[] = [];
    for (const file of this.files) {
      if (only && !only(file)) continue;
      re.lastIndex = 0;
      for (let m = re.exec(file.code); m; m = re.exec(file.code)) {
        out.push({ file, index: m.index, match: m });
        if (m[0].length === 0) re.lastIndex++;
      }
    }
    return out;
  }

  /** Declared functions and methods by name. */
  get funcs(): Map<string, FuncDecl[]> {
    if (!this._funcs) {
      const m = new Map<string, FuncDecl[]>();
      for (const { file, node } of this.nodes('function_declaration', 'method_declaration')) {
        const name = node.childForFieldName('name')?.text;
        if (!name) continue;
        let recv: string | undefined;
        if (node.type === 'method_declaration') {
          const r = node.childForFieldName('receiver')?.text ?? '';
          recv = /([\p{L}_][\p{L}\p{N}_]*)\s*(\[[^\]]*\])?\s*\)\s*$/u.exec(r)?.[1];
        }
        const d: FuncDecl = { name, node, body: node.childForFieldName('body'), file };
        if (recv) d.recv = recv;
        const list = m.get(name) ?? [];
        list.push(d);
        m.set(name, list);
      }
      this._funcs = m;
    }
    return this._funcs;
  }

  /** Struct type name → field name → field type node. */
  get structs(): Map<string, Map<string, Node>> {
    if (!this._fields) {
      const m = new Map<string, Map<string, Node>>();
      for (const { node } of this.nodes('type_spec')) {
        const type = node.childForFieldName('type');
        const name = node.childForFieldName('name')?.text;
        if (!name || type?.type !== 'struct_type') continue;
        const fields = new Map<string, Node>();
        for (const fd of type.descendantsOfType('field_declaration')) {
          const t = fd.childForFieldName('type');
          if (!t) continue;
          for (const n of fd.childrenForFieldName('name')) fields.set(n.text, t);
        }
        m.set(name, fields);
      }
      this._fields = m;
    }
    return this._fields;
  }

  /** Types of every struct field called `field`, across the package's structs. */
  fieldTypes(field: string): Node[] {
    const out: Node[] = [];
    for (const fields of this.structs.values()) {
      const t = fields.get(field);
      if (t) out.push(t);
    }
    return out;
  }

  /** Every `go` statement, with what it runs when we can tell. */
  get goStmts(): GoStmt[] {
    if (!this._gos) {
      this._gos = [];
      for (const { file, node } of this.nodes('go_statement')) {
        const call = node.namedChildren.find((k) => k.type === 'call_expression');
        if (!call) continue;
        const fn = unparen(call.childForFieldName('function')!);
        const g: GoStmt = { node, file, call, targets: [] };
        if (fn.type === 'func_literal') g.literal = fn;
        else g.targets = this.resolve(fn, file);
        this._gos.push(g);
      }
    }
    return this._gos;
  }

  /**
   * The declared functions an expression used as a callee may name: `f` → function f,
   * `x.m` → every method m in the package. Without types we cannot tell methods of different
   * types apart; callers treat several candidates conservatively.
   */
  resolve(fn: Node, file: GoFile): FuncDecl[] {
    if (fn.type === 'identifier')
      return (this.funcs.get(fn.text) ?? []).filter((d) => d.recv === undefined);
    if (fn.type === 'selector_expression') {
      const name = fn.childForFieldName('field')?.text ?? '';
      const op = fn.childForFieldName('operand');
      // pkg.F(): a function of another package, unknown here.
      if (op?.type === 'identifier' && file.imports.has(op.text)) return [];
      return (this.funcs.get(name) ?? []).filter((d) => d.recv !== undefined);
    }
    return [];
  }

  /** Whether `call` is `<import of path>.<one of names>(...)` in its file. */
  isPkgCall(file: GoFile, call: Node, path: string, names: readonly string[]): boolean {
    if (call.type !== 'call_expression') return false;
    const fn = call.childForFieldName('function');
    if (fn?.type !== 'selector_expression') return false;
    const op = fn.childForFieldName('operand');
    if (op?.type !== 'identifier' || file.imports.get(op.text) !== path) return false;
    return names.includes(fn.childForFieldName('field')?.text ?? '');
  }

  /**
   * Bodies that run as goroutines: literals of `go` statements and declared functions some
   * `go` statement starts, each with the statement that starts it.
   */
  goroutineBodies(): { body: Node; fn: Node; go: GoStmt; decl?: FuncDecl }[] {
    const out: { body: Node; fn: Node; go: GoStmt; decl?: FuncDecl }[] = [];
    const seen = new Set<number>();
    for (const g of this.goStmts) {
      if (g.literal) {
        const body = g.literal.childForFieldName('body');
        if (body) out.push({ body, fn: g.literal, go: g });
        continue;
      }
      for (const d of g.targets) {
        if (!d.body || seen.has(d.node.id)) continue;
        seen.add(d.node.id);
        out.push({ body: d.body, fn: d.node, go: g, decl: d });
      }
    }
    return out;
  }
}

/** Where a file's tree first fails to parse, if it does. */
function syntaxProblem(path: string, root: Node): ParseProblem | undefined {
  if (!root.hasError) return undefined;
  const bad = firstError(root) ?? root;
  return { path, line: bad.startPosition.row + 1, column: bad.startPosition.column + 1 };
}

/**
 * The syntax errors of a package no rule needs to look into (run.ts): its files are parsed
 * only to be checked, so that a broken file is listed whether or not lint had work there.
 */
export function syntaxProblems(files: PackageFiles): ParseProblem[] {
  const out: ParseProblem[] = [];
  for (const f of files.files) {
    const problem = syntaxProblem(f.path, parseGo(f.source).rootNode);
    if (problem) out.push(problem);
  }
  return out;
}

/** The first ERROR or MISSING node in source order, descending only where errors are. */
function firstError(root: Node): Node | undefined {
  const visit = (n: Node): Node | undefined => {
    if (n.type === 'ERROR' || n.isMissing) return n;
    if (!n.hasError) return undefined;
    for (const k of n.children) {
      const found = visit(k);
      if (found) return found;
    }
    return undefined;
  };
  return visit(root);
}

export { FUNC_TYPES };

const IDENT = '[\\p{L}_][\\p{L}\\p{N}_]*';

/**
 * Calls `<import of path>.<name>(...)` in the package, found by text first (cheap) and then
 * confirmed on the tree: the call node, its file and the function name.
 */
export function qualifiedCalls(
  pkg: Package,
  path: string,
  names: readonly string[],
): { file: GoFile; call: Node; name: string }[] {
  const re = new RegExp(
    `(?<![\\p{L}\\p{N}_.])(${IDENT})\\s*\\.\\s*(${names.join('|')})\\s*\\(`,
    'gu',
  );
  // The full pattern cannot skip ahead to a literal (it begins with a look-behind and a class),
  // so it is tried at every offset: files without `.name(` at all are left out first.
  const quick = new RegExp(`\\.\\s*(${names.join('|')})\\s*\\(`);
  const out: { file: GoFile; call: Node; name: string }[] = [];
  for (const { file, index, match } of pkg.codeSearch(re, (f) => quick.test(f.code))) {
    if (file.imports.get(match[1]!) !== path) continue;
    let n: Node | null = file.root.descendantForIndex(index, index + match[1]!.length);
    while (n && n.type !== 'call_expression') n = n.parent;
    if (!n || n.startIndex !== index) continue;
    out.push({ file, call: n, name: match[2]! });
  }
  return out;
}

/** Whether `name` is exported (other packages can use it, so package-local evidence is not all). */
export function isExported(name: string): boolean {
  return /^\p{Lu}/u.test(name);
}

/**
 * How the package's code refers to field (or method) `name` through a selector `.name`: as an
 * assignment target only, or also read (called, passed, copied) somewhere.
 */
export function fieldRefs(pkg: Package, name: string): { writes: number; reads: number } {
  let writes = 0;
  let reads = 0;
  const re = new RegExp(`\\.\\s*${name}(?![\\p{L}\\p{N}_])(\\s*=(?!=))?`, 'gu');
  for (const { match } of pkg.codeSearchWord(name, re)) {
    if (match[1]) writes++;
    else reads++;
  }
  return { writes, reads };
}
