/**
 * orphaned-send: a goroutine sends on an unbuffered channel with no way out, while its receiver
 * can leave first (a select with a timeout or ctx.Done() case, an early return, a
 * first-answer-wins fan-out, or a receiver loop that returns). After the receiver has gone the
 * send blocks forever: the goroutine and the value it holds are pinned.
 */
import { basename } from 'node:path';
import {
  type GoView,
  args,
  chanUse,
  fieldChanUses,
  fieldMakes,
  goView,
  isChanField,
  localChan,
  localChanUses,
} from '../../go/chans.js';
import { terminates } from '../../go/flow.js';
import {
  type FuncDecl,
  type GoFile,
  type GoStmt,
  type Package,
  qualifiedCalls,
} from '../../go/package.js';
import { type Handover, handedTo } from '../../go/reach.js';
import {
  type Node,
  FUNC_TYPES,
  enclosingLoop,
  findOwn,
  funcName,
  loopCanExit,
  ownerFunc,
  precededBy,
  within,
} from '../../go/syntax.js';
import type { Report, Rule } from '../../rule.js';

/** A send that is a statement of its own (not a select case): it cannot give up. */
function bareSends(body: Node): Node[] {
  return findOwn(body, (k) => k.type === 'send_statement').filter(
    (s) => s.parent?.type !== 'communication_case',
  );
}

function line(n: Node): number {
  return n.startPosition.row + 1;
}

/**
 * For a receive at `r` inside a select: another case that can be taken and leads away. Outside
 * a loop any other case (default included) leaves for good. Inside a loop the receiver comes
 * back for more unless the other case is a stop signal (ctx.Done(), a done/quit channel, a
 * timeout) that returns.
 */
function leavingCase(r: Node, stopAt: Node): Node | undefined {
  let cc: Node | null = r.parent;
  while (cc && cc.type !== 'communication_case' && cc.id !== stopAt.id && !FUNC_TYPES.has(cc.type))
    cc = cc.parent;
  if (cc?.type !== 'communication_case') return undefined;
  const comm = cc.childForFieldName('communication');
  if (!comm || !within(r, comm)) return undefined;
  const sel = cc.parent;
  if (sel?.type !== 'select_statement') return undefined;
  const loop = enclosingLoop(sel, stopAt);
  for (const other of sel.namedChildren) {
    if (other.id === cc.id || !/case$/.test(other.type)) continue;
    if (!loop) return other;
    if (other.type !== 'communication_case') continue;
    const signal = other.childForFieldName('communication')?.text ?? '';
    if (!STOP_SIGNAL.test(signal)) continue;
    if (findOwn(other, (k) => k.type === 'return_statement').length > 0) return other;
  }
  return undefined;
}

