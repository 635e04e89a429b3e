/**
 * entry-never-removed: a long-lived map (a struct field or a package variable) gets entries
 * that hold lifecycles (cancel funcs, channels, connections, tickers, or structs holding them),
 * and nothing in the package ever deletes an entry. Every entry, and what it holds, lives as
 * long as the map.
 */
import type { GoFile, Package } from '../../go/package.js';
import {
  type Registry,
  LIFECYCLE_WORDS,
  insertions,
  lifecycleOf,
  registries,
  removals,
} from '../../go/registry.js';
import type { Node } from '../../go/syntax.js';
import type { Rule } from '../../rule.js';

/** Key types with so few values that the map cannot grow without bound. */
const SMALL_KEYS = new Set(['bool', 'byte', 'uint8', 'int8']);

/** Whether `k` is a constant: a literal, or a name declared `const` in the package. */
function isConstant(pkg: Package, k: Node | null): boolean {
  if (!k) return false;
  if (
    /^(interpreted_string_literal|raw_string_literal|int_literal|rune_literal|true|false)$/.test(
      k.type,
    )
  )
    return true;
  const name = k.type === 'identifier' ? k.text : undefined;
  return (
    !!name &&
    pkg
      .nodes('const_spec')
      .some(({ node }) => node.childrenForFieldName('name').some((n) => n.text === name))
  );
}

/**
 * Why the map's entries are bounded or torn down although nothing deletes one: a small key type,
 * only constant keys, a get-or-create memo (one entry per distinct key, looked up before it is
 * made), or a range over the map that releases every value (close(v), v.Close(), v.Stop(),
 * v.cancel()).
 */
function bounded(pkg: Package, r: Registry, ins: { file: GoFile; node: Node }[]): boolean {
  if (r.key && SMALL_KEYS.has(r.key.text)) return true;
  const keys = ins.map(
    (i) => i.node.childForFieldName('left')?.namedChildren[0]?.childForFieldName('index') ?? null,
  );
  if (keys.every((k) => isConstant(pkg, k))) return true;
  const memo = ins.every((i, n) => {
    const key = keys[n]?.text;
    for (let p = i.node.parent; p; p = p.parent) {
      if (p.type !== 'if_statement') continue;
      const cond = p.childForFieldName('condition')?.text.replace(/\s+/g, '') ?? '';
      if (!/^!\w+$/.test(cond)) continue;
      // `v, ok := m[key]` before the if, in its initializer or just above.
      const lookup = new RegExp(
        `${r.name}\\[${(key ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\]`,
      );
      const before = p.previousNamedSibling?.text.replace(/\s+/g, '') ?? '';
      const init = p.childForFieldName('initializer')?.text.replace(/\s+/g, '') ?? '';
      if (lookup.test(before) || lookup.test(init)) return true;
    }
    return false;
  });
  if (memo) return true;
  const what = r.field ? `\\.\\s*${r.name}` : `(?<![\\p{L}\\p{N}_.])${r.name}`;
  for (const { file, index } of pkg.codeSearchWord(
    r.name,
    new RegExp(`\\brange\\s+[\\p{L}\\p{N}_.]*${what}\\b`, 'gu'),
  )) {
    let loop: Node | null = file.root.descendantForIndex(index);
    while (loop && loop.type !== 'for_statement') loop = loop.parent;
    const rc = loop?.namedChildren.find((k) => k.type === 'range_clause');
    const left = rc?.childForFieldName('left')?.namedChildren ?? [];
    const v = left[1]?.text;
    const body = loop?.childForFieldName('body')?.text ?? '';
    if (
      v &&
      v !== '_' &&
      new RegExp(
        `\\bclose\\(\\s*${v}\\s*\\)|\\b${v}\\.(Close|Stop|cancel|Cancel)\\(|\\b${v}\\(\\)`,
      ).test(body)
    )
      return true;
  }
  return false;
}

export const rule: Rule = {
  id: 'entry-never-removed',
  summary:
    'a long-lived map gets entries holding cancel funcs, channels or connections, and nothing in the package ever deletes them',
  needs: [/\bmap\s*\[/, LIFECYCLE_WORDS],
  check(pkg, report) {
    if (!pkg.codeMatches(/\bmap\s*\[/)) return;
    for (const r of registries(pkg)) {
      const holds = lifecycleOf(pkg, r.file, r.value);
      if (holds.length === 0) continue;
      const ins = insertions(pkg, r);
      if (ins.length === 0) continue;
      // `x.name = make(...)` in a constructor is an assignment too; it only counts as a
      // removal when it is not a composite-literal field (which the regex never sees).
      if (removals(pkg, r).length > 0) continue;
      if (bounded(pkg, r, ins)) continue;
      const first = ins[0]!;
      const what = r.field ? `.${r.name}` : r.name;
      report({
        at: first.node,
        file: first.file,
        message: `entries of ${what} hold ${holds.join(', ')}, and nothing in package ${pkg.name} ever deletes one: each entry and everything it holds lives as long as the map`,
        fix: `delete(${what}, key) on the path that ends the entry's lifecycle (disconnect, cancel, close)`,
      });
    }
  },
};
