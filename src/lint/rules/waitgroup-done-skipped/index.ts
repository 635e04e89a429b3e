/**
 * waitgroup-done-skipped: a goroutine calls wg.Done() at its end (not deferred) and returns
 * early on some path before it. The counter never reaches zero: wg.Wait(), and whoever waits on
 * it, blocks forever.
 */
import { basename } from 'node:path';
import { goView } from '../../go/chans.js';
import { isWaitGroup } from '../../go/locks.js';
import { type Node, enclosingLoop, findOwn, ownerFunc, precededBy } from '../../go/syntax.js';
import type { Rule } from '../../rule.js';

function line(n: Node): number {
  return n.startPosition.row + 1;
}

/** `X.Done()` (or `defer X.Done()`) as a statement, for the WaitGroup written `wg`. */
function isDone(wg: string) {
  return (stmt: Node): boolean => {
    if (stmt.type !== 'expression_statement' && stmt.type !== 'defer_statement') return false;
    const t = stmt.namedChild(0)?.text.replace(/\s+/g, '') ?? '';
    return t === `${wg}.Done()` || (stmt.type === 'defer_statement' && t.includes(`${wg}.Done()`));
  };
}

export const rule: Rule = {
  id: 'waitgroup-done-skipped',
  summary:
    'a goroutine returns early before its (not deferred) wg.Done(), so wg.Wait() never returns',
  needs: [/\.\s*Done\s*\(\s*\)/, /WaitGroup/, /\bgo\b/],
  check(pkg, report) {
    if (!pkg.codeMatches(/\.\s*Done\s*\(\s*\)/) || !pkg.codeMatches(/WaitGroup/)) return;
    for (const g of pkg.goStmts) {
      // A literal, or the declared function the WaitGroup is handed to (`go work(&wg, x)`).
      const view = goView(g);
      if (!view) continue;
      const { fn, body } = view;
      const dones = findOwn(
        body,
        (k) =>
          k.type === 'expression_statement' &&
          /^[\p{L}_][\p{L}\p{N}_.]*\.Done\(\)$/u.test(k.text.replace(/\s+/g, '')),
      );
      const seen = new Set<string>();
      for (const done of dones) {
        const wg = done.text.replace(/\s+/g, '').slice(0, -'.Done()'.length);
        if (seen.has(wg)) continue;
        seen.add(wg);
        // A deferred Done anywhere covers every path.
        if (findOwn(body, (k) => k.type === 'defer_statement').some((d) => isDone(wg)(d))) continue;
        if (!isWaitGroup(pkg, wg)) continue;
        // A Done in a loop, or one that undoes an Add the goroutine made itself, pairs with
        // that Add, not with the count the launcher made for this goroutine.
        if (enclosingLoop(done, fn)) continue;
        if (body.text.replace(/\s+/g, '').includes(`${wg}.Add(`)) continue;
        const skip = findOwn(body, (k) => k.type === 'return_statement').find(
          (r) => r.startIndex < done.startIndex && !precededBy(r, isDone(wg)),
        );
        if (!skip) continue;
        // The launcher's name for it: the argument it was handed over as, else the same text
        // (a captured local, or a field reached the same way).
        const head = wg.split('.')[0]!;
        const outer = `${view.outer(head) ?? head}${wg.slice(head.length)}`;
        const owner = ownerFunc(g.node);
        const wait = owner
          ? findOwn(
              owner,
              (k) =>
                k.type === 'call_expression' && k.text.replace(/\s+/g, '') === `${outer}.Wait()`,
            )[0]
          : undefined;
        const where = view.file !== g.file ? ` of ${basename(g.file.path)}` : '';
        report({
          at: skip,
          file: view.file,
          message: `this return skips ${wg}.Done() (line ${line(done)}): the counter never reaches zero, so ${outer}.Wait()${wait ? ` (line ${line(wait)}${where})` : ''} blocks forever and so does whoever waits on it`,
          fix: `\`defer ${wg}.Done()\` as the goroutine's first statement`,
          ...(wait ? { partner: wait, partnerFile: g.file } : {}),
        });
      }
    }
  },
};