const STOP_SIGNAL =
  /<-\s*([\p{L}\p{N}_.]*\.Done\(\)|time\.After\(|[\p{L}\p{N}_.]*(done|quit|stop|clos|exit|cancel|shutdown|die|kill)[\p{L}\p{N}_]*$)/iu;

function caseText(c: Node): string {
  if (c.type === 'default_case') return 'default';
  const comm = c.childForFieldName('communication');
  return comm ? comm.text.replace(/\s+/g, ' ').slice(0, 40) : 'another case';
}

export const rule: Rule = {
  id: 'orphaned-send',
  summary:
    'a goroutine sends on an unbuffered channel with no way out while its receiver can leave first',
  // A goroutine: a go statement, or a time.AfterFunc callback (which runs in one of its own).
  needs: [/<-/, /\bgo\b|\.\s*AfterFunc\s*\(/],
  check(pkg, report) {
    if (!pkg.codeMatches(/<-/)) return;
    for (const g of pkg.goStmts) checkLocal(pkg, g, report);
    // time.AfterFunc(d, func() {...}) runs its func in a goroutine of its own: the same shape
    // with the AfterFunc call where the go statement would be.
    if (pkg.codeMatches(/\.\s*AfterFunc\s*\(/))
      for (const { file, call } of qualifiedCalls(pkg, 'time', ['AfterFunc'])) {
        const lit = args(call)[1];
        if (lit?.type === 'func_literal')
          checkLocal(pkg, { node: call, file, call, literal: lit, targets: [] }, report, true);
      }
    if (pkg.goStmts.length > 0) checkFields(pkg, report);
  },
};

/** Where a goroutine's send on a launcher's channel sits: its function and that function's uses. */
interface Sender {
  fn: Node;
  body: Node;
  file: GoFile;
  /** The sender's name for the channel, and the launcher's. */
  inner: string;
  outer: string;
  uses: { node: Node; kind: ReturnType<typeof chanUse> }[];
  sends: Node[];
  /** "f, started at line N, " or "this goroutine ": who sends, for the message. */
  who: string;
  /** Whether the sender touches another channel of the launcher (an error channel beside). */
  feeds(outer: string): boolean;
}

function checkLocal(pkg: Package, g: GoStmt, report: (r: Report) => void, afterFunc = false): void {
  const view = goView(g);
  const owner = ownerFunc(g.node);
  if (!view || !owner) return;
  const { fn, body } = view;
  // A goroutine handed the channel as an argument is another function, maybe in another
  // file: the message says where it was started and under which name it was handed over.
  const passed = !afterFunc && (fn.type !== 'func_literal' || args(g.call).length > 0);
  const started = afterFunc
    ? `the time.AfterFunc callback (started by the timer set at line ${line(g.node)}) `
    : passed
      ? `${funcName(fn) ?? 'this goroutine'}, started at line ${line(g.node)}${g.file !== view.file ? ` of ${basename(g.file.path)}` : ''}, `
      : 'this goroutine ';
  const done = new Set<string>();
  const sends = bareSends(body);
  for (const send of sends) {
    const ch = send.childForFieldName('channel');
    if (ch?.type !== 'identifier' || done.has(ch.text)) continue;
    done.add(ch.text);
    const outer = view.outer(ch.text);
    if (!outer) continue;
    judge(owner, g, view, send, passed, report, afterFunc, {
      fn,
      body,
      file: view.file,
      inner: ch.text,
      outer,
      uses: view.uses(ch.text),
      sends,
      who: started,
      // Whether the goroutine sends on or closes another channel of the launcher.
      feeds: (outer) => {
        const inner = view.inner(outer);
        if (!inner) return false;
        return (
          findOwn(body, (k) => k.type === 'send_statement').some(
            (k) => k.childForFieldName('channel')?.text === inner,
          ) || body.text.replace(/\s+/g, '').includes(`close(${inner})`)
        );
      },
    });
  }
  // Handed on: the goroutine passes a launcher's channel to another function (`h(ch)`,
  // `go h(ch)`, a few calls deep) and the send is there; judged the same way.
  const byName = new Map<string, Node[]>();
  for (const k of body.descendantsOfType('identifier')) {
    let list = byName.get(k.text);
    if (!list) byName.set(k.text, (list = []));
    list.push(k);
  }
  for (const [inner, ids] of byName) {
    // Only names whose every use is an argument: the cheap test before following any call.
    if (done.has(inner) || !ids.every((k) => k.parent?.type === 'argument_list')) continue;
    const outer = view.outer(inner);
    if (!outer) continue;
    const on = handedOn(
      pkg,
      view.file,
      ids.map((k) => ({ node: k, kind: chanUse(k) })),
    );
    if (!on) continue;
    const d = on.decl;
    const hopSends = d.body
      ? bareSends(d.body).filter((k) => k.childForFieldName('channel')?.text === on.param)
      : [];
    const first = hopSends[0];
    if (!first || !d.body) continue;
    judge(owner, g, view, first, true, report, afterFunc, {
      fn: d.node,
      body: d.body,
      file: d.file,
      inner: on.param,
      outer,
      uses: on.uses,
      sends: bareSends(d.body),
      who: `${d.name}, handed ${outer} by ${funcName(fn) ?? 'the goroutine'} started at line ${line(g.node)}${g.file !== d.file ? ` of ${basename(g.file.path)}` : ''}, `,
      // Any other channel of the launcher the goroutine touches may be what the receiver
      // hears first: silence.
      feeds: (outer) => {
        const inner = view.inner(outer);
        return !!inner && view.uses(inner).length > 0;
      },
    });
  }
}

/**
 * The function a channel is handed on to when every use of it (`uses`, in `file`) hands it to
 * one and the same parameter of one function of the package, followed a few calls deep; with
 * that function's own uses of it, none of which hands it on further.
 */
function handedOn(
  pkg: Package,
  file: GoFile,
  uses: { node: Node; kind: ReturnType<typeof chanUse> }[],
  depth = 0,
):
  | { decl: FuncDecl; param: string; uses: { node: Node; kind: ReturnType<typeof chanUse> }[] }
  | undefined {
  let h: Handover | undefined;
  for (const u of uses) {
    const x = u.kind === 'escape' ? handedTo(pkg, file, u.node) : undefined;
    if (!x || (h && (x.decl.node.id !== h.decl.node.id || x.param !== h.param))) return undefined;
    h = x;
  }
  if (!h?.decl.body) return undefined;
  const next = h.decl.body
    .descendantsOfType('identifier')
    .filter((k) => k.text === h.param)
    .map((k) => ({ node: k, kind: chanUse(k) }));
  if (next.some((u) => u.kind === 'escape'))
    return depth < 2 ? handedOn(pkg, h.decl.file, next, depth + 1) : undefined;
  return { decl: h.decl, param: h.param, uses: next };
}

/** One send of a goroutine (or of a function it handed the channel to) against its launcher. */
function judge(
  owner: Node,
  g: GoStmt,
  view: GoView,
  send: Node,
  passed: boolean,
  report: (r: Report) => void,
  afterFunc: boolean,
  at: Sender,
): void {
  const name = at.outer;
  const decl = localChan(owner, name);
  if (!decl?.make || decl.owner.id !== owner.id) return;
  const size = decl.make.childForFieldName('arguments')?.namedChildren[1];
  if (size && size.text !== '0') return;
  const mine = at.uses;
  const fn = view.fn;
  const theirs = localChanUses(owner, name, decl.stmt).filter(
    // (A declared function may sit in another file: offsets compare only within one tree.)
    (u) => !(g.literal && within(u.node, fn)) && !view.handsOver(u.node),
  );
  // A close by the sender itself, after its send, does not help a send nobody takes.
  if (
    mine.some((u) => u.kind === 'escape' || u.kind === 'make') ||
    theirs.some((u) => u.kind === 'escape' || u.kind === 'make' || u.kind === 'close')
  )
    return;
  const as = at.inner === name ? name : `${name} (handed over as ${at.inner})`;
  const started = at.who;
  const recvs = theirs.filter((u) => u.kind === 'recv' || u.kind === 'range');
  if (recvs.length === 0) {
    // Nothing in the function receives, and the channel goes nowhere else. Only for a
    // channel declared here: `ch = make(...)` may fill a package variable others read.
    if (decl.stmt.type === 'assignment_statement') return;
    if (mine.some((u) => u.kind === 'recv' || u.kind === 'range')) return;
    report({
      at: send,
      file: at.file,
      message: `${started}sends on unbuffered ${as} (made at line ${line(decl.stmt)}), and nothing ever receives from it: the send blocks forever and pins the goroutine`,
      fix: `receive from ${name} where the result is needed, or drop the channel`,
    });
    return;
  }
  // Receives in other goroutines started here: the relationship is not one we model.
  if (recvs.some((u) => ownerFunc(u.node)?.id !== owner.id)) return;
  const twice = doubleSend(
    at.fn,
    at.sends,
    at.inner,
    recvs.map((u) => u.node),
  );
  if (twice) {
    report({
      at: twice.second,
      file: at.file,
      partner: twice.recv,
      partnerFile: g.file,
      message: `${started}sends on unbuffered ${as} twice on one path (lines ${line(twice.first)} and ${line(twice.second)}), but its receiver takes one value (line ${line(twice.recv)}): the second send blocks forever`,
      fix: `return after the first send, or make ${name} buffered with room for both`,
    });
    return;
  }
  const why = orphanReason(
    owner,
    g,
    recvs.map((u) => u.node),
    at.feeds,
  );
  if (!why) return;
  report({
    at: send,
    file: at.file,
    partner: why.partner,
    partnerFile: g.file,
    message: `${passed || afterFunc ? `${started}blocks forever in its send on unbuffered ${as}` : `this goroutine's send on unbuffered ${as} blocks forever`} if ${why.text}: nobody else receives, so the goroutine and the value it sends are pinned`,
    fix: `make ${name} buffered with room for every sender (make(chan T, n)), or send in a select that also watches ctx.Done()`,
  });
}

/**
 * Two bare sends on `name` that run one after the other on one path of `lit` (the second is
 * preceded by the first, no loop around either), while the receiver takes exactly one value
 * (a single receive, outside any loop).
 */
function doubleSend(
  lit: Node,
  sends: Node[],
  name: string,
  recvs: Node[],
): { first: Node; second: Node; recv: Node } | undefined {
  if (recvs.length !== 1 || enclosingLoop(recvs[0]!) || recvs[0]!.parent?.type === 'range_clause')
    return undefined;
  const mine = sends.filter(
    (s) => s.childForFieldName('channel')?.text === name && !enclosingLoop(s, lit),
  );
  for (const second of mine)
    for (const first of mine) {
      if (first.id === second.id) continue;
      // A statement before `second` that holds `first`, where no list between them ends in a
      // return (control falls through from the first send to the second).
      const falls = (x: Node): boolean => {
        if (!within(first, x)) return false;
        for (let p = first.parent; p && p.id !== x.id; p = p.parent)
          if (p.type === 'statement_list') {
            const kids = p.namedChildren.filter((k) => k.type !== 'comment');
            if (terminates(kids[kids.length - 1])) return false;
          }
        return true;
      };
      if (first.startIndex < second.startIndex && precededBy(second, falls))
        return { first, second, recv: recvs[0]! };
    }
  return undefined;
}

/** Why the receiving side can leave, and the case or return through which it does. */
function orphanReason(
  owner: Node,
  g: GoStmt,
  recvs: Node[],
  feeds: (outer: string) => boolean,
): { text: string; partner: Node } | undefined {
  const first = recvs.reduce((a, b) => (a.startIndex < b.startIndex ? a : b));
  // (1) The receive is one case of a select that can take another way out.
  for (const r of recvs) {
    const other = leavingCase(r, owner);
    if (!other) continue;
    // The other case receives from a channel this same goroutine sends on or closes (an error channel
    // beside the result channel): it is taken on the path where the goroutine did not send
    // here, so nobody is left behind.
    const from =
      /^(?:[\p{L}_][\p{L}\p{N}_]*\s*(?:,\s*[\p{L}_][\p{L}\p{N}_]*)?\s*:?=\s*)?<-\s*([\p{L}_][\p{L}\p{N}_]*)$/u.exec(
        other.childForFieldName('communication')?.text ?? '',
      )?.[1];
    if (from && feeds(from)) continue;
    // A receive after the select, or inside the leaving case itself ("wait for the goroutine
    // to stop"), drains the send.
    const after = recvs.some(
      (x) => x.startIndex > (other.parent?.endIndex ?? 0) || within(x, other),
    );
    if (after) continue;
    return {
      text: `the receiver's select at line ${line(other.parent!)} takes \`${caseText(other)}\` (line ${line(other)}) first and leaves`,
      partner: other,
    };
  }
  if (recvs.some((r) => r.parent?.type === 'range_clause')) return undefined;
  // (2) First answer wins: one goroutine per loop round, one receive.
  const goLoop = enclosingLoop(g.node);
  if (goLoop && recvs.every((r) => !enclosingLoop(r) || within(goLoop, r))) {
    if (recvs.length === 1 && !enclosingLoop(recvs[0]!))
      return {
        text: `the caller takes the first answer (one receive at line ${line(first)}) and the other goroutines started in the loop at line ${line(goLoop)} are left sending`,
        partner: first,
      };
  }
  // (3) An early return between the go statement and the first receive.
  const body = owner.childForFieldName('body');
  if (!body) return undefined;
  for (const ret of findOwn(body, (k) => k.type === 'return_statement')) {
    // A return decided by what the goroutine itself sent (`if err := <-errc; err != nil`)
    // runs on the path where the goroutine did not send the value we wait for.
    if (receivedBefore(ret)) continue;
    // A return in another case of the select that holds the receive was judged above.
    let sel: Node | null = ret.parent;
    while (sel && sel.type !== 'select_statement' && !FUNC_TYPES.has(sel.type)) sel = sel.parent;
    if (sel?.type === 'select_statement' && within(first, sel)) continue;
    if (ret.startIndex > g.node.endIndex && ret.endIndex < first.startIndex && !within(first, ret))
      return { text: `the function returns at line ${line(ret)} before receiving`, partner: ret };
  }
  return undefined;
}

/** Whether `ret` sits in an if whose initializer or condition receives from a channel. */
function receivedBefore(ret: Node): boolean {
  for (let p = ret.parent; p && !FUNC_TYPES.has(p.type); p = p.parent) {
    if (p.type !== 'if_statement') continue;
    const init = p.childForFieldName('initializer')?.text ?? '';
    const cond = p.childForFieldName('condition')?.text ?? '';
    if (init.includes('<-') || cond.includes('<-')) return true;
  }
  return false;
}

/**
 * The seed's shape: a goroutine (a declared function or a literal) sends on a struct's
 * unbuffered channel field whose receiver, anywhere in the package, can leave.
 */
function checkFields(pkg: Package, report: (r: Report) => void): void {
  const checked = new Map<string, Orphan | null>();
  for (const b of pkg.goroutineBodies()) {
    for (const send of bareSends(b.body)) {
      const ch = send.childForFieldName('channel');
      if (ch?.type !== 'selector_expression') continue;
      const field = ch.childForFieldName('field')?.text ?? '';
      if (!checked.has(field)) checked.set(field, fieldOrphan(pkg, field));
      const why = checked.get(field);
      if (!why) continue;
      const who = b.decl
        ? `${b.decl.name} runs as its own goroutine and`
        : `this goroutine (started at line ${line(b.go.node)})`;
      report({
        at: send,
        file: b.decl?.file ?? b.go.file,
        partner: why.partner,
        partnerFile: why.file,
        message: `${who} sends on unbuffered .${field} with no way out; ${why.text}, after which this send blocks forever and pins the goroutine and its message`,
        fix: `send in a select that also watches the receiver's done channel (or a timeout / default), and give .${field} a buffer if drops are not acceptable`,
      });
    }
  }
}

interface Orphan {
  text: string;
  partner: Node;
  file: GoFile;
}

function fieldOrphan(pkg: Package, field: string): Orphan | null {
  if (!isChanField(pkg, field)) return null;
  const makes = fieldMakes(pkg, field);
  if (makes.length === 0 || makes.some((m) => m !== 0)) return null;
  const uses = fieldChanUses(pkg, field);
  if (uses.some((u) => u.kind === 'escape' || u.kind === 'close')) return null;
  for (const u of uses) {
    if (u.kind !== 'recv') continue;
    const fn = ownerFunc(u.node);
    if (!fn) continue;
    const loop = enclosingLoop(u.node);
    const other = leavingCase(u.node, fn);
    const name = fn.childForFieldName('name')?.text ?? 'its receiver';
    const where = `${name} (line ${line(u.node)} of ${basename(u.file.path)})`;
    if (other)
      return {
        text: `its receiver ${where} can take \`${caseText(other)}\` (line ${line(other)}) and return`,
        partner: other,
        file: u.file,
      };
    if (loop && loopCanExit(loop)) {
      const exit = findOwn(
        loop,
        (k) => k.type === 'return_statement' || k.type === 'break_statement',
      )[0];
      return {
        text: `its receiver ${where} can return from its loop${exit ? ` (line ${line(exit)})` : ''}`,
        partner: exit ?? loop,
        file: u.file,
      };
    }
  }
  return null;
}
