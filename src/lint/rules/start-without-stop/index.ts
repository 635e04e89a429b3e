/**
 * start-without-stop: a value of a package type whose Start method launches a goroutine and
 * whose Stop (or Close, Shutdown) method ends it is started in a function that made it, and
 * never stopped there: no Stop at all, or a Stop that an early return skips. The value does not
 * leave the function (not returned, passed, stored or reassigned), so nobody else can stop it:
 * when the function returns, the goroutine Start launched runs on with nobody to end it.
 */
import { basename } from 'node:path';
import { type Use, isDeferred, uncoveredExits, usesOf } from '../../go/flow.js';
import type { FuncDecl, GoFile, Package } from '../../go/package.js';
import {
  type Node,
  FUNC_TYPES,
  assignedTo,
  findAll,
  findOwn,
  funcName,
  ownerFunc,
  statementOf,
  within,
} from '../../go/syntax.js';
import type { Report, Rule } from '../../rule.js';

const STOPS = ['Stop', 'Close', 'Shutdown'];

function line(n: Node): number {
  return n.startPosition.row + 1;
}

/** A type whose Start launches a goroutine, with its stop methods and that goroutine. */
interface Startable {
  type: string;
  /** What starts it: `T.Start`, or a constructor `NewT` that launches the goroutine itself. */
  what: string;
  stops: string[];
  /** The go statement Start runs (in its body, or in a method of its own it calls). */
  launch: { node: Node; file: GoFile };
}

/**
 * The go statement `start` runs: its own, or one in a method of the same type that it calls on
 * its receiver (`s.startGoRoutine(f)`, `s.startMonitoring()`), one call deep.
 */
function launchIn(
  pkg: Package,
  fn: FuncDecl,
  type: string,
  always = false,
): { node: Node; file: GoFile } | undefined {
  const top = (b: Node): Node[] =>
    b.namedChildren.find((k) => k.type === 'statement_list')?.namedChildren ?? [];
  const gos = (b: Node): Node[] =>
    always
      ? top(b).filter((k) => k.type === 'go_statement')
      : findOwn(b, (k) => k.type === 'go_statement');
  const own = gos(fn.body!)[0];
  if (own) return { node: own, file: fn.file };
  const calls = always
    ? top(fn.body!)
        .filter((k) => k.type === 'expression_statement')
        .map((k) => k.namedChild(0)!)
        .filter((k) => k.type === 'call_expression')
    : findOwn(fn.body!, (k) => k.type === 'call_expression');
  for (const call of calls) {
    const f = call.childForFieldName('function');
    if (f?.type !== 'selector_expression' || f.childForFieldName('operand')?.type !== 'identifier')
      continue;
    const name = f.childForFieldName('field')?.text ?? '';
    for (const d of pkg.funcs.get(name) ?? []) {
      if (d.recv !== type || !d.body || d.node.id === fn.node.id) continue;
      const go = gos(d.body)[0];
      // A method that may return before its go (`if opts.NoSigs { return }`) may launch nothing.
      if (
        always &&
        go &&
        findOwn(d.body, (k) => k.type === 'return_statement').some(
          (r) => r.startIndex < go.startIndex,
        )
      )
        continue;
      if (go) return { node: go, file: d.file };
    }
  }
  return undefined;
}

/** The type named by a function's first result, `T` or `*T`. */
function resultType(fn: Node): string | undefined {
  const res = fn.childForFieldName('result');
  const first =
    res?.type === 'parameter_list' ? res.namedChildren[0]?.childForFieldName('type') : res;
  const t = first?.type === 'pointer_type' ? first.namedChildren[0] : first;
  return t?.type === 'type_identifier' ? t.text : undefined;
}

/** The stop methods type `type` has. */
function stopsOf(pkg: Package, type: string): string[] {
  return STOPS.filter((s) => (pkg.funcs.get(s) ?? []).some((d) => d.recv === type));
}

