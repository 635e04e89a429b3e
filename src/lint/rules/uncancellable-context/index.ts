/**
 * uncancellable-context: a looping goroutine handed context.Background()/TODO(), or a loop that
 * waits on Done() of a context that can never be cancelled. Background's Done channel is nil:
 * that case never fires, so the loop's only way out is dead.
 */
import { processLifetime } from '../../go/lifetime.js';
import { qualifiedCalls } from '../../go/package.js';
import { type Node, findOwn, ownerFunc } from '../../go/syntax.js';
import type { Rule } from '../../rule.js';

function hasLoop(body: Node | null): boolean {
  return !!body && findOwn(body, (k) => k.type === 'for_statement').length > 0;
}

export const rule: Rule = {
  id: 'uncancellable-context',
  summary:
    'go f(context.Background()) into a looping goroutine, or a loop waiting on Done() of a context nothing can cancel',
  needs: [/\.\s*(Background|TODO)\s*\(/],
  check(pkg, report) {
    if (!pkg.codeMatches(/\.\s*(Background|TODO)\s*\(/)) return;
    for (const { file, call, name } of qualifiedCalls(pkg, 'context', ['Background', 'TODO'])) {
      const parent = call.parent;
      // go f(..., context.Background(), ...)
      if (parent?.type === 'argument_list' && parent.parent?.parent?.type === 'go_statement') {
        const goCall = parent.parent;
        const g = pkg.goStmts.find((x) => x.call.id === goCall.id);
        if (!g || processLifetime(g.node, pkg)) continue;
        const bodies = g.literal
          ? [g.literal.childForFieldName('body')]
          : g.targets.map((t) => t.body);
        if (bodies.length === 0 || !bodies.every(hasLoop)) continue;
        report({
          at: g.node,
          file,
          message: `this looping goroutine gets context.${name}(), which nothing can cancel: its owner has no way to tell it to stop, so it runs until the process exits`,
          fix: "derive ctx, cancel := context.WithCancel(parent) from the owner's context, pass ctx, and call cancel when the owner is done",
        });
        continue;
      }
      // ctx := context.Background() ... for { select { case <-ctx.Done(): ... } }
      if (parent?.type !== 'expression_list' || parent.parent?.type !== 'short_var_declaration')
        continue;
      const stmt = parent.parent;
      const left = stmt.childForFieldName('left')?.namedChildren ?? [];
      const i = parent.namedChildren.findIndex((k) => k.id === call.id);
      const v = left[i];
      if (v?.type !== 'identifier') continue;
      const owner = ownerFunc(call);
      const body = owner?.childForFieldName('body');
      if (!body) continue;
      const ids = body
        .descendantsOfType('identifier')
        .filter((k) => k.text === v.text && k.startIndex > stmt.endIndex);
      // Reassigned (ctx, cancel = context.WithCancel(ctx)) or shadowed: not the Background.
      if (
        ids.some(
          (k) =>
            k.parent?.type === 'expression_list' &&
            /^(assignment_statement|short_var_declaration)$/.test(k.parent.parent?.type ?? '') &&
            k.parent.parent?.childForFieldName('left')?.id === k.parent.id,
        )
      )
        continue;
      for (const id of ids) {
        const sel = id.parent;
        if (sel?.type !== 'selector_expression' || sel.childForFieldName('field')?.text !== 'Done')
          continue;
        const recv = sel.parent?.parent;
        if (recv?.type !== 'unary_expression' || !recv.text.startsWith('<-')) continue;
        let inLoop = false;
        for (let p: Node | null = recv.parent; p && p.id !== body.id; p = p.parent)
          if (p.type === 'for_statement') inLoop = true;
        if (!inLoop) continue;
        report({
          at: recv,
          file,
          message: `${v.text} is context.${name}(): its Done() channel is nil, so this case never fires and the loop's owner can never stop it this way`,
          fix: `take the context from the caller (or derive one with a cancel the owner calls) instead of context.${name}()`,
        });
        break;
      }
    }
  },
};
