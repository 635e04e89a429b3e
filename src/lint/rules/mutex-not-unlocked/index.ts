/**
 * mutex-not-unlocked: a function locks a mutex, unlocks it on its normal path, and returns early
 * somewhere in between without unlocking. Every later Lock, in any goroutine, then blocks
 * forever: the goroutines waiting on it pile up behind one forgotten return.
 */
import { uncoveredExits } from '../../go/flow.js';
import {
  type LockOp,
  isMutex,
  lockOps,
  lockingFuncs,
  releaseOf,
  unlockHelpers,
} from '../../go/locks.js';
import { type Node, findOwnOfType, funcName } from '../../go/syntax.js';
import type { Rule } from '../../rule.js';

function line(n: Node): number {
  return n.startPosition.row + 1;
}

/**
 * `mu.Unlock()` or `defer mu.Unlock()` for this lock, or a statement (a return included) that
 * calls one of `helpers`, local closures that unlock it (`return reject(err)`).
 */
function releases(op: LockOp, helpers: string[]) {
  const want = releaseOf(op.method);
  const viaHelper =
    helpers.length > 0
      ? new RegExp(`(^|[^\\p{L}\\p{N}_.])(${helpers.join('|')})\\s*\\(`, 'u')
      : undefined;
  return (stmt: Node): boolean => {
    if (viaHelper?.test(stmt.text)) return true;
    if (stmt.type !== 'expression_statement' && stmt.type !== 'defer_statement') return false;
    const call = stmt.namedChild(0);
    const f = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
    if (f?.type === 'func_literal')
      return (
        stmt.type === 'defer_statement' &&
        f.text.replace(/\s+/g, '').includes(`${op.mutex}.${want}()`)
      );
    return (
      f?.type === 'selector_expression' &&
      f.childForFieldName('field')?.text === want &&
      f.childForFieldName('operand')!.text.replace(/\s+/g, '') === op.mutex
    );
  };
}

export const rule: Rule = {
  id: 'mutex-not-unlocked',
  summary:
    'a mutex locked and unlocked on the normal path, but left locked by an early return in between',
  needs: [/\.\s*R?Lock\s*\(\s*\)/],
  check(pkg, report) {
    if (!pkg.codeMatches(/\.\s*R?Lock\s*\(\s*\)/)) return;
    const cache = new Map<string, boolean>();
    for (const { file, fn } of lockingFuncs(pkg)) {
      // lock()/lockAndCheck() helpers hand the held lock to their caller on purpose.
      if (/lock/i.test(funcName(fn) ?? '')) continue;
      const ops = lockOps(fn, file);
      if (ops.length < 2) continue;
      for (const op of ops) {
        if (op.deferred || (op.method !== 'Lock' && op.method !== 'RLock')) continue;
        const rel = releaseOf(op.method);
        const unlocks = ops.filter((o) => o.mutex === op.mutex && o.method === rel);
        // Never unlocked here: a handoff to the caller (or another function), not this rule's.
        if (
          unlocks.length === 0 ||
          unlocks.some((o) => o.deferred && o.stmt.startIndex < op.stmt.startIndex)
        )
          continue;
        // Entered with the lock held (its first use here is an Unlock: unlock, work, relock),
        // or released by a deferred closure (often behind a flag): the contract is elsewhere.
        const first = ops.find((o) => o.mutex === op.mutex);
        if (first && first.method !== op.method) continue;
        if (
          findOwnOfType(fn.childForFieldName('body')!, 'defer_statement').some((d) =>
            d.text.replace(/\s+/g, '').includes(`${op.mutex}.${rel}`),
          )
        )
          continue;
        if (!isMutex(pkg, op.mutex, cache)) continue;
        const last = ops
          .filter((o) => o.mutex === op.mutex && o.method === rel && !o.deferred)
          .pop();
        // Only early returns: a return before the function's last unlock of this mutex, whose
        // normal path therefore does unlock it.
        const helpers = unlockHelpers(fn, op.mutex);
        const viaHelper = releases(op, helpers);
        const missed = uncoveredExits(op.call, fn, viaHelper).filter(
          (r) =>
            r.type === 'return_statement' &&
            !!last &&
            r.startIndex < last.stmt.startIndex &&
            !viaHelper(r),
        );
        const ret = missed[0];
        if (!ret) continue;
        report({
          at: op.stmt,
          file,
          partner: ret,
          message: `${op.mutex}.${op.method}() is released at line ${line(last!.stmt)} on the normal path, but the return at line ${line(ret)} leaves with it still locked: every later ${op.mutex}.Lock, in any goroutine, blocks forever`,
          fix: `\`defer ${op.mutex}.${rel}()\` right after this line, or ${op.mutex}.${rel}() before the return at line ${line(ret)}`,
        });
      }
    }
  },
};
