/**
 * Across functions and goroutines within a package: who starts a goroutine, what it waits on to
 * end, and whether the partner that should end it (the cancel of the context it is handed) is
 * ever reached. Used where a resource is harmless on its own and leaks only through the
 * goroutine holding it: a ticker since Go 1.23 is collected once unreferenced, so an unstopped
 * one leaks exactly when its goroutine never ends.
 */
import { type Use, usesOf } from './flow.js';
import type { GoStmt, Package } from './package.js';
import {
  type Node,
  FUNC_TYPES,
  findOwn,
  funcName,
  isExitCall,
  paramNames,
  topFunc,
} from './syntax.js';

/** Why a goroutine never ends, naming the partner that should have ended it and its line. */
export interface NeverEnds {
  /** The goroutine's only way out, as written: `<-ctx.Done()`. */
  exit: string;
  /** One line: what that way out waits for and why it never comes. */
  why: string;
  /** Where the partner is: the context's making, or the cancel nobody calls. */
  partner: Node;
}

function line(n: Node): number {
  return n.startPosition.row + 1;
}

/** The go statements that run `fn` (a literal, or a declared function named by its call). */
function launchesOf(pkg: Package, fn: Node): GoStmt[] {
  if (fn.type === 'func_literal') return pkg.goStmts.filter((g) => g.literal?.id === fn.id);
  return pkg.goStmts.filter((g) => g.targets.length === 1 && g.targets[0]!.node.id === fn.id);
}

/**
 * The single way out of goroutine body `fn`: every return of its own code sits in a select case
 * `<-X.Done()` on the same X, and nothing else (a panic, a fall off the end) can end it. The X
 * is returned, or undefined when there is another way out or none we recognise.
 */
function onlyDoneExit(fn: Node): { ctx: string; text: string } | undefined {
  const body = fn.childForFieldName('body');
  if (!body) return undefined;
  const list = body.namedChildren.find((k) => k.type === 'statement_list');
  const stmts = list?.namedChildren.filter((k) => k.type !== 'comment') ?? [];
  const last = stmts[stmts.length - 1];
  // The body must end in a `for {}` that nothing breaks out of.
  if (last?.type !== 'for_statement' || last.namedChildren.some((k) => k.type !== 'block'))
    return undefined;
  let ctx: string | undefined;
  let text = '';
  let ok = true;
  findOwn(body, (k) => {
    if (!ok) return false;
    if (k.type === 'break_statement' || k.type === 'goto_statement' || isExitCall(k)) {
      // A break inside a select or switch only leaves that statement; one aimed at the loop
      // (unlabelled at loop level, or labelled) ends the goroutine.
      if (k.type === 'break_statement') {
        if (k.namedChildCount > 0) ok = false;
        else {
          let p = k.parent;
          while (
            p &&
            p.id !== last.id &&
            !/^(select|expression_switch|type_switch)_statement$|^for_statement$/.test(p.type)
          )
            p = p.parent;
          if (!p || p.id === last.id) ok = false;
        }
      } else ok = false;
      return false;
    }
    if (k.type !== 'return_statement') return false;
    let cc: Node | null = k.parent;
    while (cc && cc.type !== 'communication_case' && !FUNC_TYPES.has(cc.type)) cc = cc.parent;
    const comm = cc?.type === 'communication_case' ? cc.childForFieldName('communication') : null;
    const m = comm
      ? /^<-\s*([\p{L}_][\p{L}\p{N}_]*)\s*\.\s*Done\s*\(\s*\)$/u.exec(comm.text)
      : null;
    if (!m || (ctx !== undefined && ctx !== m[1])) {
      ok = false;
      return false;
    }
    ctx = m[1]!;
    text = comm!.text;
    return false;
  });
  return ok && ctx !== undefined ? { ctx, text } : undefined;
}

/**
 * How many times the declared function or method `decl` is referred to outside its own
 * declaration: `.name` for a method, a bare `name` for a function (a local variable of the same
 * name counts too, which errs towards "referenced").
 */
export function references(pkg: Package, decl: Node): number {
  const name = funcName(decl);
  if (!name) return Infinity;
  const method = decl.type === 'method_declaration';
  let n = 0;
  for (const { file, index } of pkg.occurrences(name)) {
    let k = index - 1;
    while (k >= 0 && /\s/.test(file.code[k]!)) k--;
    const dotted = file.code[k] === '.';
    if (dotted !== method) {
      // Not this kind of reference, unless it is the declaration's own name.
      continue;
    }
    const own = decl.childForFieldName('name');
    if (own && index === own.startIndex && file.root.descendantForIndex(index).id === own.id)
      continue;
    n++;
  }
  return n;
}

function referenced(pkg: Package, decl: Node): boolean {
  return references(pkg, decl) > 0;
}

/**
 * Why the context `name` of function `owner` is never cancelled, or undefined when it may be:
 * made from Background/TODO, or by WithCancel with a cancel that is never called, or only
 * stored in fields whose calls sit in functions nothing in the package calls.
 */
