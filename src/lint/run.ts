/**
 * Runs the enabled rules over the packages the patterns name, one package at a time, and turns
 * their reports into findings: positions in the go tool's terms (1-based line, byte column),
 * suppressions applied, sorted by file and line.
 */
import { availableParallelism } from 'node:os';
import { relative, sep } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { enclosingName } from '../link/funcname.js';
import { importPathOf } from '../link/gomod.js';
import { loadPackages, type PackageFiles } from './go/load.js';
import { LintPool, sizeOf } from './pool.js';
import { Package, syntaxProblems } from './go/package.js';
import { codeOnly } from './go/text.js';
import type { Node } from './go/syntax.js';
import type { Finding, Report, Rule, Severity } from './rule.js';
import { RULES } from './rules/index.js';
import { isSuppressed, suppressions } from './suppress.js';

interface LintOptions {
  cwd: string;
  tests: boolean;
  rules: Map<string, Severity>;
  /**
   * Threads that parse and check packages: 1 (the default) lints in this thread; more starts a
   * pool of worker threads (pool.ts); 'auto' picks by the cores and the amount of source.
   */
  jobs?: number | 'auto';
  /**
   * Parse every package and run every enabled rule on it, whatever the rules' `needs` say: the
   * slow way, which the tests compare with the default to show that skipping changes nothing.
   */
  ignoreNeeds?: boolean;
}

const TEST_FAILS = /^(Fatal|Fatalf|FailNow|Error|Errorf|Fail|Skip|Skipf|SkipNow)$/;

/**
 * How the test has already failed when `partner` is the way it strands the leaking side: the
 * branch (select case, if block, statements before a return) calls t.Fatal and the like, or is
 * a timeout case (`<-time.After(d)`, a timer's C), which in a test means it hung. Undefined
 * when the partner's way out is an ordinary one.
 */
function afterTestFailure(partner: Node): string | undefined {
  // A goroutine's launch (start-without-stop) is not a way out: nothing there fails the test.
  if (partner.type === 'go_statement') return undefined;
  let branch: Node | null = partner;
  while (
    branch &&
    !/^(communication_case|default_case|expression_case|block|statement_list|source_file)$/.test(
      branch.type,
    )
  )
    branch = branch.parent;
  if (!branch) return undefined;
  if (branch.type === 'statement_list' || branch.type === 'block') {
    // A return: the statements before it in its list.
    const list =
      branch.type === 'block'
        ? branch.namedChildren.find((k) => k.type === 'statement_list')
        : branch;
    branch = list ?? branch;
  }
  if (branch.type === 'communication_case') {
    const comm = branch.childForFieldName('communication');
    if (
      comm &&
      /^<-\s*(time\s*\.\s*After\s*\(|[\p{L}\p{N}_.]*(timer|timeout|deadline)[\p{L}\p{N}_.]*\.C\b)/iu.test(
        comm.text,
      )
    )
      return `a timeout case (${comm.text.replace(/\s+/g, ' ').slice(0, 40)}): the test has already hung`;
  }
  for (const call of branch.descendantsOfType('call_expression')) {
    if (partner.type === 'return_statement' && call.startIndex > partner.startIndex) break;
    const fn = call.childForFieldName('function');
    if (fn?.type !== 'selector_expression') continue;
    const name = fn.childForFieldName('field')?.text ?? '';
    if (TEST_FAILS.test(name))
      return `${fn.text.replace(/\s+/g, '')} at line ${call.startPosition.row + 1}: the test has already failed`;
  }
  return undefined;
}

export interface Problem {
  file: string;
  line: number;
  column: number;
  reason: string;
}

export interface LintResult {
  findings: Finding[];
  /** Files we could not read, or that have syntax errors (linted as far as they parse). */
  problems: Problem[];
  packages: number;
  files: number;
  lines: number;
  suppressed: number;
  /** Generated and //go:build ignore files left out. */
  generated: number;
  /** Packages the rules looked into: the others hold no word any enabled rule needs. */
  checked: number;
}

export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  const p = rel.startsWith('..') || rel === '' ? path : rel;
  return p.split(sep).join('/');
}

function byteColumn(source: string, row: number, col16: number, lineStarts: number[]): number {
  const start = lineStarts[row] ?? 0;
  const prefix = source.slice(start, start + col16);
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(prefix) ? col16 + 1 : Buffer.byteLength(prefix) + 1;
}

