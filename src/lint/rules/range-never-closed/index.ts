/**
 * range-never-closed: a goroutine ranges over a channel that nothing in the package closes.
 * `for range ch` ends only when ch is closed; without a close the goroutine waits forever once
 * the senders are gone, holding its stack and everything it references.
 */
import { fieldChanUses, isChanField, localChan, localChanUses } from '../../go/chans.js';
import { processLifetime } from '../../go/lifetime.js';
import type { Package } from '../../go/package.js';
import { type Node, FUNC_TYPES, findOwn, funcName, topFunc } from '../../go/syntax.js';
import type { Report, Rule } from '../../rule.js';

export const rule: Rule = {
  id: 'range-never-closed',
  summary:
    'for range ch in a goroutine when nothing in the package closes ch (signal.Notify never does)',
  needs: [/\brange\b/, /\bgo\b/],
  check(pkg, report) {
    if (!pkg.codeMatches(/\brange\b/)) return;
    const seen = new Set<number>();
    for (const g of pkg.goroutineBodies()) {
      if (processLifetime(g.go.node, pkg)) continue;
      for (const loop of findOwn(g.body, (k) => k.type === 'for_statement')) {
        if (seen.has(loop.id)) continue;
        seen.add(loop.id);
        const rc = loop.namedChildren.find((k) => k.type === 'range_clause');
        const right = rc?.childForFieldName('right');
        if (!right) continue;
        if (right.type === 'identifier') checkLocal(pkg, g, loop, right, report);
        else if (right.type === 'selector_expression')
          checkField(pkg, g.go.file, loop, right, report);
      }
    }
  },
};

function checkField(
  pkg: Package,
  file: Report['file'],
  loop: Node,
  sel: Node,
  report: (r: Report) => void,
): void {
  const field = sel.childForFieldName('field')?.text ?? '';
  if (!isChanField(pkg, field)) return;
  const uses = fieldChanUses(pkg, field);
  if (uses.some((u) => u.kind === 'close' || u.kind === 'escape')) return;
  report({
    at: loop,
    file,
    message: `this goroutine ranges over .${field} until it is closed, but nothing in package ${pkg.name} closes .${field}: once the senders stop it waits forever, keeping itself and what it references alive`,
    fix: `close .${field} from its single owner (the sender side) when no more values will come, or give the loop a ctx.Done() exit`,
  });
}

function checkLocal(
  pkg: Package,
  g: ReturnType<Package['goroutineBodies']>[number],
  loop: Node,
  id: Node,
  report: (r: Report) => void,
): void {
  const name = id.text;
  // Which function declares the channel: walk outwards from the loop.
  for (let f: Node | null = loop.parent; f; f = f.parent) {
    if (!FUNC_TYPES.has(f.type)) continue;
    const params = f.childForFieldName('parameters');
    if (params?.descendantsOfType('identifier').some((k) => k.text === name)) {
      // A parameter: follow it to the go statement that passes it, when that is how it runs.
      if (g.decl && f.id === g.decl.node.id) checkParam(pkg, g, loop, name, report);
      return;
    }
    const decl = localChan(f, name);
    if (!decl) continue;
    if (!decl.make) return;
    const uses = localChanUses(f, name, decl.stmt);
    if (uses.some((u) => u.kind === 'close' || u.kind === 'make')) return;
    const file = g.decl?.file ?? g.go.file;
    const escapes = uses.filter((u) => u.kind === 'escape');
    if (escapes.length > 0) {
      // Handed only to signal.Notify/Stop: the runtime sends on it and nothing ever closes it.
      const calls = escapes.map((u) => u.node.parent?.parent);
      if (!calls.every((c) => !!c && pkg.isPkgCall(file, c, 'os/signal', ['Notify', 'Stop'])))
        return;
      const notify = calls.find((c) => pkg.isPkgCall(file, c!, 'os/signal', ['Notify']));
      if (!notify) return;
      const fname = funcName(topFunc(loop));
      report({
        at: loop,
        file,
        partner: notify,
        message: `this goroutine ranges over ${name}, which signal.Notify feeds (line ${notify.startPosition.row + 1}), but neither Notify nor signal.Stop ever closes a channel: the loop never ends, so every call of ${fname ?? 'its function'} leaves one more goroutine (and signal registration) behind`,
        fix: `select on ${name} and a done channel (or ctx.Done()) and return from there, calling signal.Stop(${name}) on the way out`,
      });
      return;
    }
    report({
      at: loop,
      file: g.go.file,
      message: `this goroutine ranges over ${name} until it is closed, but ${name} is never closed: once the senders are done it waits forever, keeping itself and what it references alive`,
      fix: `close(${name}) in the sender that owns it once it has sent the last value (e.g. after wg.Wait())`,
    });
    return;
  }
}

/** `go worker(ch)` where worker ranges over its parameter: is ch closed by the launcher? */
function checkParam(
  pkg: Package,
  g: ReturnType<Package['goroutineBodies']>[number],
  loop: Node,
  name: string,
  report: (r: Report) => void,
): void {
  const decl = g.decl!;
  const params = decl.node.childForFieldName('parameters');
  const names: string[] = [];
  for (const pd of params?.namedChildren ?? [])
    for (const n of pd.childrenForFieldName('name')) names.push(n.text);
  const index = names.indexOf(name);
  if (
    index < 0 ||
    names.length !==
      (params?.namedChildren.flatMap((pd) => pd.childrenForFieldName('name')).length ?? 0)
  )
    return;
  // Every go statement starting this function must pass a local channel that is never closed.
  const launches = pkg.goStmts.filter((x) => x.targets.some((t) => t.node.id === decl.node.id));
  // The function may also be called directly somewhere: then we know less.
  const calls = pkg.codeSearchWord(
    decl.name,
    new RegExp(`(?<![\\p{L}\\p{N}_])${decl.name}\\s*\\(`, 'gu'),
  ).length;
  if (launches.length === 0 || calls > launches.length + 1) return;
  let launchOwner: string | undefined;
  for (const l of launches) {
    const arg = l.call.childForFieldName('arguments')?.namedChildren[index];
    if (arg?.type !== 'identifier') return;
    let owner: Node | null = l.node.parent;
    while (owner && !FUNC_TYPES.has(owner.type)) owner = owner.parent;
    if (!owner) return;
    const ch = localChan(owner, arg.text);
    if (!ch?.make) return;
    for (const u of localChanUses(owner, arg.text, ch.stmt)) {
      if (u.kind === 'close' || u.kind === 'make') return;
      if (u.kind === 'escape' && !(u.node.parent?.parent?.id === l.call.id)) return;
    }
    launchOwner = arg.text;
  }
  report({
    at: loop,
    file: decl.file,
    message: `${decl.name} ranges over ${name} until it is closed, but the channel its launcher passes (${launchOwner}) is never closed: the goroutine waits forever once the senders are done`,
    fix: `close(${launchOwner}) in the launcher once the last value is sent, or give ${decl.name} a ctx.Done() exit`,
  });
}
