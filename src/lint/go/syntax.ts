/**
 * Small questions about tree-sitter-go syntax nodes that every rule asks: which function owns
 * this node, is this call `context.WithCancel`, which statements run before this one. Walks
 * stay inside one function body; a nested func literal is another owner.
 */
import type Parser from 'tree-sitter';

export type Node = Parser.SyntaxNode;

export const FUNC_TYPES = new Set(['function_declaration', 'method_declaration', 'func_literal']);

/** The function (declaration or literal) whose body holds `n`. */
export function ownerFunc(n: Node): Node | null {
  for (let p = n.parent; p; p = p.parent) if (FUNC_TYPES.has(p.type)) return p;
  return null;
}

/** The outermost declared function holding `n` (through any func literals). */
export function topFunc(n: Node): Node | null {
  let top: Node | null = null;
  for (let p = n.parent; p; p = p.parent)
    if (p.type === 'function_declaration' || p.type === 'method_declaration') top = p;
  return top;
}

export function funcName(fn: Node | null): string | undefined {
  if (!fn || fn.type === 'func_literal') return undefined;
  return fn.childForFieldName('name')?.text;
}

/**
 * The file's top-level declarations of type `type`, in order. A cursor steps over the others
 * without making a node of each (`root.namedChildren` makes thousands on a large file).
 */
export function topLevel(root: Node, type: string): Node[] {
  const out: Node[] = [];
  const c = root.walk();
  if (c.gotoFirstChild())
    do if (c.nodeType === type) out.push(c.currentNode);
    while (c.gotoNextSibling());
  return out;
}

/** Visits `root` and its descendants depth first; a func literal below `root` is not entered. */
function walkOwn(root: Node, visit: (n: Node) => void | false): void {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (visit(n) === false) continue;
    const kids = n.namedChildren;
    for (let i = kids.length - 1; i >= 0; i--) {
      const k = kids[i]!;
      if (k.type !== 'func_literal') stack.push(k);
    }
  }
}

/** Visits every descendant, func literals included. */
function walkAll(root: Node, visit: (n: Node) => void | false): void {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (visit(n) === false) continue;
    const kids = n.namedChildren;
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
}

export function findOwn(root: Node, pred: (n: Node) => boolean): Node[] {
  const out: Node[] = [];
  walkOwn(root, (n) => {
    if (pred(n)) out.push(n);
  });
  return out;
}

/**
 * Nodes of `types` under `root` that belong to root's own function (not to a func literal
 * nested in it): findOwn by type, but with the native walk, several times faster on large
 * functions.
 */
export function findOwnOfType(root: Node, types: string | string[]): Node[] {
  const home = FUNC_TYPES.has(root.type) ? root : ownerFunc(root);
  return root.descendantsOfType(types).filter((n) => {
    const o = ownerFunc(n);
    return (o?.id ?? -1) === (home?.id ?? -1);
  });
}

export function findAll(root: Node, pred: (n: Node) => boolean): Node[] {
  const out: Node[] = [];
  walkAll(root, (n) => {
    if (pred(n)) out.push(n);
  });
  return out;
}

/** Skips parentheses: `(x)` is `x`. */
export function unparen(n: Node): Node {
  while (n.type === 'parenthesized_expression' && n.namedChildCount === 1) n = n.namedChild(0)!;
  return n;
}

/** The method or function name a call invokes: `x.y.Stop()` → "Stop", `f()` → "f". */
export function calleeName(call: Node): string | undefined {
  const fn = call.childForFieldName('function');
  if (!fn) return undefined;
  if (fn.type === 'identifier') return fn.text;
  if (fn.type === 'selector_expression') return fn.childForFieldName('field')?.text;
  return undefined;
}

export function args(call: Node): Node[] {
  return call.childForFieldName('arguments')?.namedChildren ?? [];
}

/**
 * Where a value produced by `expr` (the i-th value on the right of `:=`, `=` or a var spec, or
 * one of several results of a call there) goes: the left-hand expression that receives result
 * `result` of it. `op` is ":=", "=" or "var".
 */
export function assignedTo(
  call: Node,
  result: number,
): { target: Node; op: ':=' | '=' | 'var'; stmt: Node } | undefined {
  let p = call.parent;
  if (p?.type !== 'expression_list') return undefined;
  const stmt = p.parent;
  if (!stmt) return undefined;
  let left: Node | null;
  let op: ':=' | '=' | 'var';
  if (stmt.type === 'short_var_declaration') {
    left = stmt.childForFieldName('left');
    op = ':=';
  } else if (stmt.type === 'assignment_statement') {
    if (stmt.childForFieldName('operator')?.text !== '=') return undefined;
    left = stmt.childForFieldName('left');
    op = '=';
  } else if (stmt.type === 'var_spec') {
    op = 'var';
    const names = stmt.childrenForFieldName('name');
    const target = names[result];
    return target ? { target, op, stmt } : undefined;
  } else return undefined;
  const rhs = p.namedChildren;
  const lhs = left?.namedChildren ?? [];
  // `a, b := f()`: the results of the single call spread over the left side.
  const index = rhs.length === 1 ? result : rhs.findIndex((r) => r.id === call.id);
  p = null;
  const target = lhs[index];
  return target ? { target, op, stmt } : undefined;
}

