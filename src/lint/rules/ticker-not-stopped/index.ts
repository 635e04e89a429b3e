/**
 * ticker-not-stopped: a time.Ticker whose Stop is not deferred or reached on every way out of
 * its owner, or time.Tick in a function that returns. (Local timers are not reported: one fires
 * once, and since Go 1.23 an unreferenced one is collected even if never stopped.)
 * A ticker fires until stopped; before Go 1.23 an unstopped one was never collected, and even
 * now it fires for as long as anything (its goroutine, a struct) references it.
 */
import { isDeferred, uncoveredExits, usesOf } from '../../go/flow.js';
import { type GoFile, type Package, isExported, qualifiedCalls } from '../../go/package.js';
import {
  type Node,
  assignedTo,
  findAll,
  findOwn,
  funcName,
  loopCanExit,
  ownerFunc,
} from '../../go/syntax.js';
import type { Report, Rule } from '../../rule.js';

function stops(name: string, owner: Node) {
  return (stmt: Node): boolean => {
    if (stmt.type !== 'expression_statement' && stmt.type !== 'defer_statement') return false;
    const call = stmt.namedChild(0);
    if (call?.type !== 'call_expression') return false;
    const fn = call.childForFieldName('function');
    if (fn?.type === 'selector_expression')
      return (
        fn.childForFieldName('operand')?.text === name &&
        fn.childForFieldName('field')?.text === 'Stop'
      );
    if (stmt.type === 'defer_statement' && fn?.type === 'func_literal')
      return findAll(fn, (k) => k.type === 'selector_expression' && k.text === `${name}.Stop`).some(
        (s) => isDeferred(s, owner),
      );
    return false;
  };
}

export const rule: Rule = {
  id: 'ticker-not-stopped',
  summary:
    'time.NewTicker whose Stop is not reached on every path of its owner; time.Tick in a function that returns',
  check(pkg, report) {
    if (!pkg.codeMatches(/\.\s*(NewTicker|NewTimer|Tick)\s*\(/)) return;
    for (const { file, call, name } of qualifiedCalls(pkg, 'time', [
      'NewTicker',
      'NewTimer',
      'Tick',
    ]))
      if (name === 'Tick') checkTick(file, call, report);
      else checkNew(pkg, file, call, name === 'NewTicker', report);
  },
};

function checkTick(file: GoFile, call: Node, report: (r: Report) => void): void {
  const owner = ownerFunc(call);
  if (!owner) return;
  const fname = funcName(owner);
  if (fname === 'main' || fname === 'init') return;
  // A function that never returns (its last statement is a loop with no way out) keeps the
  // ticker for the life of the process by design.
  const body = owner.childForFieldName('body');
  const list = body?.namedChildren.find((k) => k.type === 'statement_list');
  const stmts = list?.namedChildren.filter((k) => k.type !== 'comment') ?? [];
  const last = stmts[stmts.length - 1];
  const loop =
    last?.type === 'labeled_statement'
      ? last.namedChildren.find((k) => k.type === 'for_statement')
      : last;
  const returns = body ? findOwn(body, (k) => k.type === 'return_statement').length > 0 : true;
  if (loop?.type === 'for_statement' && !returns && !loopCanExit(loop)) return;
  report({
    at: call,
    file,
    message:
      'time.Tick makes a ticker nobody can stop, in a function that returns: the ticker keeps firing after its owner is done (and before Go 1.23 was never collected)',
    fix: 'use t := time.NewTicker(d) with `defer t.Stop()` and range over t.C',
  });
}

function checkNew(
  pkg: Package,
  file: GoFile,
  call: Node,
  ticker: boolean,
  report: (r: Report) => void,
): void {
  const owner = ownerFunc(call);
  if (!owner) return;
  const parent = call.parent;
  // time.NewTicker(d).C: the ticker is lost at once and can never be stopped.
  if (
    ticker &&
    parent?.type === 'selector_expression' &&
    parent.childForFieldName('field')?.text === 'C'
  ) {
    report({
      at: call,
      file,
      message:
        'this ticker is used only for its channel and never kept: nobody can stop it, so it fires for as long as the channel is referenced',
      fix: 'keep the ticker in a variable and `defer t.Stop()`',
    });
    return;
  }
  const a = assignedTo(call, 0);
  let field: string | undefined;
  if (a?.target.type === 'selector_expression') field = a.target.childForFieldName('field')?.text;
  else if (parent?.type === 'literal_element' && parent.parent?.type === 'keyed_element') {
    const key = parent.parent.namedChild(0);
    if (key?.id !== parent.id) field = key?.text;
  }
  if (field !== undefined) {
    if (!ticker || isExported(field) || !/^[\p{L}_][\p{L}\p{N}_]*$/u.test(field)) return;
    // Stored in a field: its owner is the struct, whose close/stop path must stop it.
    const stopped =
      pkg.codeSearchWord(field, new RegExp(`\\.\\s*${field}\\s*\\.\\s*Stop\\s*\\(`, 'gu'))
        .length > 0;
    if (stopped) return;
    // Any read of the field other than .C/.Reset might hand it to a stopper.
    const re = new RegExp(
      `\\.\\s*${field}(?![\\p{L}\\p{N}_])(?!\\s*\\.\\s*(C|Reset)\\b)(?!\\s*=(?!=))`,
      'gu',
    );
    if (pkg.codeSearchWord(field, re).length > 0) return;
    report({
      at: call,
      file,
      message: `this ticker is kept in field ${field}, but nothing in package ${pkg.name} ever stops .${field}: it fires for as long as its struct lives`,
      fix: `call .${field}.Stop() in the struct's close/stop method`,
    });
    return;
  }
  if (!a || a.op !== ':=' || a.target.type !== 'identifier' || a.target.text === '_') return;
  const name = a.target.text;
  const uses = usesOf(owner, name, a.stmt.endIndex);
  let stopped = false;
  for (const u of uses) {
    if (u.kind === 'method') {
      if (u.member === 'Stop') stopped = true;
      else if (u.member !== 'C' && u.member !== 'Reset') return;
      continue;
    }
    return; // passed on, returned, stored: someone else owns it now
  }
  if (!stopped) {
    // A local timer fires once; since Go 1.23 an unreferenced one is collected even unstopped,
    // so at worst it stays scheduled until it fires. Only tickers repeat forever.
    if (!ticker) return;
    report({
      at: a.stmt,
      file,
      message: ticker
        ? `ticker ${name} is never stopped: it keeps firing for as long as its owner runs, and a goroutine holding it keeps it alive`
        : `timer ${name} races other cases in a select but is never stopped: when another case wins it stays scheduled until it fires`,
      fix: `\`defer ${name}.Stop()\` right after this line`,
    });
    return;
  }
  if (!ticker) return;
  const missed = uncoveredExits(call, owner, stops(name, owner));
  if (missed.length === 0) return;
  const where = missed[0]!;
  report({
    at: a.stmt,
    file,
    message: `ticker ${name} is not stopped on the path through ${
      where.type === 'return_statement'
        ? `the return at line ${where.startPosition.row + 1}`
        : `the end of the block at line ${where.endPosition.row + 1}`
    }: it keeps firing after its owner has left`,
    fix: `\`defer ${name}.Stop()\` right after this line`,
  });
}
