/**
 * Runtime meets source: each group of a dump placed in a checkout (its blocking frame and its
 * creation site, checked against the code there), joined to the lint findings that explain it,
 * and, where no rule does, the ownership questions answered from the source.
 *
 * A finding explains a group when it is at one of the group's lines (`line`), inside the code
 * the goroutine runs (`body`), at the `go` statement that started it (`go`), or at the line that
 * made the context, channel or ticker it waits on (`waits-on`).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isRuntime } from '../analysis/frames.js';
import type { BlockKind } from '../analysis/blocking.js';
import type { Frame } from '../model/frame.js';
import { UserError } from '../errors.js';
import { loadConfig } from '../lint/config.js';
import type { Finding } from '../lint/rule.js';
import { lint } from '../lint/run.js';
import type { Node } from '../lint/go/syntax.js';
import { enclosingName } from './funcname.js';
import { Checkout, opsOnLine, type Placed, type SourceFile } from './source.js';
import { waitsOf, type WaitObject } from './waits.js';

export interface CodeFrame {
  function: string;
  /** Path relative to the working directory when inside it, else absolute (as lint shows it). */
  file: string;
  line: number;
  code: { line: number; text: string }[];
}

export type Via = 'line' | 'body' | 'go' | 'waits-on';

export interface LinkedFinding {
  rule: string;
  file: string;
  line: number;
  message: string;
  fix: string;
  via: Via;
  /** For `waits-on`: the expression the goroutine waits on. */
  on?: string;
}

interface Lifetime {
  /** The `go` statement that starts the goroutine, and the function holding it. */
  startedBy?: { function: string; file: string; line: number; code: string };
  /** What could end the wait, and whether anything in the package does it. */
  endsBy: {
    expr: string;
    kind: WaitObject['kind'];
    madeAt?: string;
    ends: string;
    unreleased: boolean;
    /** Its select case returns: this is a way out of the goroutine. */
    exits: boolean;
  }[];
}

export interface GroupLink {
  /** `linked`: placed and checked; `mismatch`: the checkout's code is not what the dump ran; `outside`: none of its frames are the checkout's code. */
  status: 'linked' | 'mismatch' | 'outside';
  blocking?: CodeFrame;
  createdBy?: CodeFrame;
  /** Why the checkout does not match, one reason per frame that failed. */
  mismatches: string[];
  findings: LinkedFinding[];
  lifetime?: Lifetime;
}

/**
 * What linking needs of a group: its stack (innermost first), its creation sites, and what it
 * is blocked on. An analysis Group is one; a watch alert can make one from its holder frame.
 */
export interface Linkable {
  readonly stack: { readonly frames: readonly Frame[]; readonly createdBy?: Frame | undefined };
  readonly creators?: readonly { readonly site: Frame }[];
  /** A BlockKind (`chan-send`, `select`, ...); anything else checks the line for any operation. */
  readonly blockedOn: string;
}

export interface LinkResult<G extends Linkable = Linkable> {
  dir: string;
  /** `dir` for people: relative to the working directory when inside it. */
  shown: string;
  modules: string[];
  links: Map<G, GroupLink>;
}

interface LinkOptions {
  /** Findings already at hand (lint --confirm), with paths relative to `cwd`; else lint runs. */
  findings?: { list: readonly Finding[]; cwd: string };
  /** The option that named the checkout, for error messages. */
  option?: string;
  /** Paths are shown relative to this directory (default: the process's). */
  cwd?: string;
}

interface Placement {
  placed: Placed[];
  /** Every placed creation site, most common first. */
  creators: Placed[];
  mismatches: string[];
}

function placeGroup(c: Checkout, g: Linkable): Placement {
  const out: Placement = { placed: [], creators: [], mismatches: [] };
  const frames = g.stack.frames;
  const first = frames.findIndex((f) => !isRuntime(f));
  frames.forEach((f, i) => {
    if (i < first || isRuntime(f)) return;
    const p = c.place(f, i === first ? 'blocking' : 'caller', g.blockedOn as BlockKind);
    if (p.kind === 'placed') out.placed.push(p.at);
    else if (p.kind === 'mismatch') out.mismatches.push(p.reason);
  });
  const sites =
    g.creators && g.creators.length > 0 ? g.creators.map((x) => x.site) : [g.stack.createdBy];
  for (const site of sites) {
    if (!site) continue;
    const p = c.place(site, 'go');
    if (p.kind === 'placed') out.creators.push(p.at);
    else if (p.kind === 'mismatch') out.mismatches.push(p.reason);
  }
  return out;
}