function lineStartsOf(source: string): number[] {
  const out = [0];
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

/**
 * Syntax trees live in native memory that V8 does not count, so its collector sees no reason to
 * run, and the binding frees a tree only in a finalizer that Node runs from the event loop: a
 * synchronous walk over the standard library piles up about 1 GB of dead trees. So every few
 * hundred files we collect (the JS heap is small: milliseconds) and yield once to let the
 * finalizers run.
 */
let collect: (() => void) | undefined | null = null;
function collectGarbage(): void {
  if (collect === null) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = undefined;
    }
  }
  collect?.();
}

function withFunction(name: string | undefined): { function?: string } {
  return name === undefined ? {} : { function: name };
}

/** What linting one package gives: plain data, so a worker thread can send it back as is. */
export interface PackageResult {
  findings: Finding[];
  problems: Problem[];
  files: number;
  lines: number;
  suppressed: number;
  /** Whether any rule looked into the package (LintResult.checked). */
  checked: boolean;
}

/**
 * Parses one package and runs `rules` (id → severity, in RULES order) over it. Everything a
 * finding needs is computed here, from the package alone (its files, its go.mod's version and
 * import path, its files' suppressions), so the result is the same in any thread and any order.
 */
export function lintPackage(
  pf: PackageFiles,
  rules: readonly (readonly [string, Severity])[],
  cwd: string,
  ignoreNeeds = false,
): PackageResult {
  const out: PackageResult = {
    findings: [],
    problems: [],
    files: 0,
    lines: 0,
    suppressed: 0,
    checked: false,
  };
  out.files += pf.files.length;
  for (const f of pf.files) out.lines += lineStartsOf(f.source).length;
  const codes = pf.files.map((f) => codeOnly(f.source));
  const severities = new Map(rules);
  const found = new Map<string, boolean>();
  const enabled = RULES.filter(
    (r) => severities.has(r.id) && (ignoreNeeds || wanted(r, codes, found)),
  );
  // Nothing here any rule starts from: no finding can come from this package, so it gets no
  // Package (indexes, imports, rules); its files are still parsed, only to list a broken one.
  const pkg = enabled.length > 0 ? new Package(pf, codes) : undefined;
  out.checked = pkg !== undefined;
  for (const p of pkg?.problems ?? syntaxProblems(pf))
    out.problems.push({
      file: displayPath(p.path, cwd),
      line: p.line,
      column: p.column,
      reason: pkg
        ? 'syntax error; linted as far as it parses'
        : 'syntax error (no rule applies to this package)',
    });
  if (!pkg) return out;
  const seen = new Set<string>();
  const sup = new Map<string, ReturnType<typeof suppressions>>();
  const starts = new Map<string, number[]>();
  // So that findings join stack frames exactly (link, lint --confirm).
  const importPath = importPathOf(pkg.dir, pkg.name);
  for (const rule of enabled) {
    const severity = severities.get(rule.id)!;
    rule.check(pkg, (r: Report) => {
      const row = r.at.startPosition.row;
      const line = row + 1;
      const key = `${rule.id}\0${r.file.path}\0${line}`;
      if (seen.has(key)) return;
      seen.add(key);
      let s = sup.get(r.file.path);
      if (!s) sup.set(r.file.path, (s = suppressions(r.file.source)));
      if (isSuppressed(s, line, rule.id)) {
        out.suppressed++;
        return;
      }
      let ls = starts.get(r.file.path);
      if (!ls) starts.set(r.file.path, (ls = lineStartsOf(r.file.source)));
      const col16 = r.at.startPosition.column;
      const f: Finding = {
        rule: rule.id,
        severity,
        file: displayPath(r.file.path, cwd),
        line,
        column: byteColumn(r.file.source, row, col16, ls),
        columnUtf16: col16 + 1,
        message: r.message,
        fix: r.fix,
        ...(importPath !== undefined ? { package: importPath } : {}),
        ...withFunction(enclosingName(r.at)),
      };
      if (r.partner) {
        const pf = r.partnerFile ?? r.file;
        const prow = r.partner.startPosition.row;
        const pcol = r.partner.startPosition.column;
        let pls = starts.get(pf.path);
        if (!pls) starts.set(pf.path, (pls = lineStartsOf(pf.source)));
        f.partner = {
          file: displayPath(pf.path, cwd),
          line: prow + 1,
          column: byteColumn(pf.source, prow, pcol, pls),
          columnUtf16: pcol + 1,
        };
      }
      const failed =
        r.partner && r.file.path.endsWith('_test.go') ? afterTestFailure(r.partner) : undefined;
      if (failed) {
        f.severity = 'note';
        f.testOnly = failed;
      }
      out.findings.push(f);
    });
  }
  return out;
}

/**
 * Whether each of the rule's `needs` matches the code of some file (see Rule.needs). `found`
 * keeps the answers per pattern: several rules need the same words (`go`, `.Lock()`).
 */
