/**
 * Where a channel comes from and where it goes, for rules about who closes, sends on or
 * receives from it. Channels are followed by name within one function (locals) or by field
 * name within the package (unexported fields only, so no other package can touch them).
 */
import { type GoFile, type GoStmt, type Package, isExported } from './package.js';
import { type Node, FUNC_TYPES, args, calleeName, paramNames, within } from './syntax.js';

interface ChanDecl {
  /** The function whose local it is. */
  owner: Node;
  name: string;
  /** The `make(chan T[, n])` call, when made here. */
  make?: Node;
  stmt: Node;
}

/** `make(chan T)` or `make(chan T, 0)`: no buffer. Undefined when not a make of a channel. */
function makeBuffer(n: Node): number | 'unknown' | undefined {
  if (n.type !== 'call_expression' || calleeName(n) !== 'make') return undefined;
  if (n.childForFieldName('function')?.type !== 'identifier') return undefined;
  const a = n.childForFieldName('arguments');
  const kids = a?.namedChildren ?? [];
  if (kids[0]?.type !== 'channel_type') return undefined;
  if (kids.length < 2) return 0;
  const size = kids[1]!;
  if (size.type === 'int_literal') return Number(size.text.replace(/_/g, ''));
  return 'unknown';
}

/** The local channel `name` made in function `owner` (`name := make(chan ...)`), if any. */
export function localChan(owner: Node, name: string): ChanDecl | undefined {
  const body = owner.childForFieldName('body');
  if (!body) return undefined;
  let found: ChanDecl | undefined;
  let defs = 0;
  for (const call of body.descendantsOfType('call_expression')) {
    if (makeBuffer(call) === undefined) continue;
    const list = call.parent;
    if (list?.type !== 'expression_list') continue;
    const stmt = list.parent;
    if (stmt?.type !== 'short_var_declaration' && stmt?.type !== 'assignment_statement') continue;
    const left = stmt.childForFieldName('left')?.namedChildren ?? [];
    const i = list.namedChildren.findIndex((k) => k.id === call.id);
    if (left[i]?.text !== name) continue;
    if (ownerOf(call)?.id !== owner.id) continue;
    defs++;
    found = { owner, name, make: call, stmt };
  }
  for (const spec of body.descendantsOfType('var_spec')) {
    if (!spec.childrenForFieldName('name').some((k) => k.text === name)) continue;
    defs++;
    const v = spec.childForFieldName('value')?.namedChildren[0];
    found = { owner, name, stmt: spec, ...(v && makeBuffer(v) !== undefined ? { make: v } : {}) };
  }
  return defs === 1 ? found : undefined;
}

function ownerOf(n: Node): Node | null {
  for (let p = n.parent; p; p = p.parent) if (FUNC_TYPES.has(p.type)) return p;
  return null;
}

type ChanUseKind = 'send' | 'recv' | 'range' | 'close' | 'len' | 'make' | 'escape';

/** How an expression denoting the channel (identifier or selector) is used at `n`. */
export function chanUse(n: Node): ChanUseKind {
  const p = n.parent;
  if (!p) return 'escape';
  if (p.type === 'send_statement' && p.childForFieldName('channel')?.id === n.id) return 'send';
  if (p.type === 'unary_expression' && p.childForFieldName('operator')?.text === '<-')
    return 'recv';
  if (p.type === 'range_clause' && p.childForFieldName('right')?.id === n.id) return 'range';
  if (p.type === 'argument_list') {
    const call = p.parent!;
    const fn = call.childForFieldName('function');
    if (fn?.type === 'identifier') {
      if (fn.text === 'close') return 'close';
      if (fn.text === 'len' || fn.text === 'cap') return 'len';
    }
    return 'escape';
  }
  if (p.type === 'expression_list') {
    const stmt = p.parent;
    if (
      (stmt?.type === 'assignment_statement' || stmt?.type === 'short_var_declaration') &&
      stmt.childForFieldName('left')?.id === p.id
    )
      return 'make';
  }
  if (p.type === 'binary_expression') return 'len'; // ch == nil, ch != nil
  return 'escape';
}

/** Uses of local channel `name` anywhere inside `owner` (nested literals included). */
export function localChanUses(
  owner: Node,
  name: string,
  declStmt: Node,
): { node: Node; kind: ChanUseKind }[] {
  const body = owner.childForFieldName('body');
  if (!body) return [];
  return body
    .descendantsOfType('identifier')
    .filter(
      (k) =>
        k.text === name &&
        !(k.startIndex >= declStmt.startIndex && k.endIndex <= declStmt.endIndex),
    )
    .map((k) => ({ node: k, kind: chanUse(k) }));
}

