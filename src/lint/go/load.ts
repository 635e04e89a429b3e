/**
 * From `leakwatch lint` patterns to packages: directories of Go files grouped by their package
 * clause, the way the go tool sees them. `dir/...` walks, skipping vendor/, testdata/ and
 * directories starting with `.` or `_` below the root; generated files and `//go:build ignore`
 * files are left out; `_test.go` files only with `tests`.
 */
import { closeSync, openSync, readSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
  /** The language version of the module holding the package: the `go` line of the nearest
   * go.mod above it, as a minor number of Go 1 (`go 1.23.4` → 23). Undefined without a go.mod. */
  goMinor?: number;
}

interface LoadOptions {
  cwd: string;
  tests: boolean;
  /**
   * Told each package as soon as all its files are read, in the order of the result, so that
   * lint's workers (run.ts) can parse it while the next ones are read; reading waits for the
   * promise it returns (a turn of the event loop, for the workers' messages).
   */
  onPackage?: ((p: PackageFiles) => void | Promise<void>) | undefined;
}

export interface Skipped {
  path: string;
  reason: string;
}

/**
 * The `go` line of the go.mod nearest above `dir` (cached per directory; a go.mod is small, and
 * we read at most its first 64 KiB). Without one, the go tool treats the code as old (GOPATH
 * mode, no loop variable per iteration), and so do we: undefined.
 */
function goMinorFor(dir: string, cache: Map<string, number | undefined>): number | undefined {
  if (cache.has(dir)) return cache.get(dir);
  let found: number | undefined;
  let text: string | undefined;
  try {
    const fd = openSync(join(dir, 'go.mod'), 'r');
    try {
      const buf = Buffer.alloc(65536);
      text = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    const m = /^\s*go\s+1\.(\d+)/m.exec(text);
    found = m ? Number(m[1]) : undefined;
  } else {
    const up = dirname(dir);
    found = up === dir ? undefined : goMinorFor(up, cache);
  }
  cache.set(dir, found);
  return found;
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
function expandPatterns(patterns: string[], cwd: string): { dirs: string[]; files: string[] } {
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
export async function loadPackages(
  patterns: string[],
  opts: LoadOptions,
): Promise<{ packages: PackageFiles[]; skipped: Skipped[]; generated: number }> {
  const { dirs, files } = expandPatterns(patterns, opts.cwd);
  const skipped: Skipped[] = [];
  let generated = 0;
  const groups = new Map<string, PackageFiles>();
  const seen = new Set<string>();
  const versions = new Map<string, number | undefined>();
  /** Packages begun by the directory being read. */
  let fresh: PackageFiles[] = [];
  const add = (path: string, explicit: boolean) => {
    if (seen.has(path)) return;
    seen.add(path);
    let source: string;
    try {
      source = readFileSync(path, 'utf8');
      // The go tool ignores a byte-order mark at the start of a file; so do we.
      if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
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
    if (!g) {
      g = { dir, name, files: [] };
      const minor = goMinorFor(dir, versions);
      if (minor !== undefined) g.goMinor = minor;
      groups.set(key, g);
      fresh.push(g);
    }
    g.files.push({ path, source });
  };
  // A directory's packages are complete once it is read, unless a file named on the command
  // line may still join one of them: those wait for the end.
  const held = new Set(files.map((f) => dirname(f)));
  const done: PackageFiles[] = [];
  const emitted = new Set<PackageFiles>();
  const emit = async (g: PackageFiles) => {
    if (emitted.has(g)) return;
    emitted.add(g);
    done.push(g);
    await opts.onPackage?.(g);
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
    if (!held.has(dir)) for (const g of fresh) await emit(g);
    fresh = [];
  }
  for (const f of files) {
    if (!isGoFile(basename(f), true)) continue;
    add(f, true);
  }
  for (const g of groups.values()) await emit(g);
  return { packages: done, skipped, generated };
}