function codeFrame(c: Checkout, p: Placed): CodeFrame {
  return {
    function: p.frame.func,
    file: c.display(p.file.path),
    line: p.frame.line,
    code: c.codeAround(p.file, p.frame.line),
  };
}

/** Links `groups` (usually the suspects) to the checkout at `dir`. */
export async function linkGroups<G extends Linkable>(
  dir: string,
  groups: readonly G[],
  opts: LinkOptions = {},
): Promise<LinkResult<G>> {
  const abs = resolve(dir);
  const what = opts.option ? `${opts.option}: ${dir}` : `--source ${dir}`;
  if (!existsSync(abs) || !statSync(abs).isDirectory())
    throw new UserError(`${what}: not a directory (expected a checkout of the Go module)`);
  const c = new Checkout(abs, opts.cwd);
  if (c.modules.length === 0)
    throw new UserError(`${what}: no go.mod in, above or below it (expected a Go module checkout)`);
  const placements = new Map<G, Placement>();
  const dirs = new Set<string>();
  for (const g of groups) {
    const p = placeGroup(c, g);
    placements.set(g, p);
    if (p.mismatches.length > 0) continue;
    for (const x of [...p.placed, ...p.creators]) dirs.add(dirname(x.file.path));
  }

  let findings: { f: Finding; path: string }[] = [];
  if (opts.findings) {
    const cwd = opts.findings.cwd;
    findings = opts.findings.list.map((f) => ({ f, path: resolve(cwd, f.file) }));
  } else if (dirs.size > 0) {
    const r = await lint([...dirs], { cwd: c.cwd, tests: true, rules: loadConfig(abs).rules });
    findings = r.findings.map((f) => ({ f, path: resolve(c.cwd, f.file) }));
  }
  const byFile = new Map<string, { f: Finding; path: string }[]>();
  for (const x of findings) {
    const l = byFile.get(x.path) ?? [];
    l.push(x);
    byFile.set(x.path, l);
  }

  const links = new Map<G, GroupLink>();
  for (const g of groups) {
    const p = placements.get(g)!;
    links.set(g, joinGroup(c, p, byFile));
  }
  return {
    dir: abs,
    shown: resolve(c.cwd) === abs ? '.' : c.display(abs),
    modules: c.modules.map((m) => m.path),
    links,
  };
}

