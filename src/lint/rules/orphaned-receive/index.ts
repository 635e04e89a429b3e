/**
 * orphaned-receive: the receive-side twin of orphaned-send. A function waits on a channel
 * (a plain receive, no select) whose only sender is a goroutine it started, and that goroutine
 * can return before sending or closing. On that path the receiver waits forever, and with it
 * everything it holds.
 */
import { basename } from 'node:path';
import {
  args,
  fieldChanUses,
  fieldMakes,
  goView,
  isChanField,
  localChan,
  localChanUses,
} from '../../go/chans.js';
import { type GoFile, type Package, qualifiedCalls } from '../../go/package.js';
import {
  type Node,
  FUNC_TYPES,
  findOwn,
  funcName,
  ownerFunc,
  precededBy,
  within,
} from '../../go/syntax.js';
import type { Report, Rule } from '../../rule.js';

function line(n: Node): number {
  return n.startPosition.row + 1;
}

/** Whether statement `s` sends on or closes `name` (a select case counts only if it sends). */
function feeds(name: string) {
  return (s: Node): boolean => {
    if (s.type === 'send_statement') return s.childForFieldName('channel')?.text === name;
    const t = s.text.replace(/\s+/g, '');
    return t.startsWith(`${name}<-`) || t.includes(`close(${name})`);
  };
}

