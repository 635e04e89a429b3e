/**
 * Go modules on disk: which go.mod files a checkout holds and which directory an import path
 * lives in. Dumps name code by import path (in function names) and by whatever absolute path
 * the build machine had, so the import path, read against go.mod, is what finds the file here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Group } from '../analysis/group.js';

export interface Module {
  /** The module path from go.mod's `module` line. */
  path: string;
  /** Absolute directory holding the go.mod. */
  dir: string;
}

/** The module path of a go.mod, or undefined when the file has no readable `module` line. */
function modulePath(goMod: string): string | undefined {
  let text: string;
  try {
    // A go.mod is small; a huge one is not a go.mod we can use.
    if (statSync(goMod).size > 4 << 20) return undefined;
    text = readFileSync(goMod, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^\s*module\s+("([^"]+)"|`([^`]+)`|(\S+))/m.exec(text);
  return m ? (m[2] ?? m[3] ?? m[4]) : undefined;
}

/** The nearest go.mod at or above `dir`. */
export function enclosingModule(dir: string): Module | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const f = join(d, 'go.mod');
    if (existsSync(f)) {
      const path = modulePath(f);
      return path ? { path, dir: d } : undefined;
    }
    if (dirname(d) === d) return undefined;
  }
}

/** Directories never holding the user's own modules. */
const SKIP = new Set(['node_modules', 'vendor', '.git']);
/** Bounds on the walk: a checkout is searched, not a whole disk. */
const MAX_DIRS = 20_000;
const MAX_DEPTH = 8;

/**
 * Every module a checkout holds: the one enclosing `dir` and any nested below it (multi-module
 * repositories, a testdata module), deepest first so the longest module path wins a lookup.
 */
export function modulesIn(dir: string): Module[] {
  const out: Module[] = [];
  const up = enclosingModule(dir);
  if (up) out.push(up);
  let seen = 0;
  const walk = (d: string, depth: number) => {
    if (seen++ > MAX_DIRS || depth > MAX_DEPTH) return;
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory() || SKIP.has(e.name) || e.name.startsWith('.')) continue;
      const sub = join(d, e.name);
      const path = existsSync(join(sub, 'go.mod')) ? modulePath(join(sub, 'go.mod')) : undefined;
      if (path) out.push({ path, dir: sub });
      walk(sub, depth + 1);
    }
  };
  walk(resolve(dir), 0);
  return out.sort((a, b) => b.path.length - a.path.length);
}

/**
 * The directory of package `pkg` among `mods`: the module whose path is the longest prefix of
 * the import path, then the rest of the path below its go.mod; a vendored copy when the module
 * vendors it.
 */
export function packageDir(pkg: string, mods: readonly Module[]): string | undefined {
  for (const m of mods) {
    if (pkg === m.path) return m.dir;
    if (pkg.startsWith(`${m.path}/`))
      return join(m.dir, ...pkg.slice(m.path.length + 1).split('/'));
  }
  for (const m of mods) {
    const v = join(m.dir, 'vendor', ...pkg.split('/'));
    if (existsSync(v)) return v;
  }
  return undefined;
}

const importPaths = new Map<string, string | undefined>();

/**
 * The import path of the package in `dir`, as Go names it in function names: module path plus
 * the directory below go.mod; `main` for a main package; `<path>_test` for an external test
 * package. Undefined outside any module.
 */
export function importPathOf(dir: string, pkgName: string): string | undefined {
  if (pkgName === 'main') return 'main';
  const abs = resolve(dir);
  let base = importPaths.get(abs);
  if (!importPaths.has(abs)) {
    const m = enclosingModule(abs);
    const rel = m ? relative(m.dir, abs) : '';
    base = m ? (rel === '' ? m.path : `${m.path}/${rel.split(sep).join('/')}`) : undefined;
    importPaths.set(abs, base);
  }
  return base !== undefined && pkgName.endsWith('_test') ? `${base}_test` : base;
}

/**
 * The default checkout for `analyze` without `--source`: the current directory, when its go.mod
 * (or one above it) names a module whose code is in the dump.
 */
export function defaultSource(cwd: string, groups: readonly Group[]): string | undefined {
  const m = enclosingModule(cwd);
  if (!m) return undefined;
  for (const g of groups) {
    const c = g.stack.createdBy;
    for (const f of c ? [...g.stack.frames, c] : g.stack.frames) {
      const p = f.pkg.replace(/_test$/, '');
      if (p === m.path || p.startsWith(`${m.path}/`)) return cwd;
    }
  }
  return undefined;
}
