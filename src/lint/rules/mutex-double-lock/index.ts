/**
 * mutex-double-lock: a goroutine locks a mutex it already holds, on one path of one function
 * or through a method of the same receiver that locks it again. Go's mutexes are not
 * reentrant: Lock after Lock blocks forever, and so does RLock after RLock as soon as a writer
 * is waiting in between (a waiting Lock blocks new readers).
 */
import { basename } from 'node:path';
import {
  type LockOp,
  isMutex,
  heldAt,
  lockOps,
  lockingFuncs,
  lockingNames,
} from '../../go/locks.js';
import type { FuncDecl } from '../../go/package.js';
import { handedTo } from '../../go/reach.js';
import { type Node, args, calleeName, findOwn, ownerFunc, statementOf } from '../../go/syntax.js';
import type { Rule } from '../../rule.js';

function line(n: Node): number {
  return n.startPosition.row + 1;
}

function why(first: string, second: string, mutex: string): string {
  if (first === 'RLock' && second === 'RLock')
    return `${mutex} is read-locked twice: if a writer calls ${mutex}.Lock in between, it waits for the first RLock and the second RLock waits for the writer, so all of them block forever`;
  return `Go mutexes are not reentrant: the second ${second} waits for the first ${first} to be released, which this goroutine never gets to do`;
}

/**
 * The Lock or RLock that function `d` takes of `mutex` (as written there) on every path before
 * anything else it does with it: a statement of its body's top level, its first use of it.
 */
function locksFirst(d: FuncDecl, mutex: string): LockOp | undefined {
  const list = d.body?.namedChildren.find((k) => k.type === 'statement_list');
  const first = lockOps(d.node, d.file).find((o) => o.mutex === mutex);
  if (!first || first.deferred || (first.method !== 'Lock' && first.method !== 'RLock'))
    return undefined;
  return first.stmt.parent?.id === list?.id ? first : undefined;
}

/** The receiver name of a method declaration. */
function receiverName(d: FuncDecl): string | undefined {
  const p = d.node.childForFieldName('receiver')?.namedChildren[0];
  return p?.childForFieldName('name')?.text;
}

