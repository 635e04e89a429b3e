/**
 * cancel-not-called: the cancel func of a derived context is dropped, missed on a way out of
 * its owner, or stored in a field nothing ever reads. Until cancel runs (or the parent ends)
 * the context, its timer and everything waiting on it stay alive.
 */
import { type Use, blankAssigned, uncoveredExits, usesOf } from '../../go/flow.js';
import { cancelKept, cancels, describeKept, keptExit } from '../../go/reach.js';
import {
  type GoFile,
  type Package,
  fieldRefs,
  isExported,
  qualifiedCalls,
} from '../../go/package.js';
import { type Node, assignedTo, enclosingLoop, ownerFunc, within } from '../../go/syntax.js';
import type { Report, Rule } from '../../rule.js';

const MAKERS = [
  'WithCancel',
  'WithTimeout',
  'WithDeadline',
  'WithCancelCause',
  'WithTimeoutCause',
  'WithDeadlineCause',
] as const;

function line(n: Node): number {
  return n.startPosition.row + 1;
}

/** The fields a local cancel is stored into (`x.f = cancel`, `T{f: cancel}`), or undefined if
 * it escapes any other way. */
function storedFields(uses: Use[]): string[] | undefined {
  const fields: string[] = [];
  for (const u of uses) {
    if (u.kind === 'call' || u.kind === 'deferred-call') continue;
    if (u.kind !== 'escape') return undefined;
    const p = u.node.parent;
    if (p?.type === 'literal_element' && p.parent?.type === 'keyed_element') {
      const key = p.parent.namedChild(0);
      if (key?.id === p.id) return undefined; // used as a key
      const name = key?.text ?? '';
      if (!/^[\p{L}_][\p{L}\p{N}_]*$/u.test(name)) return undefined;
      fields.push(name);
      continue;
    }
    if (p?.type === 'expression_list' && p.parent?.type === 'assignment_statement') {
      const stmt = p.parent;
      const right = stmt.childForFieldName('right');
      const left = stmt.childForFieldName('left');
      if (right?.id !== p.id || !left) return undefined;
      const i = p.namedChildren.findIndex((k) => k.id === u.node.id);
      const target = left.namedChildren[i];
      if (target?.type !== 'selector_expression') return undefined;
      fields.push(target.childForFieldName('field')?.text ?? '');
      continue;
    }
    return undefined;
  }
  return fields;
}

/** A field nothing in the package reads: unexported, and every `.f` is an assignment target. */
function neverRead(pkg: Package, field: string): boolean {
  if (!field || isExported(field)) return false;
  return fieldRefs(pkg, field).reads === 0;
}

export const rule: Rule = {
  id: 'cancel-not-called',
  summary:
    'the cancel func of context.WithCancel/WithTimeout/WithDeadline is dropped, missed on a return path, or stored where nothing calls it',
  needs: [/\.\s*With(Cancel|Timeout|Deadline)/],
  check(pkg, report) {
    if (!pkg.codeMatches(/\.\s*With(Cancel|Timeout|Deadline)/)) return;
    for (const { file, call, name } of qualifiedCalls(pkg, 'context', MAKERS)) {
      checkOne(pkg, file, call, name, report);
    }
  },
};

