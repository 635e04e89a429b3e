/**
 * Goroutines that are meant to live as long as the process: started from main or init, or
 * inside a sync.Once. Rules about goroutines that never end leave these alone.
 */
import { type Node, funcName, topFunc } from './syntax.js';

export function processLifetime(goStmt: Node, pkgName: string): boolean {
  const top = topFunc(goStmt);
  const name = funcName(top);
  if (name === 'init' || (name === 'main' && pkgName === 'main')) return true;
  if (!top) return true; // a package-level var initializer runs once
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
