/**
 * From `leakwatch lint` patterns to packages: directories of Go files grouped by their package
 * clause, the way the go tool sees them. `dir/...` walks, skipping vendor/, testdata/ and
 * directories starting with `.` or `_` below the root; generated files and `//go:build ignore`
 * files are left out; `_test.go` files only with `tests`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { isGenerated, isIgnoredBuild, packageName } from './text.js';

export interface SourceFile {
  path: string;
  source: string;
}

export interface PackageFiles {
  dir: string;
  name: string;
  files: SourceFile[];
}

export interface LoadOptions {
  cwd: string;
  tests: boolean;
}

export interface Skipped {
  path: string;
  reason: string;
}

const SKIP_DIRS = new Set(['vendor', 'testdata', 'node_modules']);

function isGoFile(name: string, tests: boolean): boolean {
  return name.endsWith('.go') && (tests || !name.endsWith('_test.go'));
}

function walk(root: string, into: string[]): void {
  into.push(root);
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    if (SKIP_DIRS.has(e.name) || e.name.startsWith('.') || e.name.startsWith('_')) continue;
    walk(join(root, e.name), into);
  }
}

/** Expands patterns into directories (each a candidate package) and explicitly named files. */
export function expandPatterns(
  patterns: string[],
  cwd: string,
): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  for (const p of patterns.length > 0 ? patterns : ['.']) {
    const recursive = p === '...' || p.endsWith('/...');
    const base = resolve(cwd, recursive ? p.slice(0, -3) || '.' : p);
    let st;
    try {
      st = statSync(base);
    } catch {
      throw new UserError(`${p}: no such file or directory`);
    }
    if (st.isFile()) {
      if (!base.endsWith('.go')) throw new UserError(`${p}: not a Go file (expected a .go file)`);
      files.push(base);
    } else if (recursive) walk(base, dirs);
    else dirs.push(base);
  }
  return { dirs: [...new Set(dirs)], files: [...new Set(files)] };
}

/**
 * Reads the packages the patterns name. Files we leave out on purpose (generated, ignored
 * builds) are counted, not reported; a file we cannot read is reported in `skipped`.
 */
export function loadPackages(
  patterns: string[],
  opts: LoadOptions,
): { packages: PackageFiles[]; skipped: Skipped[]; generated: number } {
  const { dirs, files } = expandPatterns(patterns, opts.cwd);
  const skipped: Skipped[] = [];
  let generated = 0;
  const groups = new Map<string, PackageFiles>();
  const seen = new Set<string>();
  const add = (path: string, explicit: boolean) => {
    if (seen.has(path)) return;
    seen.add(path);
    let source: string;
    try {
      source = readFileSync(path, 'utf8');
    } catch (err) {
      skipped.push({ path, reason: `unreadable: ${(err as NodeJS.ErrnoException).code ?? err}` });
      return;
    }
    if (!explicit && (isGenerated(source) || isIgnoredBuild(source))) {
      generated++;
      return;
    }
    const name = packageName(source);
    if (name === undefined) {
      skipped.push({ path, reason: 'no package clause' });
      return;
    }
    const dir = dirname(path);
    const key = `${dir}\0${name}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { dir, name, files: [] }));
    g.files.push({ path, source });
  };
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const n of names) {
      if (!isGoFile(n, opts.tests)) continue;
      const path = join(dir, n);
      try {
        if (!statSync(path).isFile()) continue;
      } catch {
        continue;
      }
      add(path, false);
    }
  }
  for (const f of files) {
    if (!isGoFile(basename(f), true)) continue;
    add(f, true);
  }
  return { packages: [...groups.values()], skipped, generated };
}
