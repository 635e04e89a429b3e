/**
 * waitgroup-add-in-goroutine: wg.Add runs inside the goroutine it counts. Wait may run before
 * the Add does, return early and let its caller move on (or tear down what the goroutine
 * uses), and the goroutine is then counted by nobody.
 */
import { isWaitGroup } from '../../go/locks.js';
import { type Node, args, findOwn } from '../../go/syntax.js';
import type { Rule } from '../../rule.js';

function methodCalls(body: Node, method: string): Node[] {
  return findOwn(body, (k) => {
    if (k.type !== 'call_expression') return false;
    const fn = k.childForFieldName('function');
    return fn?.type === 'selector_expression' && fn.childForFieldName('field')?.text === method;
  });
}

export const rule: Rule = {
  id: 'waitgroup-add-in-goroutine',
  summary: 'wg.Add is called inside the goroutine that the same WaitGroup counts',
  needs: [/WaitGroup/, /\bgo\b/],
  check(pkg, report) {
    if (!pkg.codeMatches(/WaitGroup/)) return;
    for (const g of pkg.goStmts) {
      if (!g.literal) continue;
      const body = g.literal.childForFieldName('body');
      if (!body) continue;
      const dones = new Set(
        methodCalls(body, 'Done').map(
          (c) => c.childForFieldName('function')!.childForFieldName('operand')!.text,
        ),
      );
      for (const add of methodCalls(body, 'Add')) {
        const recv = add.childForFieldName('function')!.childForFieldName('operand')!.text;
        if (!dones.has(recv) || !isWaitGroup(pkg, recv)) continue;
        // An Add followed by a go statement counts that goroutine, not this one; so does one
        // followed by a call handed a function to run (a helper that starts the goroutine:
        // `srv.startGoRoutine(func() { ... })`).
        if (
          findOwn(
            body,
            (k) =>
              k.startIndex > add.endIndex &&
              (k.type === 'go_statement' ||
                (k.type === 'call_expression' && args(k).some((x) => x.type === 'func_literal'))),
          ).length > 0
        )
          continue;
        report({
          at: add,
          file: g.file,
          message: `${recv}.Add runs inside the goroutine it counts: ${recv}.Wait can run first and return while this goroutine is still running, so nobody waits for it to end`,
          fix: `call ${recv}.Add(1) before the go statement, in the goroutine that will call ${recv}.Wait`,
        });
      }
    }
  },
};