function joinGroup(
  c: Checkout,
  p: Placement,
  byFile: Map<string, { f: Finding; path: string }[]>,
): GroupLink {
  const blocking = p.placed[0];
  const created = p.creators[0];
  const link: GroupLink = {
    status: p.mismatches.length > 0 ? 'mismatch' : blocking || created ? 'linked' : 'outside',
    mismatches: p.mismatches,
    findings: [],
  };
  if (blocking) link.blocking = codeFrame(c, blocking);
  if (created) link.createdBy = codeFrame(c, created);
  // Code that is not what the dump ran is shown, but never joined to findings.
  if (link.status !== 'linked') return link;

  const seen = new Set<Finding>();
  const add = (x: { f: Finding }, via: Via, on?: string) => {
    if (seen.has(x.f)) return;
    seen.add(x.f);
    const lf: LinkedFinding = {
      rule: x.f.rule,
      file: x.f.file,
      line: x.f.line,
      message: x.f.message,
      fix: x.f.fix,
      via,
    };
    if (on !== undefined) lf.on = on;
    link.findings.push(lf);
  };
  const at = (path: string, line: number) =>
    (byFile.get(path) ?? []).filter((x) => x.f.line === line);
  // A finding names its package as stacks do: a frame of another package on the same file and
  // line (two builds of one file, a main and a test) is not its frame.
  const samePkg = (x: { f: Finding }, fr: Placed) =>
    x.f.package === undefined || x.f.package === fr.frame.pkg.replace(/%2e/gi, '.');

  for (const x of p.placed)
    for (const f of at(x.file.path, x.frame.line)) if (samePkg(f, x)) add(f, 'line');
  for (const cr of p.creators)
    for (const f of at(cr.file.path, cr.frame.line)) if (samePkg(f, cr)) add(f, 'go');

  const entry = p.placed[p.placed.length - 1];
  const pkgFiles = blocking ? c.packageFiles(dirname(blocking.file.path)) : [];
  const pkgName = blocking?.file.root.namedChildren.find((n) => n.type === 'package_clause')
    ?.namedChildren[0]?.text;
  // Profiles (protobuf, debug=1) print no creation site: the one `go` statement in the package
  // that can start the goroutine's function stands in for it.
  const creator = created ?? (entry ? soleGoStatement(entry, pkgFiles) : undefined);
  if (creator && !created) for (const f of at(creator.file.path, creator.frame.line)) add(f, 'go');
  const waits = blocking
    ? waitsOf({
        checkout: c,
        at: blocking,
        ...(creator ? { creator } : {}),
        ...(entry ? { entry } : {}),
        pkgFiles,
        pkgName: pkgName ?? '?',
      })
    : [];
  for (const w of waits)
    if (w.origin) for (const f of at(w.origin.file.path, w.origin.line)) add(f, 'waits-on', w.expr);

  // The code the goroutine runs: its entry function and the one it is parked in. A finding on
  // a `go` statement there is about another goroutine.
  for (const x of new Set([blocking, entry])) {
    if (!x) continue;
    const from = x.body.startPosition.row + 1;
    const to = x.body.endPosition.row + 1;
    for (const f of byFile.get(x.file.path) ?? [])
      if (f.f.line >= from && f.f.line <= to && !opsOnLine(x.body, f.f.line - 1).has('go'))
        add(f, 'body');
  }

  const lifetime: Lifetime = {
    endsBy: waits.map((w) => ({
      expr: w.expr,
      kind: w.kind,
      ...(w.origin ? { madeAt: `${c.display(w.origin.file.path)}:${w.origin.line}` } : {}),
      ends: w.ends,
      unreleased: w.unreleased,
      exits: w.exits,
    })),
  };
  if (creator) {
    const cr = creator;
    lifetime.startedBy = {
      function: cr.frame.func,
      file: c.display(cr.file.path),
      line: cr.frame.line,
      code: (cr.file.lines[cr.frame.line - 1] ?? '').trim(),
    };
  }
  if (lifetime.startedBy || lifetime.endsBy.length > 0) link.lifetime = lifetime;
  return link;
}

/**
 * The `go` statement that starts `entry`'s function, when the package has exactly one: for a
 * closure, the statement whose literal it is; for a declared function or method, the one
 * statement calling it by name. Placed like a creation site the dump would have printed.
 */
function soleGoStatement(entry: Placed, files: readonly SourceFile[]): Placed | undefined {
  const found: { file: SourceFile; go: Node }[] = [];
  for (const file of files)
    for (const go of file.root.descendantsOfType('go_statement')) {
      const call = go.namedChildren.find((k) => k.type === 'call_expression');
      const fn = call?.childForFieldName('function');
      if (!fn) continue;
      const hit = entry.name.closure
        ? fn.id === entry.body.id
        : (fn.type === 'identifier' ? fn.text : fn.childForFieldName('field')?.text) ===
          entry.name.name;
      if (hit) found.push({ file, go });
    }
  if (found.length !== 1) return undefined;
  const { file, go } = found[0]!;
  let decl: Node | null = go;
  while (decl?.parent && decl.parent.type !== 'source_file') decl = decl.parent;
  const name = enclosingName(go);
  if (!decl || !name) return undefined;
  const line = go.startPosition.row + 1;
  const pkg = entry.frame.pkg;
  return {
    frame: { func: `${pkg}.${name}`, pkg, file: file.path, line },
    file,
    decl,
    name: { name, closure: false, wrapper: false },
    body: decl,
  };
}
