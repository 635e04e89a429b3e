/**
 * What a parked goroutine waits on, read from the source at its blocking line, and the ownership
 * questions about each of those things: where it was made (following a parameter back through
 * the `go` statement that started the goroutine), and what in the package could ever end the
 * wait: the cancel of a context, a close of a channel, a Stop of a ticker.
 */
import type { Node } from '../lint/go/syntax.js';
import { enclosingName } from './funcname.js';
import type { Checkout, Placed, SourceFile } from './source.js';

type WaitKind = 'context' | 'channel' | 'ticker' | 'timer' | 'sync';

/** A line of source, with the file it is in. */
export interface At {
  file: SourceFile;
  line: number;
}

export interface WaitObject {
  /** The expression as written at the blocking line: `ctx.Done()`, `sub.messages`, `ticker.C`. */
  expr: string;
  kind: WaitKind;
  /** Where the thing was made or declared (the line a finding about it points at). */
  origin?: At;
  /** In words: what ends this wait, and whether anything in the package does it. */
  ends: string;
  /** Nothing in the package ever cancels, closes or stops it. */
  unreleased: boolean;
  /** Its case returns: when it fires, the goroutine ends. */
  exits: boolean;
}

interface Scope {
  checkout: Checkout;
  /** The goroutine's blocking frame. */
  at: Placed;
  /** The frame that holds the `go` statement that started this goroutine, if placed. */
  creator?: Placed;
  /** The frame the goroutine started in (its outermost placed frame). */
  entry?: Placed;
  /** Every file of the blocking frame's package. */
  pkgFiles: SourceFile[];
  pkgName: string;
}

/** Channel-ish expressions the blocking line waits on. */
interface Waited {
  node: Node;
  sync: boolean;
  /** Its select case returns (or the wait is the only one): it can end the goroutine. */
  exits: boolean;
  /** A send: a receiver ends it, a close does not (it would panic). */
  send: boolean;
}

function waitedExprs(scope: Node, row: number): Waited[] {
  const out: Waited[] = [];
  const stack: Node[] = [scope];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.endPosition.row < row || n.startPosition.row > row) continue;
    if (n.type === 'select_statement' && n.startPosition.row === row) {
      for (const c of n.namedChildren) {
        const comm = c.childForFieldName('communication');
        if (!comm) continue;
        const exits = leaves(c);
        if (comm.type === 'send_statement')
          pushNode(out, comm.childForFieldName('channel'), false, exits, true);
        else pushNode(out, recvOperand(comm.childForFieldName('right') ?? comm), false, exits);
      }
      continue;
    }
    if (n.startPosition.row === row) {
      if (n.type === 'send_statement')
        pushNode(out, n.childForFieldName('channel'), false, true, true);
      else if (n.type === 'unary_expression' && n.child(0)?.type === '<-')
        pushNode(out, recvOperand(n));
      else if (n.type === 'range_clause') pushNode(out, n.childForFieldName('right'));
      else if (n.type === 'call_expression') {
        // wg.Wait(), mu.Lock(), cond.Wait(): the receiver is what it waits on.
        const fn = n.childForFieldName('function');
        const field = fn?.childForFieldName('field')?.text ?? '';
        if (fn?.type === 'selector_expression' && /^(Wait|Lock|RLock)$/.test(field))
          pushNode(out, fn.childForFieldName('operand'), true);
      }
    }
    for (const k of n.namedChildren) stack.push(k);
  }
  return out;
}

function pushNode(
  out: Waited[],
  n: Node | null | undefined,
  sync = false,
  exits = true,
  send = false,
): void {
  if (n && !out.some((o) => o.node.id === n.id)) out.push({ node: n, sync, exits, send });
}

/** A select case whose statements return, break out or jump away (not inside a func literal). */
function leaves(c: Node): boolean {
  const stack: Node[] = [...c.namedChildren];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.type === 'func_literal') continue;
    if (/^(return|break|goto)_statement$/.test(n.type)) return true;
    if (
      n.type === 'call_expression' &&
      /^(panic|os\.Exit|runtime\.Goexit)$/.test(n.childForFieldName('function')?.text ?? '')
    )
      return true;
    stack.push(...n.namedChildren);
  }
  return false;
}

function recvOperand(n: Node): Node | null {
  return n.type === 'unary_expression' ? n.childForFieldName('operand') : n;
}

function lastName(n: Node): string | undefined {
  if (n.type === 'identifier') return n.text;
  if (n.type === 'selector_expression') return n.childForFieldName('field')?.text;
  return undefined;
}

function isSelectorCall(n: Node, field: RegExp): Node | undefined {
  if (n.type !== 'call_expression') return undefined;
  const fn = n.childForFieldName('function');
  if (fn?.type !== 'selector_expression') return undefined;
  return field.test(fn.childForFieldName('field')?.text ?? '')
    ? (fn.childForFieldName('operand') ?? undefined)
    : undefined;
}

