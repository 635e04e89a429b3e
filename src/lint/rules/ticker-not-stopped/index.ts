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
import {
  type Fate,
  type NeverEnds,
  type Release,
  describeKept,
  followParam,
  goroutineNeverEnds,
  handedTo,
  keptExit,
} from '../../go/reach.js';
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

/** A ticker handed to another function is stopped there by `t.Stop()` (or `t.Stop` handed on). */
const STOP: Release = {
  use: (u) =>
    u.kind !== 'method'
      ? 'other'
      : u.member === 'Stop'
        ? 'release'
        : u.member === 'C' || u.member === 'Reset'
          ? 'keep'
          : 'other',
};

export const rule: Rule = {
  id: 'ticker-not-stopped',
  summary:
    'time.NewTicker whose Stop is not reached on every path of its owner; time.Tick in a function that returns',
  needs: [/\.\s*(NewTicker|NewTimer|Tick)\s*\(/],
  check(pkg, report) {
    if (!pkg.codeMatches(/\.\s*(NewTicker|NewTimer|Tick)\s*\(/)) return;
    for (const { file, call, name } of qualifiedCalls(pkg, 'time', [
      'NewTicker',
      'NewTimer',
      'Tick',
    ]))
      if (name === 'Tick') {
        if (pkg.goAtLeast(23)) {
          const owner = ownerFunc(call);
          if (owner) checkModern(pkg, file, call, owner, true, report);
        } else checkTick(pkg, file, call, report);
      } else checkNew(pkg, file, call, name === 'NewTicker', report);
  },
};

/** `go 1.N` as the module says it, or why we assume old semantics. */
function goLine(pkg: Package): string {
  return pkg.goMinor === undefined ? 'no go.mod found' : `go 1.${pkg.goMinor}`;
}

/** Whether the new ticker is stored straight into a struct field. */
function isField(call: Node): boolean {
  const a = assignedTo(call, 0);
  if (a?.target.type === 'selector_expression') return true;
  return call.parent?.type === 'literal_element' && call.parent.parent?.type === 'keyed_element';
}

/**
 * Go 1.23 and later: a ticker nobody references any more is collected, stopped or not. What
 * still leaks is a ticker (kept, or an anonymous time.Tick / NewTicker(d).C) whose goroutine
 * never ends; a kept one that is stopped on every path is fine either way.
 */
function checkModern(
  pkg: Package,
  file: GoFile,
  call: Node,
  owner: Node,
  tick: boolean,
  report: (r: Report) => void,
): void {
  // A kept ticker is judged by checkNew's path analysis; time.Tick's result is only a channel.
  if (!tick && assignedTo(call, 0)) return;
  const never = goroutineNeverEnds(pkg, owner);
  if (!never) return;
  report({
    at: call,
    file,
    message: `this ticker can never be stopped, and the goroutine holding it never ends: its only way out is \`${never.exit}\`, and ${never.why}; so it fires for as long as the process runs`,
    fix: "keep the ticker, `defer t.Stop()`, and cancel the goroutine's context when its work ends",
    partner: never.partner,
    partnerFile: never.partnerFile,
  });
}

function checkTick(pkg: Package, file: GoFile, call: Node, report: (r: Report) => void): void {
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
    message: `time.Tick makes a ticker nobody can stop, in a function that returns: with this module's Go version (${goLine(pkg)}, before 1.23) it is never collected and fires forever`,
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
  if (pkg.goAtLeast(23) && !isField(call) && !assignedTo(call, 0))
    return checkModern(pkg, file, call, owner, false, report);
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
      message: `this ticker is used only for its channel and never kept: nobody can stop it, and with this module's Go version (${goLine(pkg)}, before 1.23) it is never collected`,
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
      pkg.codeSearchWord(field, new RegExp(`\\.\\s*${field}\\s*\\.\\s*Stop\\s*\\(`, 'gu')).length >
      0;
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
  // A function or goroutine of the package it is handed to and that never stops it.
  let kept: Extract<Fate, { kind: 'kept' }> | undefined;
  for (const u of uses) {
    if (u.kind === 'method') {
      // `t.Cleanup(ticker.Stop)`, `defer` inside the goroutine that owns it: the stop is
      // handed to whoever runs it, which is the ticker's real owner.
      if (u.member === 'Stop' && (!u.call || u.nested)) return;
      if (u.member === 'Stop') stopped = true;
      else if (u.member !== 'C' && u.member !== 'Reset') return;
      continue;
    }
    // Passed on, returned, stored: someone else owns it now, unless it is handed to a function
    // of the package that we can follow and that never stops it.
    const h = ticker && u.kind === 'escape' && !u.nested ? handedTo(pkg, file, u.node) : undefined;
    const f = h ? followParam(pkg, h, STOP) : undefined;
    if (f?.kind !== 'kept') return;
    kept ??= f;
  }
  if (!ticker) return;
  const what = name === 'ticker' ? 'the ticker' : `ticker ${name}`;
  const handed = kept
    ? `is handed to ${describeKept(kept, file)}${kept.at.param !== name ? ` as ${kept.at.param}` : ''}, which never stops it`
    : '';
  // Handed to a goroutine that never ends: the ticker fires as long as it runs.
  const goNever =
    kept && !stopped && pkg.goAtLeast(23) ? goroutineNeverEnds(pkg, kept.at.decl.node) : undefined;
  if (kept && goNever) {
    report({
      at: a.stmt,
      file,
      message: `${what} ${handed}, and that goroutine never ends: its only way out is \`${goNever.exit}\`, and ${goNever.why}; so the ticker keeps firing (and is never collected) for as long as the process runs`,
      fix: `\`defer ${kept.at.param}.Stop()\` in ${kept.at.decl.name}, and make sure its context is cancelled when its work ends`,
      partner: goNever.partner,
      partnerFile: goNever.partnerFile,
    });
    return;
  }
  if (kept && !stopped && !pkg.goAtLeast(23)) {
    report({
      at: a.stmt,
      file,
      partner: kept.exit,
      partnerFile: kept.at.decl.file,
      message: `${what} ${handed} and ${keptExit(kept)}, and nothing here stops it: with this module's Go version (${goLine(pkg)}, before 1.23) an unstopped ticker is never collected, so it fires forever`,
      fix: `\`defer ${kept.at.param}.Stop()\` in ${kept.at.decl.name}, or \`defer ${name}.Stop()\` right after this line`,
    });
    return;
  }
  // Since Go 1.23 an unreferenced ticker is collected even unstopped: it leaks only through a
  // goroutine that holds it and never ends.
  let never: NeverEnds | undefined;
  if (pkg.goAtLeast(23)) {
    never = goroutineNeverEnds(pkg, owner);
    if (!never) return;
    if (!stopped || uncoveredExits(call, owner, stops(name, owner)).length > 0)
      report({
        at: a.stmt,
        file,
        message: `${name === 'ticker' ? 'the ticker' : `ticker ${name}`} is not stopped, and the goroutine holding it never ends: its only way out is \`${never.exit}\`, and ${never.why}; so the ticker keeps firing (and is never collected) for as long as the process runs`,
        fix: `\`defer ${name}.Stop()\` right after this line, and make sure the goroutine's context is cancelled when its work ends`,
        partner: never.partner,
        partnerFile: never.partnerFile,
      });
    return;
  }
  if (!stopped) {
    report({
      at: a.stmt,
      file,
      message: `ticker ${name} is never stopped: with this module's Go version (${goLine(pkg)}, before 1.23) an unstopped ticker is never collected, so it fires forever after its owner returns`,
      fix: `\`defer ${name}.Stop()\` right after this line`,
    });
    return;
  }
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
