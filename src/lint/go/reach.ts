/**
 * Across functions and goroutines within a package: who starts a goroutine, what it waits on to
 * end, and whether the partner that should end it (the cancel of the context it is handed) is
 * ever reached. Used where a resource is harmless on its own and leaks only through the
 * goroutine holding it: a ticker since Go 1.23 is collected once unreferenced, so an unstopped
 * one leaks exactly when its goroutine never ends.
 */
import { basename } from 'node:path';
import { type Use, blankAssigned, exitsWithout, isDeferred, usesOf } from './flow.js';
import type { FuncDecl, GoFile, GoStmt, Package } from './package.js';
import {
  type Node,
  FUNC_TYPES,
  findAll,
  findOwn,
  funcName,
  isExitCall,
  paramNames,
  statementOf,
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
  /** The partner's file (the launcher's, or the function the cancel was handed to). */
  partnerFile: GoFile;
}

/** A local handed as an argument to a function of the package: which one, under which name. */
export interface Handover {
  /** The function that receives it (a declared one, or a func literal called in place). */
  decl: FuncDecl;
  param: string;
  call: Node;
  /** The call is a `go` statement's: the function runs as its own goroutine. */
  go: boolean;
}

/**
 * The function and parameter that `use` (an identifier, or the operand of `&use`) is handed to
 * when it is an argument of a call of one declared function of the package (or of a func
 * literal called in place). Undefined for anything else: several candidate methods, a
 * variadic tail, another package's function.
 */
export function handedTo(pkg: Package, file: GoFile, use: Node): Handover | undefined {
  let arg = use;
  if (
    arg.parent?.type === 'unary_expression' &&
    arg.parent.childForFieldName('operator')?.text === '&'
  )
    arg = arg.parent;
  const list = arg.parent;
  const call = list?.parent;
  if (list?.type !== 'argument_list' || call?.type !== 'call_expression') return undefined;
  const fn = call.childForFieldName('function');
  if (!fn) return undefined;
  let decl: FuncDecl | undefined;
  if (fn.type === 'func_literal')
    decl = { name: 'the func literal', node: fn, body: fn.childForFieldName('body'), file };
  else {
    const targets = pkg.resolve(fn, file);
    if (targets.length === 1) decl = targets[0];
  }
  if (!decl?.body) return undefined;
  const ps = decl.node.childForFieldName('parameters')?.namedChildren ?? [];
  if (ps.some((k) => k.type === 'variadic_parameter_declaration')) return undefined;
  const params = paramNames(decl.node);
  const argv = list.namedChildren;
  if (argv.length !== params.length) return undefined;
  const param = params[argv.findIndex((k) => k.id === arg.id)];
  if (!param || param === '_') return undefined;
  return { decl, param, call, go: call.parent?.type === 'go_statement' };
}

/** What a function does with a value handed to it (see followParam). */
export type Fate =
  | { kind: 'released' }
  | { kind: 'unknown' }
  | {
      kind: 'kept';
      /** The function that keeps it: the last one it was handed to. */
      at: Handover;
      /** Where that function leaves without releasing it (or its parameter, if it never leaves). */
      exit: Node;
      /** Never released there at all (rather than missed on one way out). */
      never: boolean;
    };

/** How a kind of value is released, for followParam. */
export interface Release {
  /** A use that releases it (`cancel()`, `t.Stop()`), keeps it as it is (`t.C`), or other. */
  use(u: Use): 'release' | 'keep' | 'other';
  /**
   * When a release must cover every way out of the function (a cancel): the statements that
   * release `name` in `fn`, and the exits that need none. Without, one release anywhere does.
   */
  paths?: {
    stmt(name: string, fn: Node): (stmt: Node) => boolean;
    excused(exit: Node): boolean;
  };
}

/**
 * Follows a value into the function it is handed to (and on from there, a few calls deep):
 * released there (on every way out, when `how.paths` says so), kept (the function and the way
 * out it leaves by without releasing it), or unknown (stored, returned, captured, handed where
 * we cannot see: someone else may release it).
 */
