/**
 * entry-never-removed: a long-lived map (a struct field or a package variable) gets entries
 * that hold lifecycles (cancel funcs, channels, connections, tickers, or structs holding them),
 * and nothing in the package ever deletes an entry. Every entry, and what it holds, lives as
 * long as the map.
 */
import { insertions, lifecycleOf, registries, removals } from '../../go/registry.js';
import type { Rule } from '../../rule.js';

export const rule: Rule = {
  id: 'entry-never-removed',
  summary:
    'a long-lived map gets entries holding cancel funcs, channels or connections, and nothing in the package ever deletes them',
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
