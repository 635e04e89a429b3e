/**
 * goroutine-without-exit: a goroutine whose loop has no way out: no return, no break out of
 * it, no panic or exit. Whatever it references stays alive with it, forever.
 */
import { basename } from 'node:path';
import type { GoStmt } from '../../go/package.js';
import { processLifetime } from '../../go/lifetime.js';
import { type Node, isBareLoop, loopCanExit } from '../../go/syntax.js';
import type { Rule } from '../../rule.js';

/** A `for {` at the top of a goroutine body (not inside a branch) that can never end. */
function endlessLoop(body: Node): Node | undefined {
  const list = body.namedChildren.find((k) => k.type === 'statement_list');
  for (const s of list?.namedChildren ?? []) {
    const loop =
      s.type === 'labeled_statement' ? s.namedChildren.find((k) => k.type === 'for_statement') : s;
    if (loop?.type !== 'for_statement') continue;
    if (isBareLoop(loop) && !loopCanExit(loop)) return loop;
    if (rangesOverTicker(loop) && !loopCanExit(loop)) return loop;
  }
  return undefined;
}

/** `for range t.C` / `for range time.Tick(d)`: a ticker channel is never closed. */
function rangesOverTicker(loop: Node): boolean {
  const rc = loop.namedChildren.find((k) => k.type === 'range_clause');
  const right = rc?.childForFieldName('right');
  if (!right) return false;
  return (
    /^(time\.Tick\(.*\)|[\p{L}_][\p{L}\p{N}_.]*\.C)$/su.test(right.text) && /tick/i.test(right.text)
  );
}

function describe(g: GoStmt): string {
  if (g.literal) return 'this goroutine';
  const t = g.targets[0];
  return `goroutine ${t?.recv ? `${t.recv}.` : ''}${t?.name ?? '?'}`;
}

export const rule: Rule = {
  id: 'goroutine-without-exit',
  summary: 'a go statement runs a function or closure whose loop has no return, break or exit',
  needs: [/\bgo\b/],
  check(pkg, report) {
    for (const g of pkg.goStmts) {
      if (processLifetime(g.node, pkg)) continue;
      let loop: Node | undefined;
      let where = ' (';
      if (g.literal) {
        const body = g.literal.childForFieldName('body');
        loop = body ? endlessLoop(body) : undefined;
      } else {
        // Every candidate must loop forever; with several same-named methods we cannot tell
        // which one runs.
        if (g.targets.length === 0) continue;
        const loops = g.targets.map((t) => (t.body ? endlessLoop(t.body) : undefined));
        if (loops.some((l) => !l)) continue;
        loop = loops[0];
        if (loop && g.targets[0]!.file !== g.file)
          where = ` (${basename(g.targets[0]!.file.path)} `;
      }
      if (!loop) continue;
      report({
        at: g.node,
        file: g.file,
        message: `${describe(g)} loops forever${where}line ${loop.startPosition.row + 1}: no return, break or ctx.Done() exit): nothing can end it, so it and everything it references live until the process exits`,
        fix: 'give the loop an exit: select on ctx.Done() (or a done/quit channel) and return',
      });
    }
  },
};