/**
 * Package functions that make a T and launch its goroutine before handing it back (`NewPoller`
 * with `go p.loop()` inside), for types with a stop method: calling one is the Start.
 */
function constructors(pkg: Package): Map<string, Startable> {
  return pkg.memo('start-without-stop:constructors', () => {
    const out = new Map<string, Startable>();
    for (const [name, decls] of pkg.funcs) {
      if (decls.length !== 1) continue;
      const d = decls[0]!;
      if (d.recv || !d.body) continue;
      const type = resultType(d.node);
      if (!type) continue;
      // A context among the parameters is how the caller ends the goroutine.
      const params = d.node.childForFieldName('parameters')?.text ?? '';
      if (/\bcontext\s*\.\s*Context\b/.test(params)) continue;
      const stops = stopsOf(pkg, type);
      if (stops.length === 0) continue;
      // Only a goroutine every call launches: a `go` (or a call of a method of T that runs
      // one) among the body's own statements, not under an if or a loop (an option may turn
      // it off; a loop may run zero times).
      const launch = launchIn(pkg, d, type, true);
      if (launch) out.set(name, { type, what: name, stops, launch });
    }
    return out;
  });
}

/** Receiver type → its Start/Stop pair, for every type in the package that has one. */
function startables(pkg: Package): Map<string, Startable> {
  return pkg.memo('start-without-stop:types', () => {
    const out = new Map<string, Startable>();
    for (const start of pkg.funcs.get('Start') ?? []) {
      if (!start.recv || !start.body) continue;
      // Start(ctx) and friends take what ends the goroutine from the caller: only a Start of
      // no arguments owns what it launches and leaves its end to Stop.
      const params = start.node.childForFieldName('parameters')?.namedChildren ?? [];
      if (params.length > 0) continue;
      const launch = launchIn(pkg, start, start.recv);
      if (!launch) continue;
      const stops = stopsOf(pkg, start.recv);
      if (stops.length === 0) continue;
      out.set(start.recv, { type: start.recv, what: `${start.recv}.Start`, stops, launch });
    }
    return out;
  });
}

/** The package type a local's defining expression makes: `&T{}`, `T{}`, `new(T)`, `NewT()`. */
function madeType(pkg: Package, file: GoFile, v: Node | null | undefined): string | undefined {
  if (!v) return undefined;
  if (v.type === 'unary_expression' && v.childForFieldName('operator')?.text === '&')
    return madeType(pkg, file, v.childForFieldName('operand'));
  if (v.type === 'composite_literal') {
    const t = v.childForFieldName('type');
    return t?.type === 'type_identifier' ? t.text : undefined;
  }
  if (v.type !== 'call_expression') return undefined;
  const fn = v.childForFieldName('function');
  if (fn?.type !== 'identifier') return undefined;
  if (fn.text === 'new') {
    const t = v.childForFieldName('arguments')?.namedChildren[0];
    return t?.type === 'type_identifier' ? t.text : undefined;
  }
  // A constructor of the package: its (first) result is T or *T.
  const decls = pkg.resolve(fn, file);
  return decls.length === 1 ? resultType(decls[0]!.node) : undefined;
}

/** The one definition of local `name` in `owner` (not in a nested literal) and what it makes. */
function definition(
  pkg: Package,
  file: GoFile,
  owner: Node,
  name: string,
): { stmt: Node; type: string } | undefined {
  const body = owner.childForFieldName('body');
  if (!body) return undefined;
  const found: { stmt: Node; type: string | undefined }[] = [];
  for (const d of findAll(
    body,
    (k) => k.type === 'short_var_declaration' || k.type === 'var_spec',
  )) {
    let own: Node | null = d.parent;
    while (own && !FUNC_TYPES.has(own.type)) own = own.parent;
    if (own?.id !== owner.id) continue;
    if (d.type === 'var_spec') {
      const names = d.childrenForFieldName('name');
      const i = names.findIndex((k) => k.text === name);
      if (i < 0) continue;
      const value = d.childForFieldName('value')?.namedChildren[i];
      const t = d.childForFieldName('type');
      found.push({
        stmt: d,
        type: value
          ? madeType(pkg, file, value)
          : t?.type === 'type_identifier'
            ? t.text
            : undefined,
      });
      continue;
    }
    const left = d.childForFieldName('left')?.namedChildren ?? [];
    const i = left.findIndex((k) => k.text === name);
    if (i < 0) continue;
    const right = d.childForFieldName('right')?.namedChildren ?? [];
    // `v, err := NewT()`: only the first result is the value.
    const value = right.length === 1 ? (i === 0 ? right[0] : undefined) : right[i];
    found.push({ stmt: d, type: madeType(pkg, file, value) });
  }
  if (found.length !== 1 || !found[0]!.type) return undefined;
  return { stmt: found[0]!.stmt, type: found[0]!.type };
}