/** The things the goroutine at `s.at` waits on, each with its origin and what could end it. */
export function waitsOf(s: Scope): WaitObject[] {
  const row = s.at.frame.line - 1;
  const out: WaitObject[] = [];
  for (const { node: e, sync, exits, send } of waitedExprs(s.at.body, row)) {
    let kind: WaitKind = sync ? 'sync' : 'channel';
    let target: Node = e;
    const ctx = isSelectorCall(e, /^Done$/);
    if (ctx) {
      kind = 'context';
      target = ctx;
    } else if (!sync && e.type === 'call_expression') {
      // time.After(d) and friends fire on their own; nothing to own.
      out.push({ expr: e.text, kind: 'timer', ends: 'fires on its own', unreleased: false, exits });
      continue;
    } else if (e.type === 'selector_expression' && /^C$/.test(lastName(e) ?? '')) {
      kind = 'ticker';
      target = e.childForFieldName('operand')!;
    }
    const origin = originOf(s, target, s.at, row, 0);
    const ends = send ? receiversOf(s, target) : endsOf(s, kind, target, origin.origin);
    out.push({ expr: e.text, kind, exits, ...origin, ...ends });
  }
  return out;
}

/** Where `n` (an identifier or a field selector) was declared or made, as seen from `p` at `row`. */
function originOf(s: Scope, n: Node, p: Placed, row: number, depth: number): { origin?: At } {
  if (n.type === 'selector_expression') {
    const field = lastName(n);
    const made = field ? fieldAssignments(s.pkgFiles, field) : [];
    return made[0] ? { origin: made[0] } : {};
  }
  if (n.type !== 'identifier') return {};
  const decl = declarationOf(p.decl, n.text, row);
  if (!decl) return {};
  if (decl.param && depth < 2 && s.creator && p === s.entry && decl.scope.id === p.body.id) {
    // A parameter of the goroutine's function: follow it back through the go statement.
    const arg = goArgument(s.creator, decl.index);
    if (arg) {
      const back = originOf(s, arg, s.creator, s.creator.frame.line - 1, depth + 1);
      if (back.origin) return back;
    }
  }
  return { origin: { file: p.file, line: decl.node.startPosition.row + 1 } };
}

/** The `index`-th argument of the `go` call on the creator frame's line. */
function goArgument(creator: Placed, index: number): Node | undefined {
  const row = creator.frame.line - 1;
  for (const g of creator.decl.descendantsOfType('go_statement')) {
    if (g.startPosition.row !== row) continue;
    const call = g.namedChildren.find((k) => k.type === 'call_expression');
    const a = call?.childForFieldName('arguments')?.namedChildren[index];
    if (a) return a;
  }
  return undefined;
}

interface Decl {
  node: Node;
  /** A parameter, and its position among the function's parameters (receiver excluded). */
  param: boolean;
  index: number;
  /** The function (declaration or literal) whose parameter or local it is. */
  scope: Node;
}

/** The last declaration of `name` visible at `row` inside `fn`: a local or a parameter. */
function declarationOf(fn: Node, name: string, row: number): Decl | undefined {
  let best: Decl | undefined;
  const consider = (d: Decl) => {
    if (d.node.startPosition.row > row) return;
    if (!best || d.node.startIndex >= best.node.startIndex) best = d;
  };
  const stack: Node[] = [fn];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (
      n.type === 'function_declaration' ||
      n.type === 'method_declaration' ||
      n.type === 'func_literal'
    ) {
      // Only functions around the row see their parameters there.
      if (n.startPosition.row <= row && n.endPosition.row >= row) {
        let i = 0;
        for (const pd of n.childForFieldName('parameters')?.namedChildren ?? [])
          for (const id of pd.childrenForFieldName('name'))
            if (id.text === name) consider({ node: id, param: true, index: i++, scope: n });
            else i++;
      } else continue;
    }
    if (n.type === 'short_var_declaration' || n.type === 'assignment_statement') {
      for (const id of n.childForFieldName('left')?.namedChildren ?? [])
        if (id.type === 'identifier' && id.text === name)
          consider({ node: n, param: false, index: 0, scope: fn });
    } else if (n.type === 'var_spec' || n.type === 'range_clause') {
      const ids =
        n.type === 'var_spec'
          ? n.childrenForFieldName('name')
          : (n.childForFieldName('left')?.namedChildren ?? []);
      if (ids.some((id) => id.text === name))
        consider({ node: n, param: false, index: 0, scope: fn });
    }
    for (const k of n.namedChildren) stack.push(k);
  }
  return best;
}