/** Uses of field `field` (as `x.field`) across the package, classified. */
export function fieldChanUses(
  pkg: Package,
  field: string,
): { file: GoFile; node: Node; kind: ChanUseKind }[] {
  const out: { file: GoFile; node: Node; kind: ChanUseKind }[] = [];
  const re = new RegExp(`\\.\\s*(${field})(?![\\p{L}\\p{N}_])`, 'gu');
  for (const { file, index, match } of pkg.codeSearchWord(field, re)) {
    const at = index + match[0].length - field.length;
    let n: Node | null = file.root.descendantForIndex(at, at + field.length);
    if (n?.type !== 'field_identifier') continue;
    n = n.parent;
    if (n?.type !== 'selector_expression') continue;
    out.push({ file, node: n, kind: chanUse(n) });
  }
  return out;
}

/** Whether field `field` is declared as a channel in some struct of the package (and only so). */
export function isChanField(pkg: Package, field: string): boolean {
  if (isExported(field)) return false;
  const types = pkg.fieldTypes(field);
  return types.length > 0 && types.every((t) => t.type === 'channel_type');
}

/** Buffers of every `make(chan ...)` assigned to field `field` (`x.f = make(...)`, `{f: make(...)}`). */
export function fieldMakes(pkg: Package, field: string): (number | 'unknown')[] {
  const out: (number | 'unknown')[] = [];
  for (const u of fieldChanUses(pkg, field)) {
    if (u.kind !== 'make') continue;
    const list = u.node.parent!;
    const stmt = list.parent!;
    const i = list.namedChildren.findIndex((k) => k.id === u.node.id);
    const v = stmt.childForFieldName('right')?.namedChildren[i];
    const b = v ? makeBuffer(v) : undefined;
    out.push(b ?? 'unknown');
  }
  const re = new RegExp(`(?<![\\p{L}\\p{N}_.])${field}\\s*:\\s*make\\s*\\(`, 'gu');
  for (const { file, index } of pkg.codeSearchWord(field, re)) {
    let n: Node | null = file.root.descendantForIndex(index, index + field.length);
    while (n && n.type !== 'keyed_element') n = n.parent;
    const v = n?.namedChild(1)?.namedChild(0) ?? n?.namedChild(1);
    const b = v ? makeBuffer(v) : undefined;
    out.push(b ?? 'unknown');
  }
  return out;
}

/**
 * A goroutine as its launcher's channels see it: the function it runs (a literal, or the one
 * declared function a `go f(ch)` / `go s.m(ch)` names) and how a channel of the launcher is
 * called inside it: the same name in a literal that captures it, the parameter's name where the
 * channel is handed over as an argument.
 */
export interface GoView {
  go: GoStmt;
  /** The func literal or declaration the goroutine runs. */
  fn: Node;
  body: Node;
  file: GoFile;
  /** The launcher's name for the goroutine's channel `inner`, or undefined if not the launcher's. */
  outer(inner: string): string | undefined;
  /** The goroutine's name for the launcher's channel `outer`, or undefined if it cannot see it. */
  inner(outer: string): string | undefined;
  /** Whether a launcher use of a channel is the argument that hands it to the goroutine. */
  handsOver(use: Node): boolean;
  /** Uses of the goroutine's name `inner` inside the goroutine's function. */
  uses(inner: string): { node: Node; kind: ChanUseKind }[];
}

export function goView(g: GoStmt): GoView | undefined {
  const fn = g.literal ?? (g.targets.length === 1 ? g.targets[0]!.node : undefined);
  const body = fn?.childForFieldName('body');
  if (!fn || !body) return undefined;
  const file = g.literal ? g.file : g.targets[0]!.file;
  const params = paramNames(fn);
  const variadic = (fn.childForFieldName('parameters')?.namedChildren ?? []).some(
    (k) => k.type === 'variadic_parameter_declaration',
  );
  const argv = args(g.call);
  // Parameter i receives argument i; a variadic tail is not followed.
  const passed = new Map<string, string>(); // param → launcher's identifier
  const handed = new Set<number>();
  if (!variadic && argv.length === params.length)
    argv.forEach((a, i) => {
      // `&wg` hands over the variable itself, as a WaitGroup or mutex must be.
      const id =
        a.type === 'unary_expression' && a.childForFieldName('operator')?.text === '&'
          ? a.childForFieldName('operand')
          : a;
      if (id?.type !== 'identifier' || !params[i] || params[i] === '_') return;
      passed.set(params[i]!, id.text);
      handed.add(id.id);
    });
  const captures = !!g.literal;
  const paramSet = new Set(params);
  return {
    go: g,
    fn,
    body,
    file,
    outer: (inner) => passed.get(inner) ?? (captures && !paramSet.has(inner) ? inner : undefined),
    inner: (outer) => {
      for (const [p, a] of passed) if (a === outer) return p;
      return captures && !paramSet.has(outer) ? outer : undefined;
    },
    handsOver: (use) => handed.has(use.id) && within(use, g.call),
    uses: (inner) =>
      body
        .descendantsOfType('identifier')
        .filter((k) => k.text === inner)
        .map((k) => ({ node: k, kind: chanUse(k) })),
  };
}

export { args };