export const rule: Rule = {
  id: 'mutex-double-lock',
  summary:
    'a mutex locked again while held, on one path or through a method of the same receiver that locks it',
  needs: [/\.\s*R?Lock\s*\(\s*\)/],
  check(pkg, report) {
    if (!pkg.codeMatches(/\.\s*R?Lock\s*\(\s*\)/)) return;
    const cache = new Map<string, boolean>();
    // Methods that lock <recv>.<field> at the top level of their body, by receiver type and name.
    const locksAtTop = new Map<string, { field: string; method: string; at: Node }[]>();
    const topLocks = (d: FuncDecl) => {
      const key = `${d.recv}.${d.name}`;
      let v = locksAtTop.get(key);
      if (!v) {
        v = [];
        const r = receiverName(d);
        const list = d.body?.namedChildren.find((k) => k.type === 'statement_list');
        const all = lockOps(d.node, d.file);
        for (const op of all) {
          if (op.deferred || (op.method !== 'Lock' && op.method !== 'RLock')) continue;
          if (op.stmt.parent?.id !== list?.id || !r || !op.mutex.startsWith(`${r}.`)) continue;
          // A method that unlocks first expects the lock held by its caller (…NoLock, …Locked).
          if (all.find((o) => o.mutex === op.mutex)?.stmt.id !== op.stmt.id) continue;
          v.push({ field: op.mutex.slice(r.length + 1), method: op.method, at: op.stmt });
        }
        locksAtTop.set(key, v);
      }
      return v;
    };
    // Receiver type and field of every mutex some method Locks for writing (`T.mu`).
    let writing: Map<string, string> | undefined;
    const writers = (): Map<string, string> => {
      if (writing) return writing;
      writing = new Map();
      for (const list of pkg.funcs.values())
        for (const w of list) {
          const r = receiverName(w);
          if (!w.recv || !r) continue;
          for (const op of lockOps(w.node, w.file))
            if (op.method === 'Lock' && op.mutex.startsWith(`${r}.`)) {
              const key = `${w.recv}.${op.mutex.slice(r.length + 1)}`;
              if (!writing.has(key)) writing.set(key, `${w.name} (line ${line(op.stmt)})`);
            }
        }
      return writing;
    };
    const handedLocks = (d: FuncDecl, ops: LockOp[]): void => {
      const held = new Set(
        ops
          .filter((o) => !o.deferred && (o.method === 'Lock' || o.method === 'RLock'))
          .map((o) => o.mutex),
      );
      if (held.size === 0 || !d.body) return;
      const lockers = lockingNames(pkg);
      // Calls of locking functions first (cheap), then only the function's own.
      for (const call of d.body.descendantsOfType('call_expression')) {
        if (!lockers.has(calleeName(call) ?? '') || ownerFunc(call)?.id !== d.node.id) continue;
        if (call.parent?.type === 'go_statement' || call.parent?.type === 'defer_statement')
          continue;
        for (const a of args(call)) {
          // `&s.mu` hands the mutex itself; `s` the struct holding it. A mutex passed by value
          // is a copy (go vet's copylocks), never the same lock.
          const amp =
            a.type === 'unary_expression' && a.childForFieldName('operator')?.text === '&';
          const inner = amp ? a.childForFieldName('operand') : a;
          if (!inner) continue;
          const text = inner.text.replace(/\s+/g, '');
          for (const m of held) {
            const field =
              text === m && amp
                ? ''
                : m.startsWith(`${text}.`)
                  ? m.slice(text.length + 1)
                  : undefined;
            if (field === undefined) continue;
            const h = handedTo(pkg, d.file, inner);
            if (!h) continue;
            const again = locksFirst(h.decl, field ? `${h.param}.${field}` : h.param);
            const at = statementOf(call)?.stmt;
            if (!again || !at) continue;
            const was = heldAt(at, m);
            // Two read locks deadlock only with a writer queued between: not judged here.
            if (!was || (was.method === 'RLock' && again.method === 'RLock')) continue;
            if (!isMutex(pkg, m, cache)) continue;
            report({
              at: call,
              file: d.file,
              partner: again.stmt,
              partnerFile: h.decl.file,
              message: `${m} is held here (${was.method} at line ${line(was.stmt)}) and handed to ${h.decl.name}, which takes it again with ${again.method} (${again.mutex} at line ${line(again.stmt)}${h.decl.file !== d.file ? ` of ${basename(h.decl.file.path)}` : ''}): ${why(was.method, again.method, m)}`,
              fix: `release ${m} before calling ${h.decl.name}, or let ${h.decl.name} expect the lock held`,
            });
          }
        }
      }
    };
    const decls = new Map<number, FuncDecl>();
    for (const list of pkg.funcs.values()) for (const d of list) decls.set(d.node.id, d);
    for (const { fn } of lockingFuncs(pkg)) {
      const d = decls.get(fn.id);
      if (!d) continue;
      {
        const ops = lockOps(d.node, d.file);
        if (ops.length === 0) continue;
        // (1) On one path of this function.
        for (const op of ops) {
          if (op.deferred || (op.method !== 'Lock' && op.method !== 'RLock')) continue;
          const held = heldAt(op.stmt, op.mutex);
          if (!held || !isMutex(pkg, op.mutex, cache)) continue;
          report({
            at: op.stmt,
            file: d.file,
            message: `${op.mutex}.${op.method}() while ${op.mutex} is already held (${held.method} at line ${line(held.stmt)}, not released on the way here): ${why(held.method, op.method, op.mutex)}`,
            fix: `release ${op.mutex} before this point, or do not take it again here`,
          });
        }
        // (3) Through a function the mutex (`&s.mu`) or the struct holding it (`s`) is handed
        // to, which locks it at its top level.
        handedLocks(d, ops);
        // (2) Through a method of the same receiver that takes the lock again.
        const r = receiverName(d);
        if (!d.recv || !r || !d.body) continue;
        const held = new Set(
          ops.filter((o) => !o.deferred && o.mutex.startsWith(`${r}.`)).map((o) => o.mutex),
        );
        if (held.size === 0) continue;
        // Own calls only: a func literal or a `go` statement runs later or elsewhere.
        for (const call of findOwn(d.body, (k) => k.type === 'call_expression')) {
          if (call.parent?.type === 'go_statement' || call.parent?.type === 'defer_statement')
            continue;
          const f = call.childForFieldName('function');
          if (f?.type !== 'selector_expression' || f.childForFieldName('operand')?.text !== r)
            continue;
          const name = f.childForFieldName('field')?.text ?? '';
          const targets = (pkg.funcs.get(name) ?? []).filter((t) => t.recv === d.recv);
          if (targets.length !== 1 || targets[0]!.node.id === d.node.id) continue;
          const at = statementOf(call)?.stmt;
          if (!at) continue;
          for (const m of held) {
            const field = m.slice(r.length + 1);
            const again = topLocks(targets[0]!).find((x) => x.field === field);
            if (!again) continue;
            const h = heldAt(at, m);
            if (!h || !isMutex(pkg, m, cache)) continue;
            // RLock under RLock deadlocks only once a writer queues in between: reported when
            // a method of the same type write-locks that field.
            const writer =
              h.method === 'RLock' && again.method === 'RLock'
                ? writers().get(`${d.recv}.${field}`)
                : '';
            if (writer === undefined) continue;
            report({
              at: call,
              file: d.file,
              partner: again.at,
              message: `${m} is held here (${h.method} at line ${line(h.stmt)}) and ${name} (line ${line(again.at)}) takes it again with ${again.method}: ${why(h.method, again.method, m)}${writer ? `; ${writer} is such a writer` : ''}`,
              fix: `call ${name} after releasing ${m}, or split out a ${name}Locked variant that expects the lock held`,
            });
          }
        }
      }
    }
  },
};