export const rule: Rule = {
  id: 'orphaned-receive',
  summary:
    'a plain receive on a channel whose only sender, a goroutine started here, can return without sending or closing it; signal.Notify on an unbuffered channel',
  // `<-` and a go statement, or a signal.Notify (its channel's receive needs no goroutine).
  needs: [/<-|\.\s*Notify\s*\(/, /\bgo\b|\.\s*Notify\s*\(/],
  check(pkg, report) {
    if (pkg.files.some((f) => [...f.imports.values()].includes('os/signal')))
      checkSignals(pkg, report);
    if (!pkg.codeMatches(/<-/) || pkg.goStmts.length === 0) return;
    for (const g of pkg.goStmts) {
      const view = goView(g);
      const owner = ownerFunc(g.node);
      if (!view || !owner) continue;
      const { fn, body } = view;
      const sends = findOwn(body, (k) => k.type === 'send_statement');
      // The goroutine's channels, by its own names, that are the launcher's.
      const names = new Set(
        sends
          .map((s) => s.childForFieldName('channel'))
          .filter((c): c is Node => c?.type === 'identifier' && !!view.outer(c.text))
          .map((c) => c.text),
      );
      for (const inner of names) {
        const name = view.outer(inner)!;
        const decl = localChan(owner, name);
        if (!decl?.make) continue;
        const mine = view.uses(inner);
        // (A declared function may sit in another file: offsets compare only within one tree.)
        const theirs = localChanUses(owner, name, decl.stmt).filter(
          (u) => !(g.literal && within(u.node, fn)) && !view.handsOver(u.node),
        );
        if ([...mine, ...theirs].some((u) => u.kind === 'escape' || u.kind === 'make')) continue;
        // Only this goroutine feeds it; a close anywhere (a defer in the goroutine) ends waits.
        if ([...mine, ...theirs].some((u) => u.kind === 'close')) continue;
        if (theirs.some((u) => u.kind === 'send')) continue;
        const recvs = theirs.filter((u) => u.kind === 'recv');
        if (recvs.length !== 1) continue;
        const recv = recvs[0]!.node.parent!;
        // A receive in a select can take another case; only a plain one waits for good.
        let inSelect = false;
        for (let p = recv.parent; p && !FUNC_TYPES.has(p.type); p = p.parent)
          if (p.type === 'communication_case') inSelect = true;
        if (inSelect || ownerFunc(recv)?.id !== owner.id) continue;
        const send = sends.find((s) => s.childForFieldName('channel')?.text === inner)!;
        const early = findOwn(body, (k) => k.type === 'return_statement').find(
          // A return right after a send on another channel (`errc <- err; return`) told the
          // receiver something: it reads that channel first and does not come here.
          (r) =>
            r.startIndex < send.startIndex &&
            !precededBy(r, feeds(inner)) &&
            !precededBy(r, (x) => x.type === 'send_statement'),
        );
        if (!early) continue;
        // The receiver first hears from the goroutine on another of its channels (a helper
        // waiting on `requests`): that channel is fed only past the early return, so by the
        // time the receiver gets here the goroutine did not take it.
        const others = [...names].filter((n) => n !== inner).map((n) => view.outer(n)!);
        const heard = (x: Node): boolean =>
          !within(g.node, x) &&
          others.some((o) =>
            new RegExp(`(^|[^\\p{L}\\p{N}_.])${o}(?![\\p{L}\\p{N}_])`, 'u').test(x.text),
          );
        if (others.length > 0 && precededBy(recv, heard)) continue;
        const who = g.literal
          ? `the goroutine started at line ${line(g.node)}`
          : `${funcName(fn)}, started at line ${line(g.node)} with ${name}${inner !== name ? ` as ${inner}` : ''},`;
        const where = view.file !== g.file ? ` of ${basename(view.file.path)}` : '';
        report({
          at: recv,
          file: g.file,
          partner: early,
          partnerFile: view.file,
          message: `this receive on ${name} waits for ${who} which returns at line ${line(early)}${where} without sending or closing ${name}: on that path the receiver blocks forever`,
          fix: `\`defer close(${inner})\` in the goroutine (and check for the zero value), or send on every path`,
        });
      }
    }
  },
};

/**
 * signal.Notify(c, ...) on an unbuffered channel: the runtime never blocks to deliver a signal,
 * so one that arrives while nobody waits on c is dropped, and the receive that was to start the
 * shutdown waits for a signal already gone. go vet's sigchanyzer flags the local form; this
 * also follows a channel field, and names the receive that waits.
 */
function checkSignals(pkg: Package, report: (r: Report) => void): void {
  for (const { file, call } of qualifiedCalls(pkg, 'os/signal', ['Notify'])) {
    const c = args(call)[0];
    let made: Node | undefined;
    let recv: { node: Node; file: GoFile } | undefined;
    let name = c?.text ?? '';
    if (c?.type === 'identifier') {
      const owner = ownerFunc(call);
      const decl = owner ? localChan(owner, c.text) : undefined;
      if (!owner || !decl?.make) continue;
      const size = decl.make.childForFieldName('arguments')?.namedChildren[1];
      if (size && size.text !== '0') continue;
      made = decl.stmt;
      const r = localChanUses(owner, c.text, decl.stmt).find(
        (u) => u.kind === 'recv' || u.kind === 'range',
      );
      if (r) recv = { node: r.node, file };
    } else if (c?.type === 'selector_expression') {
      const field = c.childForFieldName('field')?.text ?? '';
      if (!isChanField(pkg, field)) continue;
      const sizes = fieldMakes(pkg, field);
      if (sizes.length === 0 || sizes.some((n) => n !== 0)) continue;
      name = `.${field}`;
      const r = fieldChanUses(pkg, field).find((u) => u.kind === 'recv' || u.kind === 'range');
      if (r) recv = { node: r.node, file: r.file };
    } else continue;
    if (!recv) continue;
    const where = recv.file !== file ? ` of ${basename(recv.file.path)}` : '';
    report({
      at: call,
      file,
      partner: recv.node,
      partnerFile: recv.file,
      message: `signal.Notify never blocks to deliver: a signal that arrives while nobody is waiting on unbuffered ${name}${made ? ` (made at line ${line(made)})` : ''} is dropped, so the receive at line ${line(recv.node)}${where} can wait forever for a signal already sent, and the shutdown it should start never happens${made ? '' : " (go vet's sigchanyzer does not see a channel kept in a field)"}`,
      fix: `make the channel buffered: make(chan os.Signal, 1)`,
    });
  }
}
