/**
 * conn-without-close-handling: a network or WebSocket connection is registered in a long-lived
 * map, and nothing in the package notices the peer going away and unregisters it: no close
 * handler, and the only code that removes entries is never called from inside the package.
 * The seed's Bug 1 as it really looked: the browser leaves, nothing tells the service, and the
 * entry, the socket, the uncancelled context and its goroutines stay forever.
 */
import type { FuncDecl, GoFile, Package } from '../../go/package.js';
import { qualifiedCalls } from '../../go/package.js';
import { CONN_PKGS, type Registry, insertions, registries } from '../../go/registry.js';
import { type Node, FUNC_TYPES, within } from '../../go/syntax.js';
import type { Report, Rule } from '../../rule.js';

/** Names of parameters of `fn` whose declared type is a connection. */
function connParams(fn: FuncDecl): Map<string, string> {
  const out = new Map<string, string>();
  const params = fn.node.childForFieldName('parameters');
  for (const pd of params?.namedChildren ?? []) {
    let t = pd.childForFieldName('type');
    if (t?.type === 'pointer_type') t = t.namedChildren[0] ?? null;
    if (t?.type !== 'qualified_type') continue;
    const path = fn.file.imports.get(t.childForFieldName('package')?.text ?? '');
    const name = t.childForFieldName('name')?.text ?? '';
    if (!path || !CONN_PKGS[path]?.includes(name)) continue;
    for (const n of pd.childrenForFieldName('name'))
      out.set(n.text, pd.childForFieldName('type')!.text);
  }
  return out;
}

/** The value stored by `reg[k] = v` carries `conn`: v is conn, k is conn, or v was built with it. */
function carries(stmt: Node, conn: string, fnBody: Node): boolean {
  const left = stmt.childForFieldName('left')?.namedChildren[0];
  const right = stmt.childForFieldName('right')?.namedChildren[0];
  if (!left || !right) return false;
  if (left.childForFieldName('index')?.text === conn) return true;
  if (right.text === conn) return true;
  const lit = right.type === 'unary_expression' ? right.namedChildren[0] : right;
  if (lit?.type === 'composite_literal') return mentions(lit, conn);
  if (right.type !== 'identifier') return false;
  // v := &T{..., conn, ...} earlier in the function.
  for (const d of fnBody.descendantsOfType('short_var_declaration')) {
    if (d.startIndex > stmt.startIndex) break;
    const l = d.childForFieldName('left')?.namedChildren ?? [];
    const r = d.childForFieldName('right')?.namedChildren ?? [];
    const i = l.findIndex((k) => k.text === right.text);
    if (i < 0) continue;
    const v = r[i];
    const c = v?.type === 'unary_expression' ? v.namedChildren[0] : v;
    if (c?.type === 'composite_literal' && mentions(c, conn)) return true;
  }
  return false;
}

function mentions(n: Node, name: string): boolean {
  return n.descendantsOfType('identifier').some((k) => k.text === name);
}

/** Names under which the package's code refers to a declared function (besides declaring it). */
function calledInPackage(pkg: Package, fn: Node): boolean {
  if (fn.type === 'func_literal') return true; // a callback handed to someone
  const name = fn.childForFieldName('name')?.text;
  if (!name) return true;
  return pkg.occurrences(name).length > 1;
}

/** Whether something reachable from inside the package takes entries out of `r`. */
function unregisters(pkg: Package, r: Registry): { handled: boolean; only?: string } {
  const R = r.field ? `\\.\\s*${r.name}` : `(?<![\\p{L}\\p{N}_.])${r.name}`;
  const re = new RegExp(
    `(?:\\bdelete\\s*\\(\\s*[^,()]*${R}\\s*,)|(?:\\bclear\\s*\\(\\s*[^()]*${R}\\s*\\))|(?:${R}\\s*=(?!=))`,
    'gu',
  );
  let only: string | undefined;
  for (const { file, index } of pkg.codeSearchWord(r.name, re)) {
    let fn: Node | null = file.root.descendantForIndex(index, index + 1);
    while (fn && !FUNC_TYPES.has(fn.type)) fn = fn.parent;
    if (!fn) return { handled: true };
    if (calledInPackage(pkg, fn)) return { handled: true };
    only = fn.childForFieldName('name')?.text;
  }
  return only ? { handled: false, only } : { handled: false };
}

export const rule: Rule = {
  id: 'conn-without-close-handling',
  summary:
    'a WebSocket or network connection is registered in a long-lived map, and nothing in the package unregisters it when the peer goes away',
  needs: [/\b(websocket|net|tls)\s*\.\s*(Conn|TCPConn|UnixConn)\b/],
  check(pkg, report) {
    if (!pkg.codeMatches(/\b(websocket|net|tls)\s*\.\s*(Conn|TCPConn|UnixConn)\b/)) return;
    if (pkg.codeMatches(/\.\s*SetCloseHandler\s*\(/)) return;
    const regs = registries(pkg);
    if (regs.length === 0) return;
    // Each registry's insertions and removals are searched for once per package, not once per
    // function and connection parameter: on a large package the nested search was quadratic.
    const ins = new Map<Registry, { file: GoFile; node: Node }[]>();
    const un = new Map<Registry, ReturnType<typeof unregisters>>();
    for (const decls of pkg.funcs.values()) {
      for (const fn of decls) {
        if (!fn.body) continue;
        const conns = connParams(fn);
        if (conns.size === 0) continue;
        for (const r of regs) {
          let list = ins.get(r);
          if (!list) ins.set(r, (list = insertions(pkg, r)));
          for (const i of list) {
            if (i.file !== fn.file || !within(i.node, fn.body)) continue;
            for (const [conn, type] of conns) {
              if (!carries(i.node, conn, fn.body)) continue;
              let u = un.get(r);
              if (!u) un.set(r, (u = unregisters(pkg, r)));
              if (u.handled) continue;
              reportOne(pkg, fn, i.node, i.file, r, conn, type, u.only, report);
            }
          }
        }
      }
    }
  },
};

function reportOne(
  pkg: Package,
  fn: FuncDecl,
  stmt: Node,
  file: GoFile,
  r: Registry,
  conn: string,
  type: string,
  only: string | undefined,
  report: (r: Report) => void,
): void {
  // Point at the start of the lifecycle when the function makes one for this connection: the
  // context whose cancel is kept with it.
  const made = qualifiedCalls(pkg, 'context', [
    'WithCancel',
    'WithTimeout',
    'WithDeadline',
    'WithCancelCause',
  ])
    .filter((c) => c.file === file && within(c.call, fn.body!))
    .map((c) => c.call);
  const ctxStmt = made[0]?.parent?.parent ?? undefined;
  const what = r.field ? `.${r.name}` : r.name;
  const way = only
    ? `the only code that removes it (${only}) is called from nowhere in package ${pkg.name}`
    : `nothing in package ${pkg.name} removes it`;
  const ctxPart = ctxStmt ? " and the cancel of its goroutines' context" : '';
  report({
    at: ctxStmt ?? stmt,
    file,
    message: `${fn.name} registers ${conn} (${type})${ctxPart} in ${what}, but nothing notices the peer leaving (no close handler, no read loop that unregisters) and ${way}: after a disconnect the entry, the socket${ctxStmt ? ', the never-cancelled context and its goroutines' : ''} live forever`,
    fix: `start a read loop (or set a close handler) that, on error or close, unregisters ${conn}: cancel, delete the ${what} entry, close the connection`,
  });
}