/** Lines where field `name` gets a value: `name: v` in a composite literal, `x.name = v`. */
function fieldAssignments(files: SourceFile[], name: string): At[] {
  const out: At[] = [];
  for (const file of files) {
    for (const k of file.root.descendantsOfType('keyed_element')) {
      if (k.namedChildren[0]?.text === name) out.push({ file, line: k.startPosition.row + 1 });
    }
    for (const a of file.root.descendantsOfType('assignment_statement')) {
      const left = a.childForFieldName('left')?.namedChildren ?? [];
      if (left.some((l) => l.type === 'selector_expression' && lastName(l) === name))
        out.push({ file, line: a.startPosition.row + 1 });
    }
  }
  return out;
}

/**
 * Calls whose callee ends in `.name` or is `name`, with the function each sits in; `only`:
 * just calls of a local (`name()`) or just of a field or method (`x.name()`).
 */
function callsTo(
  files: SourceFile[],
  name: string,
  only?: 'local' | 'field',
): { at: At; in: string }[] {
  const out: { at: At; in: string }[] = [];
  for (const file of files)
    for (const c of file.root.descendantsOfType('call_expression')) {
      const fn = c.childForFieldName('function');
      if (!fn || lastName(fn) !== name) continue;
      if (only && (fn.type === 'identifier') !== (only === 'local')) continue;
      out.push({ at: { file, line: c.startPosition.row + 1 }, in: enclosingName(c) ?? '?' });
    }
  return out;
}

/** What ends a send: a receive from the same channel somewhere in the package. */
function receiversOf(s: Scope, target: Node): { ends: string; unreleased: boolean } {
  const name = lastName(target) ?? target.text;
  const at: { at: At; in: string }[] = [];
  for (const file of s.pkgFiles) {
    for (const u of file.root.descendantsOfType(['unary_expression', 'range_clause'])) {
      const ch =
        u.type === 'range_clause'
          ? u.childForFieldName('right')
          : u.child(0)?.type === '<-'
            ? u.childForFieldName('operand')
            : null;
      if (ch && lastName(ch) === name)
        at.push({ at: { file, line: u.startPosition.row + 1 }, in: enclosingName(u) ?? '?' });
    }
  }
  if (at.length === 0)
    return {
      ends: `a receiver, and nothing in package ${s.pkgName} receives from ${name}`,
      unreleased: true,
    };
  return {
    ends: `a receiver: ${at.map((r) => `${r.in} at ${where(s, r.at)}`).join(', ')} (while it runs)`,
    unreleased: false,
  };
}

/** `close(x)` / `close(a.x)` calls for channel `name`. */
function closesOf(files: SourceFile[], name: string): At[] {
  const out: At[] = [];
  for (const file of files)
    for (const c of file.root.descendantsOfType('call_expression')) {
      if (c.childForFieldName('function')?.text !== 'close') continue;
      const a = c.childForFieldName('arguments')?.namedChildren[0];
      if (a && lastName(a) === name) out.push({ file, line: c.startPosition.row + 1 });
    }
  return out;
}

function where(s: Scope, at: At): string {
  return `${s.checkout.display(at.file.path)}:${at.line}`;
}

/** Callers of function `name` in the package, outside its own body. */
function callersOf(s: Scope, name: string): { at: At; in: string }[] {
  const bare = name.replace(/^.*\./, '');
  return callsTo(s.pkgFiles, bare).filter((c) => c.in !== name);
}