/**
 * Returns on which `start`'s own error sends the function back: `if err := v.Start(); err !=
 * nil { return }`, or the if right after `err := v.Start()`. Nothing was started on them.
 */
function startFailed(start: Node, ret: Node): boolean {
  const at = statementOf(start);
  if (!at) return false;
  if (at.stmt.type === 'if_statement') return within(ret, at.stmt);
  const kids = at.list.namedChildren.filter((k) => k.type !== 'comment');
  const next = kids[kids.indexOf(kids.find((k) => k.id === at.stmt.id)!) + 1];
  if (next?.type !== 'if_statement' || !within(ret, next)) return false;
  const names = (at.stmt.childForFieldName('left')?.namedChildren ?? []).map((k) => k.text);
  const cond = next.childForFieldName('condition')?.text ?? '';
  return names.some((n) => n !== '_' && new RegExp(`\\b${n}\\b`).test(cond));
}

export const rule: Rule = {
  id: 'start-without-stop',
  summary:
    'a value whose Start launches a goroutine is started and never stopped (or an early return skips its Stop) in the function that owns it',
  needs: [/\bgo\b/],
  check(pkg, report) {
    const types = pkg.funcs.has('Start') ? startables(pkg) : new Map<string, Startable>();
    const ctors = constructors(pkg);
    const judge = (
      file: GoFile,
      call: Node,
      owner: Node,
      name: string,
      defEnd: number,
      t: Startable,
    ): void => {
      const fname = funcName(owner);
      // The process's own lifetime: main and init never hand the value back.
      if (owner.type === 'function_declaration' && (fname === 'main' || fname === 'init')) return;
      const uses = usesOf(owner, name, defEnd);
      if (uses.some((u) => u.kind === 'escape' || u.kind === 'assign')) return;
      const stopUses = uses.filter((u) => u.member && stopsIt(pkg, t.type, u.member));
      check1(file, call, owner, name, t, stopUses, report);
    };
    if (types.size > 0) {
      const re = /([\p{L}_][\p{L}\p{N}_]*)\s*\.\s*Start\s*\(\s*\)/gu;
      for (const { file, index, match } of pkg.codeSearchWord('Start', re)) {
        const name = match[1]!;
        let call: Node | null = file.root.descendantForIndex(index, index + name.length);
        while (call && call.type !== 'call_expression') call = call.parent;
        if (!call || call.startIndex !== index) continue;
        // The function that defines the local, through any func literals the Start sits in.
        let owner: Node | null = call.parent;
        let def: { stmt: Node; type: string } | undefined;
        for (; owner; owner = owner.parent) {
          if (!FUNC_TYPES.has(owner.type)) continue;
          def = definition(pkg, file, owner, name);
          if (def) break;
        }
        if (!owner || !def) continue;
        const t = types.get(def.type);
        if (t) judge(file, call, owner, name, def.stmt.endIndex, t);
      }
    }
    for (const [ctor, t] of ctors) {
      const re = new RegExp(`(?<![\\p{L}\\p{N}_.])${ctor}\\s*\\(`, 'gu');
      for (const { file, index } of pkg.codeSearchWord(ctor, re)) {
        let call: Node | null = file.root.descendantForIndex(index, index + ctor.length);
        while (call && call.type !== 'call_expression') call = call.parent;
        if (!call || call.startIndex !== index) continue;
        const a = assignedTo(call, 0);
        // `_, err := NewT()`: a test expecting the error; the value, if any, is dropped unseen.
        if (!a || a.op === '=' || a.target.type !== 'identifier' || a.target.text === '_') continue;
        const owner = ownerFunc(call);
        if (!owner) continue;
        const def = definition(pkg, file, owner, a.target.text);
        if (!def || def.stmt.id !== a.stmt.id || def.type !== t.type) continue;
        judge(file, call, owner, a.target.text, def.stmt.endIndex, t);
      }
    }
  },
};

