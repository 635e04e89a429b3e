/**
 * mutex-lock-order: two functions of a package take the same two mutexes in opposite orders
 * (one holds A and takes B, the other holds B and takes A). Run by two goroutines at once, each
 * gets its first lock and waits forever for the other's.
 */
import { heldAt, isMutex, lockOps, lockingFuncs } from '../../go/locks.js';
import type { GoFile } from '../../go/package.js';
import { type Node, funcName } from '../../go/syntax.js';
import type { Report, Rule } from '../../rule.js';

function line(n: Node): number {
  return n.startPosition.row + 1;
}

/**
 * A mutex as written (`s.mu`). Without types, two functions are taken to lock the same mutex
 * only when they write it the same way: Go code names a type's receiver the same in all its
 * methods, while `c.mu` and `s.mu` are usually fields of different types.
 */
function key(mutex: string): string {
  return mutex;
}

interface Pair {
  held: string;
  taken: string;
  heldAt: Node;
  at: Node;
  fn: Node;
  file: GoFile;
}

export const rule: Rule = {
  id: 'mutex-lock-order',
  summary: 'two functions take the same two mutexes in opposite orders (a lock-order deadlock)',
  needs: [/\.\s*R?Lock\s*\(\s*\)/],
  check(pkg, report) {
    if (!pkg.codeMatches(/\.\s*R?Lock\s*\(\s*\)/)) return;
    const cache = new Map<string, boolean>();
    const pairs = new Map<string, Pair>();
    for (const { file, fn } of lockingFuncs(pkg)) {
      const ops = lockOps(fn, file).filter(
        (o) => !o.deferred && (o.method === 'Lock' || o.method === 'RLock'),
      );
      for (const b of ops)
        for (const a of ops) {
          if (a.stmt.startIndex >= b.stmt.startIndex || key(a.mutex) === key(b.mutex)) continue;
          const h = heldAt(b.stmt, a.mutex);
          if (!h) continue;
          // Two read locks never wait for each other.
          if (a.method === 'RLock' && b.method === 'RLock') continue;
          const k = `${key(a.mutex)}\0${key(b.mutex)}`;
          if (!pairs.has(k))
            pairs.set(k, { held: a.mutex, taken: b.mutex, heldAt: h.stmt, at: b.stmt, fn, file });
        }
    }
    const done = new Set<string>();
    for (const [k, p] of pairs) {
      const [x, y] = k.split('\0');
      const other = pairs.get(`${y}\0${x}`);
      if (!other || other.fn.id === p.fn.id || done.has(`${y}\0${x}`)) continue;
      if (!isMutex(pkg, p.held, cache) || !isMutex(pkg, p.taken, cache)) continue;
      done.add(k);
      const r: Report = {
        at: p.at,
        file: p.file,
        partner: other.at,
        message: `${funcName(p.fn) ?? 'this function'} holds ${p.held} (line ${line(p.heldAt)}) and takes ${p.taken} here, while ${funcName(other.fn) ?? 'a func literal'} holds ${other.held} (line ${line(other.heldAt)}) and takes ${other.taken} at line ${line(other.at)}: run at the same time, each goroutine waits forever for the other's lock`,
        fix: `take ${key(p.held)} and ${key(p.taken)} in one fixed order everywhere (or release one before taking the other)`,
      };
      report(r);
    }
  },
};