function endsOf(
  s: Scope,
  kind: WaitKind,
  target: Node,
  origin: At | undefined,
): { ends: string; unreleased: boolean } {
  const pkg = `package ${s.pkgName}`;
  const name = lastName(target) ?? target.text;
  if (kind === 'context') {
    const text = origin ? (origin.file.lines[origin.line - 1] ?? '') : '';
    if (/context\.(Background|TODO)\(\)/.test(text) && !/With(Cancel|Timeout|Deadline)/.test(text))
      return { ends: 'nothing: a Background context is never cancelled', unreleased: true };
    // `ctx, cancel := context.WithCancel(...)`, or into fields: `s.ctx, s.cancel = ...`.
    const m =
      /([\w.]+)\s*(?:,\s*([\w.]+))?\s*:?=\s*context\.With(Cancel|Timeout|Deadline|CancelCause)\w*\(/.exec(
        text,
      );
    if (!m || !m[2] || !origin)
      return {
        ends: `cancelling ${name}'s context (made outside what we can see)`,
        unreleased: false,
      };
    const timed = m[3] === 'Timeout' || m[3] === 'Deadline';
    let cancel = m[2];
    let stored: string | undefined;
    if (cancel.includes('.')) {
      stored = cancel.slice(cancel.lastIndexOf('.') + 1);
      cancel = stored;
    } else {
      const madeIn = origin.file.root.descendantForPosition({
        row: origin.line - 1,
        column: Math.max(0, text.indexOf(cancel)),
      });
      const fnNode = ownerDecl(madeIn);
      const fn = enclosingName(madeIn) ?? '?';
      const direct = callsTo([origin.file], cancel, 'local').filter((c) => c.in === fn);
      if (direct.length > 0)
        return {
          ends: `${cancel}() at ${direct.map((c) => where(s, c.at)).join(', ')}`,
          unreleased: false,
        };
      // Passed on (returned, handed to t.Cleanup, sent): who calls it is beyond this package's text.
      const passed = fnNode ? passedOn(fnNode, cancel, origin.line - 1) : undefined;
      if (passed !== undefined)
        return {
          ends: `${cancel} is passed on at ${where(s, { file: origin.file, line: passed })}: whoever gets it must call it`,
          unreleased: false,
        };
      // Stored in a field: who calls that field?
      stored = fieldStoring(origin.file, cancel);
    }
    if (stored) {
      const calls = callsTo(s.pkgFiles, stored, 'field');
      if (calls.length === 0)
        return {
          ends: `${cancel} is stored in .${stored} and nothing in ${pkg} calls it${timed ? ' (only its deadline ends it)' : ''}`,
          unreleased: !timed,
        };
      const via = calls.map((c) => {
        const callers = callersOf(s, c.in);
        return `${c.in} at ${where(s, c.at)}${callers.length === 0 ? ` (nothing in ${pkg} calls ${c.in})` : ''}`;
      });
      const none = calls.every((c) => callersOf(s, c.in).length === 0);
      return {
        ends: `${cancel} is stored in .${stored}, called ${calls.length === 1 ? 'only ' : ''}by ${via.join(', ')}`,
        unreleased: none && !timed,
      };
    }
    return {
      ends: `nothing calls ${cancel}${timed ? ' (only its deadline ends it)' : ''}`,
      unreleased: !timed,
    };
  }
  if (kind === 'ticker') {
    const stops = callsTo(s.pkgFiles, 'Stop').filter((c) => {
      const line = c.at.file.lines[c.at.line - 1] ?? '';
      return new RegExp(`\\b${name}\\.Stop\\(`).test(line);
    });
    return stops.length > 0
      ? {
          ends: `${name}.Stop() at ${stops.map((c) => where(s, c.at)).join(', ')}`,
          unreleased: false,
        }
      : { ends: `nothing: ${name} is never stopped in ${pkg}`, unreleased: true };
  }
  if (kind === 'channel') {
    const closes = closesOf(s.pkgFiles, name);
    return closes.length > 0
      ? { ends: `close at ${closes.map((c) => where(s, c)).join(', ')}`, unreleased: false }
      : { ends: `nothing in ${pkg} closes ${name}`, unreleased: true };
  }
  return { ends: `the ${name} holder releasing it`, unreleased: false };
}

/** The top-level declaration holding `n`. */
function ownerDecl(n: Node): Node | undefined {
  let d: Node | null = n;
  while (d?.parent && d.parent.type !== 'source_file') d = d.parent;
  return d && d.parent ? d : undefined;
}

/**
 * The line where local `name` is used as a value other than being called or stored in a
 * field (an argument, a return value, a send, an assignment to another local), if any.
 */
function passedOn(fn: Node, name: string, declRow: number): number | undefined {
  for (const id of fn.descendantsOfType('identifier')) {
    if (id.text !== name || id.startPosition.row === declRow) continue;
    const p = id.parent;
    if (!p) continue;
    if (p.type === 'call_expression' && p.childForFieldName('function')?.id === id.id) continue;
    // `f: cancel` in a composite literal, `x.f = cancel`: stored, followed by fieldStoring.
    if (p.type === 'literal_element' || p.type === 'keyed_element') continue;
    if (p.type === 'expression_list' && p.parent?.type === 'assignment_statement') {
      const left = p.parent.childForFieldName('left')?.namedChildren ?? [];
      if (
        p.id !== p.parent.childForFieldName('left')?.id &&
        left.every((l) => l.type === 'selector_expression')
      )
        continue;
    }
    return id.startPosition.row + 1;
  }
  return undefined;
}

/** The field a local (a cancel func) is stored into in `file`: `f: local` or `x.f = local`. */
function fieldStoring(file: SourceFile, local: string): string | undefined {
  for (const k of file.root.descendantsOfType('keyed_element')) {
    const [key, value] = k.namedChildren;
    if (key && value?.text === local) return key.text;
  }
  for (const a of file.root.descendantsOfType('assignment_statement')) {
    const right = a.childForFieldName('right')?.namedChildren ?? [];
    const left = a.childForFieldName('left')?.namedChildren ?? [];
    const i = right.findIndex((r) => r.text === local);
    const l = left[i];
    if (i >= 0 && l?.type === 'selector_expression') return lastName(l);
  }
  return undefined;
}