/** The statement that directly contains `n` in a statement list, and that list. */
export function statementOf(n: Node): { stmt: Node; list: Node } | undefined {
  let c: Node = n;
  for (let p = n.parent; p; c = p, p = p.parent) {
    if (p.type === 'statement_list') return { stmt: c, list: p };
    if (FUNC_TYPES.has(p.type)) return undefined;
  }
  return undefined;
}

/**
 * Whether `pred` holds for a statement that runs on every path before `n` within its function:
 * a statement earlier in the same list, or earlier in any enclosing list (never inside a
 * branch that might have been skipped), stopping at `limit` (exclusive) when given.
 */
export function precededBy(n: Node, pred: (stmt: Node) => boolean, after = -1): boolean {
  let c: Node = n;
  for (let p = n.parent; p && !FUNC_TYPES.has(p.type); c = p, p = p.parent) {
    if (p.type !== 'statement_list') continue;
    for (const s of p.namedChildren) {
      if (s.startIndex >= c.startIndex) break;
      if (s.startIndex > after && pred(s)) return true;
    }
  }
  return false;
}

/** `for {` or `for range ch` style loops: no condition and no three-part clause. */
export function isBareLoop(loop: Node): boolean {
  for (const k of loop.namedChildren) {
    if (k.type === 'for_clause' || k.type === 'range_clause') return false;
    if (k.type !== 'block' && k.type !== 'comment') return false; // a condition expression
  }
  return true;
}

function loopBody(loop: Node): Node | null {
  return loop.childForFieldName('body');
}

const BREAKABLE = new Set([
  'for_statement',
  'select_statement',
  'expression_switch_statement',
  'type_switch_statement',
]);

function labelOf(loop: Node): string | undefined {
  const p = loop.parent;
  if (p?.type === 'labeled_statement') return p.childForFieldName('label')?.text;
  return undefined;
}

/** Terminating calls: the goroutine or the process ends here. */
export function isExitCall(n: Node): boolean {
  if (n.type !== 'call_expression') return false;
  const fn = n.childForFieldName('function');
  if (!fn) return false;
  if (fn.type === 'identifier') return fn.text === 'panic';
  if (fn.type !== 'selector_expression') return false;
  const field = fn.childForFieldName('field')?.text ?? '';
  const op = fn.childForFieldName('operand')?.text ?? '';
  if (op === 'os' && field === 'Exit') return true;
  if (op === 'runtime' && field === 'Goexit') return true;
  if (op === 'syscall' && field === 'Exit') return true;
  if (/^(Fatal|Fatalf|Fatalln|Panic|Panicf|Panicln|FailNow|Skip|SkipNow|Skipf)$/.test(field))
    return true;
  return false;
}

/**
 * Whether control can leave `loop` (or its goroutine): a return, a goto, a break aimed at it, a
 * panic or exit call, anywhere in its body outside nested func literals.
 */
export function loopCanExit(loop: Node): boolean {
  const body = loopBody(loop);
  if (!body) return true;
  const label = labelOf(loop);
  let exits = false;
  const visit = (n: Node, depth: number) => {
    if (exits) return;
    switch (n.type) {
      case 'func_literal':
        return;
      case 'return_statement':
      case 'goto_statement':
        exits = true;
        return;
      case 'break_statement': {
        const l = n.namedChildren.find((k) => k.type === 'label_name')?.text;
        if ((l && l === label) || (!l && depth === 0)) exits = true;
        return;
      }
      case 'call_expression':
        if (isExitCall(n)) {
          exits = true;
          return;
        }
    }
    const d = BREAKABLE.has(n.type) ? depth + 1 : depth;
    for (const k of n.namedChildren) visit(k, d);
  };
  visit(body, 0);
  return exits;
}

/** Whether `n` is inside `outer` (or is it). */
export function within(n: Node, outer: Node): boolean {
  return n.startIndex >= outer.startIndex && n.endIndex <= outer.endIndex;
}

/** The nearest enclosing loop of `n` inside its own function, if any. */
export function enclosingLoop(n: Node, stopAt?: Node): Node | undefined {
  for (let p = n.parent; p && !FUNC_TYPES.has(p.type); p = p.parent) {
    if (stopAt && p.id === stopAt.id) return undefined;
    if (p.type === 'for_statement') return p;
  }
  return undefined;
}

/** Parameter names of a function node, in order (`a, b int` gives two). */
export function paramNames(fn: Node): string[] {
  const out: string[] = [];
  for (const pd of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    const names = pd.childrenForFieldName('name');
    if (names.length === 0) out.push('');
    for (const n of names) out.push(n.text);
  }
  return out;
}
