/**
 * nil-channel-op: a send or receive on a channel variable that is declared and never given a
 * channel. An operation on a nil channel blocks forever; outside a select (where a nil case is
 * a deliberate way to switch it off) the goroutine is stuck for good.
 */
import { chanUse } from '../../go/chans.js';
import { type Node, FUNC_TYPES } from '../../go/syntax.js';
import type { Rule } from '../../rule.js';

function inSelectCase(n: Node): boolean {
  for (let p = n.parent; p && !FUNC_TYPES.has(p.type); p = p.parent)
    if (p.type === 'communication_case')
      return (
        p.childForFieldName('communication') !== null &&
        within(n, p.childForFieldName('communication')!)
      );
  return false;
}

function within(n: Node, outer: Node): boolean {
  return n.startIndex >= outer.startIndex && n.endIndex <= outer.endIndex;
}

export const rule: Rule = {
  id: 'nil-channel-op',
  summary: 'a send or receive (outside select) on a channel variable that is never assigned',
  needs: [/\bvar\s+[\p{L}_][\p{L}\p{N}_]*(\s*,\s*[\p{L}_][\p{L}\p{N}_]*)*\s+(<-\s*)?chan\b/u],
  check(pkg, report) {
    if (
      !pkg.codeMatches(
        /\bvar\s+[\p{L}_][\p{L}\p{N}_]*(\s*,\s*[\p{L}_][\p{L}\p{N}_]*)*\s+(<-\s*)?chan\b/u,
      )
    )
      return;
    for (const { file, node: spec } of pkg.nodes('var_spec')) {
      const t = spec.childForFieldName('type');
      if (t?.type !== 'channel_type' || spec.childForFieldName('value')) continue;
      let owner: Node | null = spec.parent;
      while (owner && !FUNC_TYPES.has(owner.type)) owner = owner.parent;
      if (!owner) continue; // package level: assigned anywhere, too wide to follow here
      const body = owner.childForFieldName('body');
      if (!body) continue;
      for (const nameNode of spec.childrenForFieldName('name')) {
        const name = nameNode.text;
        const ids = body
          .descendantsOfType('identifier')
          .filter((k) => k.text === name && k.startIndex > spec.endIndex);
        const kinds = ids.map((k) => ({ k, kind: chanUse(k) }));
        // Assigned, passed, its address taken, captured into a struct: it may get a channel.
        if (kinds.some((x) => x.kind === 'make' || x.kind === 'escape')) continue;
        for (const { k, kind } of kinds) {
          if (kind !== 'send' && kind !== 'recv' && kind !== 'range') continue;
          if (inSelectCase(k)) continue;
          report({
            at: k.parent!,
            file,
            message: `${name} is declared here as a nil channel and never assigned: this ${kind === 'send' ? 'send' : 'receive'} blocks forever and so does the goroutine running it`,
            fix: `make the channel (${name} := make(chan T)) before using it, or remove the operation`,
          });
          break;
        }
      }
    }
  },
};
