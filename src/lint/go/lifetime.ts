/**
 * Goroutines that are meant to live as long as the process: started from main or init, or
 * inside a sync.Once. Rules about goroutines that never end leave these alone.
 */
import type { Package } from './package.js';
import { references } from './reach.js';
import { type Node, funcName, ownerFunc, topFunc } from './syntax.js';

/**
 * Whether declared function `top` runs once for the process: it is main or init, or (in package
 * main) a plain function whose every reference is inside such a function, a few helpers deep.
 */
function runsOnce(pkg: Package, top: Node, depth = 0): boolean {
  const name = funcName(top);
  if (name === 'init' || (name === 'main' && pkg.name === 'main')) return true;
  if (pkg.name !== 'main' || top.type !== 'function_declaration' || !name || depth > 3)
    return false;
  const refs = pkg.occurrences(name).filter((o) => {
    const n = o.file.root.descendantForIndex(o.index);
    return n.id !== top.childForFieldName('name')?.id;
  });
  if (refs.length === 0 || refs.length !== references(pkg, top)) return false;
  // A reference inside a func literal (a handler, a callback) may run any number of times.
  return refs.every((o) => {
    const caller = ownerFunc(o.file.root.descendantForIndex(o.index));
    return (
      !!caller &&
      caller.type === 'function_declaration' &&
      caller.id !== top.id &&
      runsOnce(pkg, caller, depth + 1)
    );
  });
}

export function processLifetime(goStmt: Node, pkg: Package): boolean {
  const top = topFunc(goStmt);
  if (!top) return true; // a package-level var initializer runs once
  if (runsOnce(pkg, top)) return true;
  // once.Do(func() { go ... })
  for (let p = goStmt.parent; p; p = p.parent) {
    if (p.type !== 'func_literal') continue;
    const arg = p.parent;
    const call = arg?.parent;
    if (arg?.type === 'argument_list' && call?.type === 'call_expression') {
      const fn = call.childForFieldName('function');
      if (fn?.type === 'selector_expression' && fn.childForFieldName('field')?.text === 'Do')
        return true;
    }
  }
  return false;
}
