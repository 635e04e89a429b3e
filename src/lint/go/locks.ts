/**
 * Mutexes for the lock rules: which expressions name a sync.Mutex or RWMutex (by their
 * declarations in the package), the Lock/Unlock statements of a function, and whether a lock is
 * still held at a given point of its function's straight-line paths.
 */
import type { GoFile, Package } from './package.js';
import { type Node, FUNC_TYPES, findOwnOfType } from './syntax.js';

export interface LockOp {
  /** The call statement (`mu.Lock()` as a statement, or `defer mu.Unlock()`). */
  stmt: Node;
  call: Node;
  /** The mutex as written: `mu`, `s.mu`. */
  mutex: string;
  method: 'Lock' | 'RLock' | 'Unlock' | 'RUnlock' | 'TryLock' | 'TryRLock';
  deferred: boolean;
}

const METHODS = /^(Lock|RLock|Unlock|RUnlock|TryLock|TryRLock)$/;

/** Whether the last name of `expr` is declared as a sync.Mutex or sync.RWMutex in the package. */
export function isMutex(pkg: Package, expr: string, cache: Map<string, boolean>): boolean {
  const last = expr.split('.').pop()!.trim();
  if (!/^[\p{L}_][\p{L}\p{N}_]*$/u.test(last)) return false;
  let v = cache.get(last);
  if (v === undefined) {
    const re = new RegExp(
      `(?<![\\p{L}\\p{N}_])${last}(\\s*,\\s*[\\p{L}_][\\p{L}\\p{N}_]*)*\\s+\\*?\\s*sync\\s*\\.\\s*(RW)?Mutex\\b`,
      'gu',
    );
    v = pkg.codeSearchWord(last, re).length > 0;
    cache.set(last, v);
  }
  return v;
}

/**
 * The functions (declarations and literals) of the package that make lock or unlock calls of
 * their own, found from the text (a walk over every function body would cost as much as
 * parsing), with the file each is in.
 */
export function lockingFuncs(pkg: Package): { file: GoFile; fn: Node }[] {
  return pkg.memo('lockingFuncs', () => {
    const out: { file: GoFile; fn: Node }[] = [];
    const seen = new Set<number>();
    for (const { file, index } of pkg.codeSearch(/\.\s*(R?Lock|R?Unlock)\s*\(\s*\)/g)) {
      let fn: Node | null = file.root.descendantForIndex(index);
      while (fn && !FUNC_TYPES.has(fn.type)) fn = fn.parent;
      if (!fn || seen.has(fn.id)) continue;
      seen.add(fn.id);
      out.push({ file, fn });
    }
    return out;
  });
}

/**
 * Names of the declared functions and methods that make lock or unlock calls of their own: a
 * call to any other name cannot take a lock in its callee's own body, so the rules that follow
 * locks into helpers look no further.
 */
export function lockingNames(pkg: Package): Set<string> {
  return pkg.memo('lockingNames', () => {
    const out = new Set<string>();
    for (const { fn } of lockingFuncs(pkg)) {
      const name = fn.type === 'func_literal' ? undefined : fn.childForFieldName('name')?.text;
      if (name) out.add(name);
    }
    return out;
  });
}

/**
 * Lock and unlock calls made as statements in `fn`'s own body (not in nested literals), found
 * from the function's text in `file` and confirmed on the tree.
 */
export function lockOps(fn: Node, file: GoFile): LockOp[] {
  // Asked again for every call into a locking helper: once per function (per tree).
  let perTree = opsCache.get(fn.tree);
  if (!perTree) opsCache.set(fn.tree, (perTree = new Map()));
  let ops = perTree.get(fn.id);
  if (!ops) perTree.set(fn.id, (ops = findLockOps(fn, file)));
  return ops;
}

const opsCache = new WeakMap<object, Map<number, LockOp[]>>();

function findLockOps(fn: Node, file: GoFile): LockOp[] {
  const body = fn.childForFieldName('body');
  if (!body) return [];
  const out: LockOp[] = [];
  const re = /\.\s*(Lock|RLock|Unlock|RUnlock|TryLock|TryRLock)\s*\(\s*\)/g;
  const text = file.code.slice(body.startIndex, body.endIndex);
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let call: Node | null = file.root.descendantForIndex(body.startIndex + m.index + 1);
    while (call && call.type !== 'call_expression' && !FUNC_TYPES.has(call.type))
      call = call.parent;
    if (call?.type !== 'call_expression') continue;
    let own: Node | null = call.parent;
    while (own && !FUNC_TYPES.has(own.type)) own = own.parent;
    if (own?.id !== fn.id) continue;
    const f = call.childForFieldName('function');
    if (f?.type !== 'selector_expression') continue;
    const method = f.childForFieldName('field')?.text ?? '';
    if (!METHODS.test(method)) continue;
    const stmt = call.parent;
    if (stmt?.type !== 'expression_statement' && stmt?.type !== 'defer_statement') continue;
    out.push({
      stmt,
      call,
      mutex: f.childForFieldName('operand')!.text.replace(/\s+/g, ''),
      method: method as LockOp['method'],
      deferred: stmt.type === 'defer_statement',
    });
  }
  return out;
}