function checkOne(
  pkg: Package,
  file: GoFile,
  call: Node,
  maker: string,
  report: (r: Report) => void,
): void {
  const owner = ownerFunc(call);
  if (!owner) return;
  const what = `the context from context.${maker}`;
  const a = assignedTo(call, 1);
  if (!a) {
    if (call.parent?.type === 'expression_statement')
      report({
        at: call,
        file,
        message: `${what} is made and its cancel func thrown away: nothing can end it before its parent does, so it and its children stay alive that long`,
        fix: 'keep the cancel func and `defer cancel()` (or call it where the work ends)',
      });
    return;
  }
  const t = a.target;
  if (t.type === 'identifier' && t.text === '_') {
    report({
      at: a.stmt,
      file,
      message: `${what} has its cancel func discarded with _: nothing can end it before its parent does, so it and whatever waits on it live that long`,
      fix: 'name the cancel func and `defer cancel()` right after this line',
    });
    return;
  }
  if (t.type === 'selector_expression') {
    const field = t.childForFieldName('field')?.text ?? '';
    if (neverRead(pkg, field))
      report({
        at: a.stmt,
        file,
        message: `${what} has its cancel stored in field ${field}, but nothing in package ${pkg.name} ever reads .${field}: no owner can end the context, so it and its goroutines live as long as the struct`,
        fix: `call .${field}() from the owner's close/stop path (or when the work it bounds ends)`,
      });
    return;
  }
  if (t.type !== 'identifier') return;
  const name = t.text;
  // `_ = cancel` only silences the compiler; it is not a use.
  const uses = usesOf(owner, name, a.stmt.endIndex).filter((u) => !blankAssigned(u.node));
  if (a.op !== ':=') {
    if (uses.length > 0) return;
    // A closure anywhere in the function that calls the variable calls whatever it holds at
    // that time, this context's cancel included.
    if (
      usesOf(owner, name, -1).some(
        (u) => u.nested && u.node.parent?.type === 'call_expression' && u.call !== undefined,
      )
    )
      return;
    // Only a local declared in this function: a package variable or a captured one may be
    // called anywhere.
    const body = owner.childForFieldName('body');
    const declared =
      !!body &&
      (body
        .descendantsOfType('var_spec')
        .some((v) => v.childrenForFieldName('name').some((k) => k.text === name)) ||
        body
          .descendantsOfType('short_var_declaration')
          .some((d) => d.childForFieldName('left')?.namedChildren.some((k) => k.text === name)));
    if (!declared) return;
    // A named result is returned by a bare return; a var declared outside a loop may be used
    // earlier in the loop body on the next round.
    const results = owner.childForFieldName('result');
    if (results && results.descendantsOfType('identifier').some((k) => k.text === name)) return;
    const loop = enclosingLoop(call);
    if (
      loop &&
      usesOf(owner, name, -1).some(
        (u) => u.node.startIndex < a.stmt.startIndex && u.kind !== 'assign' && within(u.node, loop),
      )
    )
      return;
    report({
      at: a.stmt,
      file,
      message: `${what} gets a cancel func (${name}) that is never called afterwards: the context lives until its parent ends`,
      fix: `\`defer ${name}()\` right after this line`,
    });
    return;
  }
  if (uses.length === 0) {
    report({
      at: a.stmt,
      file,
      message: `${what} gets a cancel func (${name}) that is never used: the context and its timer live until the parent ends`,
      fix: `\`defer ${name}()\` right after this line`,
    });
    return;
  }
  if (uses.some((u) => u.kind === 'assign' || u.kind === 'method')) return;
  if (uses.some((u) => u.kind === 'escape')) {
    // Handed to functions or goroutines of the package: judged by what they do with it.
    const kept = cancelKept(pkg, file, uses);
    if (kept) {
      const to = describeKept(kept, file);
      report({
        at: a.stmt,
        file,
        partner: kept.exit,
        partnerFile: kept.at.decl.file,
        message: `${what} hands its cancel (${name}) to ${to}${kept.at.param !== name ? ` as ${kept.at.param}` : ''}, which ${kept.never ? `never calls it and ${keptExit(kept)}` : `${keptExit(kept)} without calling it`}: on that path nothing ends the context before its parent does`,
        fix: kept.never
          ? `\`defer ${kept.at.param}()\` in ${kept.at.decl.name}, or keep \`defer ${name}()\` here`
          : `\`defer ${kept.at.param}()\` at the top of ${kept.at.decl.name} instead of calling it on some paths`,
      });
      return;
    }
    const fields = storedFields(uses);
    if (!fields || fields.length === 0) return;
    if (uses.some((u) => u.kind === 'call' || u.kind === 'deferred-call')) return;
    const dead = fields.filter((f) => neverRead(pkg, f));
    if (dead.length !== fields.length) return;
    report({
      at: a.stmt,
      file,
      message: `${what} has its cancel (${name}) stored in field ${dead.join(', ')}, which nothing in package ${pkg.name} ever reads or calls: the context and everything waiting on it live as long as the struct`,
      fix: `call .${dead[0]}() when the owner is closed or the work ends`,
    });
    return;
  }
  const ctxTarget = assignedTo(call, 0)?.target;
  const ctx = ctxTarget?.type === 'identifier' ? ctxTarget.text : undefined;
  const missed = uncoveredExits(call, owner, cancels(name, owner, ctx));
  if (missed.length === 0) return;
  const where = missed[0]!;
  const how =
    where.type === 'return_statement'
      ? `the return at line ${line(where)}`
      : `the end of the block at line ${where.endPosition.row + 1}`;
  report({
    at: a.stmt,
    file,
    message: `${what} is not cancelled on the path through ${how}: ${name}() is called on other paths only, so on that one the context outlives its owner`,
    fix: `\`defer ${name}()\` right after this line instead of calling it on some paths`,
  });
}
