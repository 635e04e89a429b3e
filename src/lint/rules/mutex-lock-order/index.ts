/**
 * mutex-lock-order: two functions of a package take the same two mutexes in opposite orders
 * (one holds A and takes B, the other holds B and takes A). Run by two goroutines at once, each
 * gets its first lock and waits forever for the other's.
 */
import { basename } from 'node:path';
import {
  type LockOp,
  heldAt,
  isMutex,
  lockOps,
  lockingFuncs,
  lockingNames,
} from '../../go/locks.js';
import type { FuncDecl, GoFile, Package } from '../../go/package.js';
import { handedTo } from '../../go/reach.js';
import { type Node, args, calleeName, funcName, ownerFunc, statementOf } from '../../go/syntax.js';
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
  /** The helper that takes `taken`, when it is not taken in `fn` itself: " (in m, line N)". */
  via?: string;
}

/** A lock a called function takes, named as the caller names it. */
interface Taken {
  mutex: string;
  op: LockOp;
  decl: FuncDecl;
  /** Every mutex the called function locks or unlocks, named as the caller names it. */
  touches: Set<string>;
}

/** The receiver name of a method declaration. */
function receiverName(fn: Node): string | undefined {
  const p = fn.childForFieldName('receiver')?.namedChildren[0];
  return p?.childForFieldName('name')?.text;
}

/**
 * The locks a call takes inside the function it calls, written as the caller names them: a
 * method of the same receiver (`s.flush()` taking `s.statsMu`), or a function handed the mutex
 * (`&s.mu`) or the struct holding it (`s`). Own calls only: a `go` or `defer` call runs later.
 */
function calleeLocks(
  pkg: Package,
  file: GoFile,
  fn: Node,
  call: Node,
  own: (d: FuncDecl) => LockOp[],
): Taken[] {
  if (call.parent?.type === 'go_statement' || call.parent?.type === 'defer_statement') return [];
  const out: Taken[] = [];
  const rename = (d: FuncDecl, from: string, to: string): Set<string> =>
    new Set(
      lockOps(d.node, d.file)
        .map((o) => o.mutex)
        .filter((m) => m === from || m.startsWith(`${from}.`))
        .map((m) => to + m.slice(from.length)),
    );
  const f = call.childForFieldName('function');
  const r = receiverName(fn);
  if (r && f?.type === 'selector_expression' && f.childForFieldName('operand')?.text === r) {
    const type = (pkg.funcs.get(funcName(fn) ?? '') ?? []).find((d) => d.node.id === fn.id)?.recv;
    const mine = pkg.resolve(f, file).filter((d) => type !== undefined && d.recv === type);
    if (mine.length === 1 && mine[0]!.node.id !== fn.id && receiverName(mine[0]!.node)) {
      const d = mine[0]!;
      const rr = receiverName(d.node)!;
      const touches = rename(d, rr, r);
      for (const op of own(d))
        if (op.mutex.startsWith(`${rr}.`))
          out.push({ mutex: `${r}.${op.mutex.slice(rr.length + 1)}`, op, decl: d, touches });
    }
  }
  for (const a of args(call)) {
    const amp = a.type === 'unary_expression' && a.childForFieldName('operator')?.text === '&';
    const inner = amp ? a.childForFieldName('operand') : a;
    if (!inner || !/^[\p{L}_][\p{L}\p{N}_.]*$/u.test(inner.text)) continue;
    const h = handedTo(pkg, file, inner);
    if (!h) continue;
    const touches = rename(h.decl, h.param, inner.text);
    for (const op of own(h.decl)) {
      if (op.mutex === h.param && amp) out.push({ mutex: inner.text, op, decl: h.decl, touches });
      else if (!amp && op.mutex.startsWith(`${h.param}.`))
        out.push({
          mutex: `${inner.text}.${op.mutex.slice(h.param.length + 1)}`,
          op,
          decl: h.decl,
          touches,
        });
    }
  }
  return out;
}

export const rule: Rule = {
  id: 'mutex-lock-order',
  summary: 'two functions take the same two mutexes in opposite orders (a lock-order deadlock)',
  needs: [/\.\s*R?Lock\s*\(\s*\)/],
  check(pkg, report) {
    if (!pkg.codeMatches(/\.\s*R?Lock\s*\(\s*\)/)) return;
    const cache = new Map<string, boolean>();
    const pairs = new Map<string, Pair>();
    // The locks each function takes itself, once per function (helpers are called from many).
    const owned = new Map<number, LockOp[]>();
    const lockers = new Set(lockingFuncs(pkg).map((l) => l.fn.id));
    const own = (d: FuncDecl): LockOp[] => {
      if (!lockers.has(d.node.id)) return [];
      let v = owned.get(d.node.id);
      if (!v)
        owned.set(
          d.node.id,
          (v = lockOps(d.node, d.file).filter(
            (o) => !o.deferred && (o.method === 'Lock' || o.method === 'RLock'),
          )),
        );
      return v;
    };
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
      // Taken through a helper called while holding one. Not from tests: a test that holds a
      // lock to freeze the code under test while it calls in is a technique, not the
      // program's lock order (nats-server's jetstream tests do so).
      if (ops.length === 0 || file.path.endsWith('_test.go')) continue;
      const body = fn.childForFieldName('body');
      if (!body) continue;
      const lockers = lockingNames(pkg);
      for (const call of body.descendantsOfType('call_expression')) {
        if (!lockers.has(calleeName(call) ?? '') || ownerFunc(call)?.id !== fn.id) continue;
        const taken = calleeLocks(pkg, file, fn, call, own);
        if (taken.length === 0) continue;
        const stmt = statementOf(call)?.stmt;
        if (!stmt) continue;
        for (const a of ops)
          for (const t of taken) {
            if (key(a.mutex) === key(t.mutex)) continue;
            if (a.method === 'RLock' && t.op.method === 'RLock') continue;
            const k = `${key(a.mutex)}\0${key(t.mutex)}`;
            // A helper that handles the held mutex itself (unlocks it to take the locks in the
            // documented order, then relocks: nats-server's recalculateClusteredSeq) knows it
            // is held; its order is its own business.
            if (pairs.has(k) || t.touches.has(a.mutex)) continue;
            const h = heldAt(stmt, a.mutex);
            if (h)
              pairs.set(k, {
                held: a.mutex,
                taken: t.mutex,
                heldAt: h.stmt,
                at: call,
                fn,
                file,
                via: ` (in ${t.decl.name}, line ${line(t.op.stmt)}${t.decl.file !== file ? ` of ${basename(t.decl.file.path)}` : ''})`,
              });
          }
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
        partnerFile: other.file,
        message: `${funcName(p.fn) ?? 'this function'} holds ${p.held} (line ${line(p.heldAt)}) and takes ${p.taken} here${p.via ?? ''}, while ${funcName(other.fn) ?? 'a func literal'} holds ${other.held} (line ${line(other.heldAt)}) and takes ${other.taken} at line ${line(other.at)}${other.via ?? ''}: run at the same time, each goroutine waits forever for the other's lock`,
        fix: `take ${key(p.held)} and ${key(p.taken)} in one fixed order everywhere (or release one before taking the other)`,
      };
      report(r);
    }
  },
};