const declCache = new WeakMap<object, Map<number, Node[]>>();

/** Names bound in `n`'s function to something that unlocks `mutex` when called. */
export function unlockHelpers(n: Node, mutex: string): string[] {
  let fn: Node | null = n;
  while (fn && !FUNC_TYPES.has(fn.type)) fn = fn.parent;
  const body = fn?.childForFieldName('body');
  if (!fn || !body) return [];
  const out: string[] = [];
  // Asked for every lock held at every call the lock rules follow into helpers: the function's
  // declarations are collected once per function (per tree, so nothing outlives its package).
  let perTree = declCache.get(fn.tree);
  if (!perTree) declCache.set(fn.tree, (perTree = new Map()));
  let decls = perTree.get(fn.id);
  if (!decls) perTree.set(fn.id, (decls = findOwnOfType(body, 'short_var_declaration')));
  if (decls.length === 0) return out;
  const re = new RegExp(`(^|[^\\w.])${mutex.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.R?Unlock\\b`);
  for (const d of decls) {
    const v = d.childForFieldName('right')?.text.replace(/\s+/g, '') ?? '';
    const name = d.childForFieldName('left')?.namedChildren[0]?.text;
    if (name && re.test(v)) out.push(name);
  }
  return out;
}

export function releaseOf(method: string): string {
  return method === 'RLock' ? 'RUnlock' : 'Unlock';
}

/**
 * The statements that run before `n` on every path through its function, nearest first: the
 * earlier statements of each enclosing statement list, innermost list first.
 */
function before(n: Node): Node[] {
  const out: Node[] = [];
  let c: Node = n;
  for (let p = n.parent; p && !FUNC_TYPES.has(p.type); c = p, p = p.parent) {
    if (p.type !== 'statement_list') continue;
    const kids = p.namedChildren;
    const mine: Node[] = [];
    for (const s of kids) {
      if (s.startIndex >= c.startIndex) break;
      mine.push(s);
    }
    out.push(...mine.reverse());
  }
  return out;
}

/**
 * Whether `mutex` is held at `n`: walking back over the statements that surely ran before it,
 * a Lock of it comes before any statement that might unlock it (an Unlock anywhere inside a
 * statement, a deferred one aside, counts as "might").
 */
export function heldAt(n: Node, mutex: string): LockOp | undefined {
  const esc = mutex.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Local helpers that unlock it (`unlock := sync.OnceFunc(mu.Unlock)`, `done := func() {
  // mu.Unlock() }`) unlock it when called.
  const helpers = unlockHelpers(n, mutex);
  const unlockRe = new RegExp(
    `(^|[^\\p{L}\\p{N}_])${esc}\\s*\\.\\s*R?Unlock\\b${helpers.length > 0 ? `|(^|[^\\p{L}\\p{N}_.])(${helpers.join('|')})\\s*\\(` : ''}`,
    'u',
  );
  for (const s of before(n)) {
    if (s.type === 'defer_statement') continue;
    if (s.type === 'expression_statement') {
      const call = s.namedChild(0);
      const f = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
      if (f?.type === 'selector_expression') {
        const m = f.childForFieldName('field')?.text ?? '';
        const who = f.childForFieldName('operand')!.text.replace(/\s+/g, '');
        if (who === mutex && (m === 'Lock' || m === 'RLock'))
          return { stmt: s, call: call!, mutex, method: m, deferred: false };
        if (who === mutex && /Unlock$/.test(m)) return undefined;
      }
    }
    if (unlockRe.test(s.text)) return undefined;
  }
  return undefined;
}

/** Whether `expr` (like `wg` or `s.wg`) names a sync.WaitGroup, by its declarations in the package. */
export function isWaitGroup(pkg: Package, expr: string): boolean {
  const last = expr.split('.').pop()!;
  if (!/^[\p{L}_][\p{L}\p{N}_]*$/u.test(last)) return false;
  const re = new RegExp(
    `(?<![\\p{L}\\p{N}_])${last}(\\s*,\\s*[\\p{L}_][\\p{L}\\p{N}_]*)*\\s+\\*?\\s*(sync\\s*\\.\\s*)?WaitGroup\\b|(?<![\\p{L}\\p{N}_])${last}\\s*:?=\\s*(&?\\s*sync\\s*\\.\\s*WaitGroup\\s*\\{|new\\s*\\(\\s*sync\\s*\\.\\s*WaitGroup\\s*\\))`,
    'gu',
  );
  return pkg.codeSearchWord(last, re).length > 0;
}