function neverCancelled(
  pkg: Package,
  owner: Node,
  name: string,
): { why: string; partner: Node } | undefined {
  const body = owner.childForFieldName('body');
  if (!body) return undefined;
  const defs = findOwn(
    body,
    (k) =>
      k.type === 'short_var_declaration' &&
      !!k.childForFieldName('left')?.namedChildren.some((x) => x.text === name),
  );
  if (defs.length !== 1) return undefined;
  const def = defs[0]!;
  const left = def.childForFieldName('left')!.namedChildren;
  const right = def.childForFieldName('right')?.namedChildren ?? [];
  const call = right.length === 1 ? right[0] : right[left.findIndex((x) => x.text === name)];
  if (call?.type !== 'call_expression') return undefined;
  const callee = call.childForFieldName('function')?.text.replace(/\s+/g, '') ?? '';
  // Reassigned later (ctx, cancel = ...): another context.
  if (usesOf(owner, name, def.endIndex).some((u) => u.kind === 'assign')) return undefined;
  if (/^context\.(Background|TODO)$/.test(callee))
    return {
      why: `${name} is ${callee}() (line ${line(def)}), which nothing can cancel`,
      partner: def,
    };
  if (!/^context\.WithCancel(Cause)?$/.test(callee)) return undefined;
  const parent = call.childForFieldName('arguments')?.namedChildren[0]?.text.replace(/\s+/g, '');
  if (parent !== 'context.Background()' && parent !== 'context.TODO()') return undefined;
  const cancel = left[1]?.text;
  if (!cancel || cancel === '_')
    return { why: `${name}'s cancel is discarded at line ${line(def)}`, partner: def };
  // `_ = cancel` only quiets the compiler.
  const uses = usesOf(owner, cancel, def.endIndex).filter((u) => {
    const list = u.node.parent;
    const stmt = list?.parent;
    return !(
      stmt?.type === 'assignment_statement' &&
      stmt.childForFieldName('right')?.id === list?.id &&
      stmt.childForFieldName('left')?.text === '_'
    );
  });
  if (uses.length === 0)
    return { why: `${name}'s cancel (line ${line(def)}) is never called`, partner: def };
  const fields = storedOnlyInFields(uses);
  if (!fields) return undefined;
  const callers: string[] = [];
  for (const f of fields) {
    const reads = pkg.codeSearchWord(
      f,
      new RegExp(`\\.\\s*${f}(?![\\p{L}\\p{N}_])(\\s*\\()?`, 'gu'),
    );
    for (const r of reads) {
      if (!r.match[1]) {
        // Read without a call: the cancel is handed on, or assigned; unless this is the store.
        const n = r.file.root.descendantForIndex(r.index + r.match[0].indexOf(f));
        const sel = n.parent;
        const stmt = sel?.parent?.parent;
        if (
          stmt?.type === 'assignment_statement' &&
          stmt.childForFieldName('left')?.id === sel?.parent?.id
        )
          continue;
        return undefined;
      }
      const n = r.file.root.descendantForIndex(r.index + r.match[0].indexOf(f));
      const top = topFunc(n);
      if (!top || referenced(pkg, top)) return undefined;
      callers.push(`${funcName(top)} (line ${line(top)})`);
    }
  }
  const what = `${name}'s cancel (line ${line(def)}) is stored in .${fields.join(', .')}`;
  return callers.length === 0
    ? { why: `${what} and never called`, partner: def }
    : {
        why: `${what}, which only ${[...new Set(callers)].join(', ')} calls, and nothing in package ${pkg.name} calls ${callers.length === 1 ? 'that' : 'those'}`,
        partner: def,
      };
}

/** Field names a cancel local is stored into (`T{f: cancel}`, `x.f = cancel`) when that is its
 * only use; undefined otherwise. */
function storedOnlyInFields(uses: Use[]): string[] | undefined {
  const out: string[] = [];
  for (const u of uses) {
    const p = u.node.parent;
    if (p?.type === 'literal_element' && p.parent?.type === 'keyed_element') {
      const key = p.parent.namedChild(0);
      if (key?.id === p.id) continue; // `cancel: cancel`: the key is the field's name
      const f = key?.text ?? '';
      if (!/^[\p{L}_][\p{L}\p{N}_]*$/u.test(f)) return undefined;
      out.push(f);
      continue;
    }
    if (p?.type === 'expression_list' && p.parent?.type === 'assignment_statement') {
      const stmt = p.parent;
      if (stmt.childForFieldName('right')?.id !== p.id) return undefined;
      const i = p.namedChildren.findIndex((k) => k.id === u.node.id);
      const target = stmt.childForFieldName('left')?.namedChildren[i];
      if (target?.type !== 'selector_expression') return undefined;
      out.push(target.childForFieldName('field')?.text ?? '');
      continue;
    }
    return undefined;
  }
  return out.length > 0 ? [...new Set(out)] : undefined;
}

/**
 * Why the goroutine running `fn` can never end, judged against every go statement that starts
 * it: its only way out is `<-ctx.Done()`, and every launcher hands it a context nothing ever
 * cancels. Undefined when any launcher's context may be cancelled, when fn is also called
 * directly, or when fn has another way out.
 */
export function goroutineNeverEnds(pkg: Package, fn: Node): NeverEnds | undefined {
  const exit = onlyDoneExit(fn);
  if (!exit) return undefined;
  const launches = launchesOf(pkg, fn);
  if (launches.length === 0) return undefined;
  // Called directly too (not only through go): we cannot tell its other callers' contexts.
  if (fn.type !== 'func_literal') {
    if (references(pkg, fn) > launches.length) return undefined;
  }
  let first: { why: string; partner: Node } | undefined;
  for (const g of launches) {
    const launcher = ((): Node | null => {
      for (let p = g.node.parent; p; p = p.parent) if (FUNC_TYPES.has(p.type)) return p;
      return null;
    })();
    if (!launcher) return undefined;
    let ctxName = exit.ctx;
    if (fn.type !== 'func_literal') {
      const i = paramNames(fn).indexOf(exit.ctx);
      const arg = g.call.childForFieldName('arguments')?.namedChildren[i];
      if (i < 0 || arg?.type !== 'identifier') return undefined;
      ctxName = arg.text;
    }
    const never = neverCancelled(pkg, launcher, ctxName);
    if (!never) return undefined;
    first ??= never;
  }
  return first && { exit: exit.text, why: first.why, partner: first.partner };
}
