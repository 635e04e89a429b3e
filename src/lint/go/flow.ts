/**
 * Just enough control flow for "is X released on every way out of its owner": uses of a local
 * after it is made, whether a use is a call, a deferred call or an escape, and which exits of
 * the owner are not preceded, on every path, by a releasing statement. No CFG: statement lists
 * and their nesting are the paths, which is exact for straight-line code, ifs and loops, and
 * errs towards silence elsewhere.
 */
import {
  type Node,
  FUNC_TYPES,
  findOwn,
  findOwnOfType,
  isExitCall,
  loopCanExit,
  precededBy,
  statementOf,
  within,
} from './syntax.js';

type UseKind =
  | 'call' // x()
  | 'deferred-call' // defer x(), or a call inside a deferred func literal
  | 'method' // x.M(...) or x.F, see `member`
  | 'assign' // x = ... (reassigned)
  | 'escape'; // anything else: passed, stored, returned, captured by a goroutine

export interface Use {
  node: Node;
  kind: UseKind;
  member?: string;
  /** The use sits in a func literal nested in the owner. */
  nested: boolean;
  /** The call of `x()` or `x.M()`, when the use is one. */
  call?: Node;
}

/** Whether `call` runs deferred: `defer call`, or inside a func literal that is deferred. */
export function isDeferred(call: Node, owner: Node): boolean {
  if (call.parent?.type === 'defer_statement') return true;
  for (let p = call.parent; p && p.id !== owner.id; p = p.parent) {
    if (p.type === 'func_literal') {
      const c = p.parent;
      return c?.type === 'call_expression' && c.parent?.type === 'defer_statement';
    }
  }
  return false;
}

function classifyUse(id: Node, owner: Node): Use {
  let nested = false;
  for (let p = id.parent; p && p.id !== owner.id; p = p.parent)
    if (p.type === 'func_literal') nested = true;
  const parent = id.parent;
  if (parent?.type === 'call_expression' && parent.childForFieldName('function')?.id === id.id)
    return {
      node: id,
      kind: isDeferred(parent, owner)
        ? 'deferred-call'
        : nested || parent.parent?.type === 'go_statement'
          ? 'escape'
          : 'call',
      nested,
      call: parent,
    };
  if (parent?.type === 'selector_expression' && parent.childForFieldName('operand')?.id === id.id) {
    const member = parent.childForFieldName('field')?.text ?? '';
    const gp = parent.parent;
    const use: Use = { node: id, kind: 'method', member, nested };
    if (gp?.type === 'call_expression' && gp.childForFieldName('function')?.id === parent.id)
      use.call = gp;
    return use;
  }
  if (parent?.type === 'expression_list') {
    const stmt = parent.parent;
    if (
      stmt?.type === 'assignment_statement' &&
      stmt.childForFieldName('left')?.id === parent.id &&
      stmt.childForFieldName('operator')?.text === '='
    )
      return { node: id, kind: 'assign', nested };
  }
  return { node: id, kind: 'escape', nested };
}

/** Whether identifier `id` is only the right side of `_ = id`, which quiets the compiler. */
export function blankAssigned(id: Node): boolean {
  const list = id.parent;
  const stmt = list?.parent;
  if (list?.type !== 'expression_list' || stmt?.type !== 'assignment_statement') return false;
  if (stmt.childForFieldName('right')?.id !== list.id) return false;
  const i = list.namedChildren.findIndex((k) => k.id === id.id);
  return stmt.childForFieldName('left')?.namedChildren[i]?.text === '_';
}

/** Uses of identifier `name` inside `owner` after offset `after` (the definition excluded). */
export function usesOf(owner: Node, name: string, after: number): Use[] {
  return identifiersIn(owner, name)
    .filter((n) => n.startIndex > after)
    .map((n) => classifyUse(n, owner));
}

/**
 * The identifiers named `name` in `owner`'s body. A rule asks this for every context or ticker
 * made in a function, and a test function can make hundreds: the body's identifiers are
 * collected once per function (per tree, so nothing outlives its package) and grouped by name.
 */
const identCache = new WeakMap<object, Map<number, Map<string, Node[]>>>();
function identifiersIn(owner: Node, name: string): Node[] {
  const body = owner.childForFieldName('body');
  if (!body) return [];
  let perTree = identCache.get(owner.tree);
  if (!perTree) identCache.set(owner.tree, (perTree = new Map()));
  let byName = perTree.get(owner.id);
  if (!byName) {
    byName = new Map();
    for (const n of body.descendantsOfType('identifier')) {
      const t = n.text;
      let list = byName.get(t);
      if (!list) byName.set(t, (list = []));
      list.push(n);
    }
    perTree.set(owner.id, byName);
  }
  return byName.get(name) ?? [];
}

