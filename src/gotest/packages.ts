/**
 * Which packages `go test` would test, from `go list`: their directories, test files, and
 * whether they define their own TestMain (which decides how the check is installed).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';

export interface TestPackage {
  importPath: string;
  name: string;
  dir: string;
  /** _test.go files in the package itself and in its external `_test` package. */
  testFiles: string[];
  xtestFiles: string[];
  /** The test file that defines TestMain, if the package has one. */
  ownTestMain?: { file: string; external: boolean };
}

interface GoListPackage {
  ImportPath: string;
  Name: string;
  Dir: string;
  TestGoFiles?: string[];
  XTestGoFiles?: string[];
  Error?: { Err: string };
}

/** `go list -json` prints one JSON object after another; split them without a streaming parser. */
function parseGoListJson(text: string): GoListPackage[] {
  const out: GoListPackage[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) {
      out.push(JSON.parse(text.slice(start, i + 1)) as GoListPackage);
    }
  }
  return out;
}

const TEST_MAIN = /^func\s+TestMain\s*\(\s*\w+\s+\*testing\.M\s*\)/m;

export function listPackages(
  patterns: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): TestPackage[] {
  const r = spawnSync(
    'go',
    ['list', '-e', '-json=ImportPath,Name,Dir,TestGoFiles,XTestGoFiles,Error', ...patterns],
    {
      cwd,
      env,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    },
  );
  if (r.error)
    throw new UserError(`cannot run go: ${r.error.message} (is Go installed and on PATH?)`);
  if (r.status !== 0) {
    const msg = r.stderr.trim().split('\n')[0] ?? '';
    throw new UserError(`go list ${patterns.join(' ')}: ${msg}`);
  }
  const pkgs: TestPackage[] = [];
  for (const p of parseGoListJson(r.stdout)) {
    if (p.Error) throw new UserError(`go list: ${p.Error.Err.split('\n')[0]}`);
    const testFiles = p.TestGoFiles ?? [];
    const xtestFiles = p.XTestGoFiles ?? [];
    if (testFiles.length + xtestFiles.length === 0) continue;
    const pkg: TestPackage = {
      importPath: p.ImportPath,
      name: p.Name,
      dir: p.Dir,
      testFiles,
      xtestFiles,
    };
    for (const [files, external] of [
      [testFiles, false],
      [xtestFiles, true],
    ] as const) {
      for (const f of files) {
        if (TEST_MAIN.test(readFileSync(join(p.Dir, f), 'utf8')))
          pkg.ownTestMain = { file: f, external };
      }
    }
    pkgs.push(pkg);
  }
  return pkgs;
}