/**
 * Whether calling method `m` on a T stops it: Stop, Close or Shutdown (declared on T or
 * promoted from an embedded field), or a method of T that calls one of those on its receiver
 * (`AssertCleanShutdown` calling `m.Close()`).
 */
function stopsIt(pkg: Package, type: string, m: string): boolean {
  if (STOPS.includes(m)) return true;
  return (pkg.funcs.get(m) ?? []).some((d) => {
    if (d.recv !== type || !d.body) return false;
    const r = d.node.childForFieldName('receiver')?.namedChildren[0]?.childForFieldName('name');
    if (!r) return false;
    return new RegExp(
      `(^|[^\\p{L}\\p{N}_.])${r.text}\\s*\\.\\s*(${STOPS.join('|')})\\s*\\(`,
      'u',
    ).test(d.body.text);
  });
}

/** How the finding names its start: `p.Start() here`, or `p := NewPoller(...) here`. */
function here(call: Node, name: string, t: Startable): string {
  return t.what.endsWith('.Start') ? `${name}.Start() here` : `${name} := ${t.what}(...) here`;
}

function check1(
  file: GoFile,
  call: Node,
  owner: Node,
  name: string,
  t: Startable,
  stopUses: Use[],
  report: (r: Report) => void,
): void {
  const what = `${t.what} launches a goroutine (line ${line(t.launch.node)}${t.launch.file !== file ? ` of ${basename(t.launch.file.path)}` : ''}) that only ${t.stops.map((s) => `${t.type}.${s}`).join(' or ')} ends`;
  const stop = `${name}.${t.stops[0]}()`;
  if (stopUses.length === 0) {
    report({
      at: call,
      file,
      message: `${here(call, name, t)}: ${what}, and ${name} never leaves ${funcName(owner) ?? 'this function'}, which never calls ${stop}: once it returns nothing can stop that goroutine`,
      fix: `\`defer ${stop}\` right after a successful Start`,
      partner: t.launch.node,
      partnerFile: t.launch.file,
    });
    return;
  }
  // A deferred Stop (or one in a deferred literal, t.Cleanup(v.Stop)) covers every way out.
  if (stopUses.some((u) => u.kind !== 'method' || !u.call || isDeferred(u.call, owner) || u.nested))
    return;
  if (call.parent && FUNC_TYPES.has(owner.type)) {
    let own: Node | null = call.parent;
    while (own && !FUNC_TYPES.has(own.type)) own = own.parent;
    // Started in a func literal: its returns are not the owner's.
    if (own?.id !== owner.id) return;
  }
  const stops = (stmt: Node): boolean => stopUses.some((u) => within(u.node, stmt));
  const exits = uncoveredExits(call, owner, stops).filter(
    (r) => r.type === 'return_statement' && !startFailed(call, r),
  );
  const early = exits[0];
  if (!early) return;
  report({
    at: call,
    file,
    message: `${here(call, name, t)}: ${what}, and the return at line ${line(early)} leaves before ${name}.${stopUses[0]!.member}() (line ${line(stopUses[0]!.node)}): on that path nothing can stop that goroutine`,
    fix: `\`defer ${name}.${stopUses[0]!.member}()\` right after a successful Start`,
    partner: early,
  });
}