export function followParam(pkg: Package, h: Handover, how: Release, depth = 0): Fate {
  const fn = h.decl.node;
  const params = fn.childForFieldName('parameters');
  const uses = usesOf(fn, h.param, params?.endIndex ?? fn.startIndex).filter(
    (u) => !blankAssigned(u.node),
  );
  let releases = 0;
  // Statements that release it by handing it on to a function that does.
  const handedOn = new Set<number>();
  let deeper: Fate | undefined;
  for (const u of uses) {
    if (u.kind === 'assign') return { kind: 'unknown' };
    const c = how.use(u);
    if (c === 'release') releases++;
    if (c !== 'other') continue;
    const next = depth < 3 && !u.nested ? handedTo(pkg, h.decl.file, u.node) : undefined;
    if (!next) return { kind: 'unknown' };
    const f = followParam(pkg, next, how, depth + 1);
    if (f.kind === 'unknown') return f;
    if (f.kind === 'kept') {
      deeper ??= f;
      continue;
    }
    releases++;
    const s = statementOf(next.call)?.stmt;
    if (s) handedOn.add(s.id);
  }
  const param = params?.descendantsOfType('identifier').find((k) => k.text === h.param) ?? fn;
  if (releases === 0)
    return (
      deeper ?? {
        kind: 'kept',
        at: h,
        exit: exitsWithout(fn, () => false)[0] ?? param,
        never: true,
      }
    );
  if (!how.paths) return { kind: 'released' };
  const rel = how.paths.stmt(h.param, fn);
  const missed = exitsWithout(fn, (s) => rel(s) || handedOn.has(s.id)).filter(
    (x) => !how.paths!.excused(x),
  );
  return missed.length === 0
    ? { kind: 'released' }
    : { kind: 'kept', at: h, exit: missed[0]!, never: false };
}

/**
 * The statements that release cancel func `name` in `owner`: `cancel()` as a statement,
 * `defer cancel()`, a deferred literal that calls it, or a select in which every case either
 * calls it or waits on `<-ctx.Done()` of this very context (once that fires the context is
 * already cancelled and let go by its parent).
 */
export function cancels(name: string, owner: Node, ctx: string | undefined) {
  const done = ctx ? new RegExp(`^<-\\s*${ctx}\\s*\\.\\s*Done\\s*\\(\\s*\\)$`) : undefined;
  const self = (stmt: Node): boolean => {
    // `<-ctx.Done()` as a statement: past it the context has ended and let go of its parent.
    if (done && stmt.type === 'expression_statement' && done.test(stmt.text)) return true;
    if (stmt.type === 'select_statement') {
      const cases = stmt.namedChildren.filter((k) => /case$/.test(k.type));
      return (
        cases.length > 0 &&
        cases.every((c) => {
          const comm = c.childForFieldName('communication');
          if (done && comm && done.test(comm.text)) return true;
          const list = c.namedChildren.find((k) => k.type === 'statement_list');
          return !!list && list.namedChildren.some((k) => self(k));
        })
      );
    }
    if (stmt.type === 'expression_statement' || stmt.type === 'defer_statement') {
      const call = stmt.namedChild(0);
      if (call?.type !== 'call_expression') return false;
      const fn = call.childForFieldName('function');
      if (fn?.type === 'identifier' && fn.text === name) return true;
      if (stmt.type === 'defer_statement' && fn?.type === 'func_literal')
        return findAll(fn, (k) => k.type === 'identifier' && k.text === name).some((id) =>
          isDeferred(id.parent!, owner),
        );
    }
    return false;
  };
  return self;
}

/** A cancel func: released by calling it on every way out of the function that holds it. */
const CANCEL: Release = {
  use: (u) => (u.kind === 'call' || u.kind === 'deferred-call' ? 'release' : 'other'),
  paths: {
    stmt: (name, fn) => cancels(name, fn, undefined),
    // A return on `case <-ctx.Done():` leaves once a context has ended: the one it was handed
    // or a parent of it, which ends its children too.
    excused: (exit) => {
      let cc: Node | null = exit.parent;
      while (cc && cc.type !== 'communication_case' && !FUNC_TYPES.has(cc.type)) cc = cc.parent;
      const comm = cc?.type === 'communication_case' ? cc.childForFieldName('communication') : null;
      return !!comm && /^<-\s*[\p{L}\p{N}_.]+\s*\.\s*Done\s*\(\s*\)$/u.test(comm.text);
    },
  },
};