/** Go's terminating statements, closely enough: control never falls off the end of these. */
export function terminates(stmt: Node | undefined): boolean {
  if (!stmt) return false;
  switch (stmt.type) {
    case 'return_statement':
    case 'goto_statement':
      return true;
    case 'expression_statement': {
      const c = stmt.namedChild(0);
      return !!c && isExitCall(c);
    }
    case 'block':
      return terminates(lastStatement(stmt));
    case 'if_statement': {
      const alt = stmt.childForFieldName('alternative');
      return (
        !!alt && terminates(lastStatement(stmt.childForFieldName('consequence'))) && terminates(alt)
      );
    }
    case 'for_statement':
      return (
        !stmt.namedChildren.some((k) => k.type !== 'block' && k.type !== 'comment') &&
        !loopCanBreak(stmt)
      );
    case 'labeled_statement':
      return terminates(stmt.namedChildren.find((k) => k.type !== 'label_name'));
    case 'expression_switch_statement':
    case 'type_switch_statement':
    case 'select_statement': {
      const cases = stmt.namedChildren.filter((k) => /case$/.test(k.type));
      if (stmt.type !== 'select_statement' && !cases.some((k) => k.type === 'default_case'))
        return false;
      return cases.every((k) => {
        const list = k.namedChildren.find((x) => x.type === 'statement_list');
        return terminates(list ? lastNamed(list) : undefined) && !hasBreak(k);
      });
    }
  }
  return false;
}

function lastNamed(list: Node): Node | undefined {
  const kids = list.namedChildren.filter((k) => k.type !== 'comment');
  return kids[kids.length - 1];
}

function lastStatement(block: Node | null): Node | undefined {
  const list = block?.namedChildren.find((k) => k.type === 'statement_list');
  return list ? lastNamed(list) : undefined;
}

function hasBreak(n: Node): boolean {
  return findOwn(n, (k) => k.type === 'break_statement').length > 0;
}

function loopCanBreak(loop: Node): boolean {
  // loopCanExit also counts returns and panics, which do not make `for {}` fall through;
  // only a break does.
  if (!loopCanExit(loop)) return false;
  return findOwn(loop, (k) => k.type === 'break_statement').length > 0;
}

/**
 * The ways out of the scope of a local created by statement `created` that no `isRelease`
 * statement precedes on every path: return statements of the owner inside that scope, and the
 * end of the scope's block when control can fall off it. Empty when every exit is covered.
 */
export function uncoveredExits(
  created: Node,
  owner: Node,
  isRelease: (stmt: Node) => boolean,
): Node[] {
  const at = statementOf(created);
  if (!at) return [];
  return uncovered(at.list, at.stmt, owner, isRelease);
}

/**
 * The ways out of function `fn` (its returns, and the end of its body when control can fall
 * off it) that no `isRelease` statement precedes on every path: what a function handed a
 * cancel or a ticker as a parameter does with it on each way out. A body with no statements
 * is its own only way out.
 */
export function exitsWithout(fn: Node, isRelease: (stmt: Node) => boolean): Node[] {
  const body = fn.childForFieldName('body');
  if (!body) return [];
  const list = body.namedChildren.find((k) => k.type === 'statement_list');
  if (!list) return [body];
  return uncovered(list, undefined, fn, isRelease);
}

/** uncoveredExits over statement list `scope`, from statement `from` on (all of it without). */
function uncovered(
  scope: Node,
  from: Node | undefined,
  owner: Node,
  isRelease: (stmt: Node) => boolean,
): Node[] {
  const base = isRelease;
  // A `for {}` loop left only through breaks that each release first releases too: code after
  // it runs only after one of those breaks.
  isRelease = (stmt: Node): boolean => {
    if (base(stmt)) return true;
    const loop =
      stmt.type === 'labeled_statement'
        ? stmt.namedChildren.find((k) => k.type === 'for_statement')
        : stmt;
    if (
      loop?.type !== 'for_statement' ||
      !loop.namedChildren.every((k) => k.type === 'block' || k.type === 'comment')
    )
      return false;
    const label =
      stmt.type === 'labeled_statement' ? stmt.childForFieldName('label')?.text : undefined;
    const breaks = findOwnOfType(loop, 'break_statement').filter((b) => {
      const l = b.namedChildren.find((k) => k.type === 'label_name')?.text;
      if (l) return l === label;
      for (let p = b.parent; p && p.id !== loop.id; p = p.parent)
        if (
          /^(for_statement|select_statement|expression_switch_statement|type_switch_statement)$/.test(
            p.type,
          )
        )
          return false;
      return true;
    });
    return breaks.length > 0 && breaks.every((b) => precededBy(b, base, loop.startIndex));
  };
  const out: Node[] = [];
  const start = from?.startIndex ?? -1;
  for (const r of findOwnOfType(scope, 'return_statement')) {
    if (from && r.startIndex < from.endIndex) continue;
    if (!precededBy(r, isRelease, start)) out.push(r);
  }
  const kids = scope.namedChildren.filter((k) => k.type !== 'comment');
  const last = kids[kids.length - 1];
  const isFuncBody = !!scope.parent && FUNC_TYPES.has(scope.parent.parent?.type ?? '');
  const hasResults = isFuncBody && !!owner.childForFieldName('result');
  if (last && !terminates(last) && !hasResults) {
    const after = kids.filter((k) => k.startIndex > start);
    // Any release after the creation in this very list runs before the block ends (an early
    // return before it is reported on its own).
    const released = after.some((k) => isRelease(k));
    // A creation inside a loop body is released next time round only if the loop body itself
    // releases it: same rule.
    if (!released && !(from && within(last, from))) out.push(last);
  }
  return out;
}
