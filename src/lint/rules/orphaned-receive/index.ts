/**
 * orphaned-receive: the receive-side twin of orphaned-send. A function waits on a channel
 * (a plain receive, no select) whose only sender is a goroutine it started, and that goroutine
 * can return before sending or closing. On that path the receiver waits forever, and with it
 * everything it holds.
 */
import { localChan, localChanUses } from '../../go/chans.js';
import { type Node, FUNC_TYPES, findOwn, ownerFunc, precededBy, within } from '../../go/syntax.js';
import type { Rule } from '../../rule.js';

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
    'a plain receive on a channel whose only sender, a goroutine started here, can return without sending or closing it',
  check(pkg, report) {
    if (!pkg.codeMatches(/<-/) || pkg.goStmts.length === 0) return;
    for (const g of pkg.goStmts) {
      const lit = g.literal;
      const body = lit?.childForFieldName('body');
      const owner = ownerFunc(g.node);
      if (!lit || !body || !owner) continue;
      const names = new Set(
        findOwn(body, (k) => k.type === 'send_statement')
          .map((s) => s.childForFieldName('channel'))
          .filter((c): c is Node => c?.type === 'identifier')
          .map((c) => c.text),
      );
      for (const name of names) {
        const decl = localChan(owner, name);
        if (!decl?.make) continue;
        const uses = localChanUses(owner, name, decl.stmt);
        if (uses.some((u) => u.kind === 'escape' || u.kind === 'make')) continue;
        // Only this goroutine feeds it; a close anywhere (a defer in the goroutine) ends waits.
        if (uses.some((u) => u.kind === 'close')) continue;
        if (uses.some((u) => u.kind === 'send' && !within(u.node, lit))) continue;
        const recvs = uses.filter((u) => u.kind === 'recv' && !within(u.node, lit));
        if (recvs.length !== 1) continue;
        const recv = recvs[0]!.node.parent!;
        // A receive in a select can take another case; only a plain one waits for good.
        let inSelect = false;
        for (let p = recv.parent; p && !FUNC_TYPES.has(p.type); p = p.parent)
          if (p.type === 'communication_case') inSelect = true;
        if (inSelect || ownerFunc(recv)?.id !== owner.id) continue;
        const send = findOwn(body, (k) => k.type === 'send_statement').find(
          (s) => s.childForFieldName('channel')?.text === name,
        )!;
        const early = findOwn(body, (k) => k.type === 'return_statement').find(
          // A return right after a send on another channel (`errc <- err; return`) told the
          // receiver something: it reads that channel first and does not come here.
          (r) =>
            r.startIndex < send.startIndex &&
            !precededBy(r, feeds(name)) &&
            !precededBy(r, (x) => x.type === 'send_statement'),
        );
        if (!early) continue;
        // The receiver first hears from the goroutine on another of its channels (a helper
        // waiting on `requests`): that channel is fed only past the early return, so by the
        // time the receiver gets here the goroutine did not take it.
        const others = [...names].filter((n) => n !== name);
        const heard = (x: Node): boolean =>
          !within(g.node, x) &&
          others.some((o) =>
            new RegExp(`(^|[^\\p{L}\\p{N}_.])${o}(?![\\p{L}\\p{N}_])`, 'u').test(x.text),
          );
        if (others.length > 0 && precededBy(recv, heard)) continue;
        report({
          at: recv,
          file: g.file,
          partner: early,
          message: `this receive on ${name} waits for the goroutine started at line ${line(g.node)}, which returns at line ${line(early)} without sending or closing ${name}: on that path the receiver blocks forever`,
          fix: `\`defer close(${name})\` in the goroutine (and check for the zero value), or send on every path`,
        });
      }
    }
  },
};