/**
 * A cancel whose every use is handing it to functions that keep it (never call it, or miss it
 * on a way out): the first such function and where it leaves. Undefined when any use calls it,
 * stores it, or hands it where it may be called.
 */
export function cancelKept(
  pkg: Package,
  file: GoFile,
  uses: Use[],
): Extract<Fate, { kind: 'kept' }> | undefined {
  let first: Extract<Fate, { kind: 'kept' }> | undefined;
  for (const u of uses) {
    const h = u.kind === 'escape' && !u.nested ? handedTo(pkg, file, u.node) : undefined;
    if (!h) return undefined;
    const f = followParam(pkg, h, CANCEL);
    if (f.kind !== 'kept') return undefined;
    first ??= f;
  }
  return first;
}

/** "f (line N of file.go)": a function a value was handed to, for messages. */
export function describeKept(f: Extract<Fate, { kind: 'kept' }>, from: GoFile): string {
  const d = f.at.decl;
  const where = d.file !== from ? ` of ${basename(d.file.path)}` : '';
  return `${d.recv ? `${d.recv}.` : ''}${d.name} (line ${line(d.node)}${where})`;
}

/** How a kept value's function leaves without releasing it, naming the line. */
export function keptExit(f: Extract<Fate, { kind: 'kept' }>): string {
  if (f.exit.type === 'return_statement') return `returns at line ${line(f.exit)}`;
  if (f.exit.type === 'identifier')
    return `never returns (its parameter ${f.at.param} is at line ${line(f.exit)})`;
  return `leaves after its last statement (line ${line(f.exit)})`;
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
  file: GoFile,
  owner: Node,
  name: string,
): { why: string; partner: Node; partnerFile: GoFile } | undefined {
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
      partnerFile: file,
    };
  if (!/^context\.WithCancel(Cause)?$/.test(callee)) return undefined;
  const parent = call.childForFieldName('arguments')?.namedChildren[0]?.text.replace(/\s+/g, '');
  if (parent !== 'context.Background()' && parent !== 'context.TODO()') return undefined;
  const cancel = left[1]?.text;
  if (!cancel || cancel === '_')
    return {
      why: `${name}'s cancel is discarded at line ${line(def)}`,
      partner: def,
      partnerFile: file,
    };
  // `_ = cancel` only quiets the compiler.
  const uses = usesOf(owner, cancel, def.endIndex).filter((u) => !blankAssigned(u.node));
  if (uses.length === 0)
    return {
      why: `${name}'s cancel (line ${line(def)}) is never called`,
      partner: def,
      partnerFile: file,
    };
  // Handed to functions that never call it (or miss it on a way out): followed into them.
  const kept = cancelKept(pkg, file, uses);
  if (kept)
    return {
      why: `${name}'s cancel (line ${line(def)}) is handed to ${describeKept(kept, file)}, which ${kept.never ? 'never calls it and' : 'does not call it when it'} ${keptExit(kept)}`,
      partner: kept.exit,
      partnerFile: kept.at.decl.file,
    };
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
    ? { why: `${what} and never called`, partner: def, partnerFile: file }
    : {
        why: `${what}, which only ${[...new Set(callers)].join(', ')} calls, and nothing in package ${pkg.name} calls ${callers.length === 1 ? 'that' : 'those'}`,
        partner: def,
        partnerFile: file,
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
  let first: { why: string; partner: Node; partnerFile: GoFile } | undefined;
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
    const never = neverCancelled(pkg, g.file, launcher, ctxName);
    if (!never) return undefined;
    first ??= never;
  }
  return first && { exit: exit.text, ...first };
}