function wanted(rule: Rule, codes: readonly string[], found: Map<string, boolean>): boolean {
  return (rule.needs ?? []).every((re) => {
    const key = `${re.source}/${re.flags}`;
    let yes = found.get(key);
    if (yes === undefined) {
      yes = codes.some((c) => {
        re.lastIndex = 0;
        return re.test(c);
      });
      found.set(key, yes);
    }
    return yes;
  });
}

/** Files linted since the last collection, in this thread (see collectGarbage). */
let sinceGc = 0;

/**
 * Counts a package's files toward the next collection; true when one is due, and the caller
 * should let the event loop turn once (the trees' finalizers run there).
 */
export function collectIfDue(files: number): boolean {
  sinceGc += files;
  if (sinceGc <= 200) return false;
  collectGarbage();
  sinceGc = 0;
  return true;
}

/**
 * Below this much source (UTF-16 code units read) `--jobs auto` lints in this thread: a worker
 * costs about 0.1-0.2 s of CPU to start (tree-sitter and the rules loaded again), and parsing and
 * checking take about 0.3 s per million characters (bench/RESULTS.md, lint), so below a million
 * the workers cannot win back their start.
 */
const AUTO_MIN_CHARS = 1_000_000;
const AUTO_MAX_THREADS = 8;

async function lintInProcess(
  packages: readonly PackageFiles[],
  rules: readonly (readonly [string, Severity])[],
  cwd: string,
  ignoreNeeds: boolean,
): Promise<PackageResult[]> {
  const out: PackageResult[] = [];
  for (const pf of packages) {
    const r = lintPackage(pf, rules, cwd, ignoreNeeds);
    out.push(r);
    // Every package's files were parsed (at least for syntax errors): their trees are native
    // memory the collector does not see until it runs.
    if (collectIfDue(pf.files.length)) await new Promise((done) => setImmediate(done));
  }
  return out;
}

export async function lint(patterns: string[], opts: LintOptions): Promise<LintResult> {
  const rules = RULES.filter((r) => opts.rules.has(r.id)).map(
    (r) => [r.id, opts.rules.get(r.id)!] as const,
  );
  const jobs = opts.jobs ?? 1;
  const ignoreNeeds = opts.ignoreNeeds ?? false;
  // Each worker holds its own tree-sitter and heap (50-100 MB): a big machine gets no more than
  // AUTO_MAX_THREADS unless --jobs asks.
  const threads = jobs === 'auto' ? Math.min(availableParallelism(), AUTO_MAX_THREADS) : jobs;
  // Workers start while the files are read, once there are two packages and (for 'auto') enough
  // source to pay for their start-up, and take each package as soon as it is read.
  let pool: LintPool | undefined;
  const early: PackageFiles[] = [];
  let chars = 0;
  const onPackage =
    threads > 1
      ? (p: PackageFiles) => {
          if (!pool) {
            early.push(p);
            chars += sizeOf(p);
            if (early.length < 2 || (jobs === 'auto' && chars < AUTO_MIN_CHARS)) return undefined;
            pool = new LintPool(threads, { rules, cwd: opts.cwd, ignoreNeeds });
            for (const e of early) pool.add(e);
          } else pool.add(p);
          // A turn of the event loop: workers that finished a package get the next one.
          return new Promise<void>((done) => setImmediate(done));
        }
      : undefined;
  let loaded: Awaited<ReturnType<typeof loadPackages>>;
  let results: PackageResult[];
  try {
    loaded = await loadPackages(patterns, { cwd: opts.cwd, tests: opts.tests, onPackage });
    results = pool
      ? await pool.finish()
      : await lintInProcess(loaded.packages, rules, opts.cwd, ignoreNeeds);
  } finally {
    await pool?.close();
  }
  const problems: Problem[] = loaded.skipped.map((s) => ({
    file: displayPath(s.path, opts.cwd),
    line: 0,
    column: 0,
    reason: s.reason,
  }));
  const findings: Finding[] = [];
  let files = 0;
  let lines = 0;
  let suppressed = 0;
  let checked = 0;
  // In package order, whichever thread linted which: the output does not depend on --jobs.
  for (const r of results) {
    findings.push(...r.findings);
    problems.push(...r.problems);
    files += r.files;
    lines += r.lines;
    suppressed += r.suppressed;
    if (r.checked) checked++;
  }
  findings.sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      a.rule.localeCompare(b.rule),
  );
  return {
    findings,
    problems,
    packages: loaded.packages.length,
    files,
    lines,
    suppressed,
    generated: loaded.generated,
    checked,
  };
}
