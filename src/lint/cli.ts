/**
 * `leakwatch lint [patterns...]`: registered on the main program by one call, so the CLI's
 * conventions (UserError → one line and exit 2, output to io.stdout) apply unchanged.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { styleFor } from '../render/style.js';
import { fetchOptions, readOptions, type Cli, type Io, type ReadFlags } from '../cli/context.js';
import { loadConfig } from './config.js';
import { renderLintJson } from './report/json.js';
import { renderLintSarif } from './report/sarif.js';
import { renderLintText } from './report/text.js';
import { RULES } from './rules/index.js';
import { lint } from './run.js';

interface LintFlags extends ReadFlags {
  json?: boolean;
  sarif?: boolean;
  tests?: boolean;
  config?: string;
  rule?: string[];
  allowParseErrors?: boolean;
  /** A goroutine dump or pprof URL whose goroutines confirm findings (src/link/confirm.ts). */
  confirm?: string;
  jobs?: number;
}

async function runLint(
  patterns: string[],
  f: LintFlags,
  io: Io,
  version: string,
  cwd = process.cwd(),
): Promise<number> {
  // Only --confirm needs the dump readers and the linker.
  const link = f.confirm ? await import('../link/confirm.js') : undefined;
  if (f.json && f.sarif) throw new UserError('--json and --sarif cannot be used together');
  const config = loadConfig(cwd, f.config);
  if (f.rule && f.rule.length > 0) {
    const ids = f.rule.flatMap((r) => r.split(',')).filter(Boolean);
    for (const id of ids)
      if (!RULES.some((r) => r.id === id))
        throw new UserError(
          `--rule: unknown rule "${id}" (known: ${RULES.map((r) => r.id).join(', ')})`,
        );
    for (const id of [...config.rules.keys()]) if (!ids.includes(id)) config.rules.delete(id);
    for (const id of ids) if (!config.rules.has(id)) config.rules.set(id, 'error');
  }
  const result = await lint(patterns, {
    cwd,
    tests: f.tests ?? config.tests,
    rules: config.rules,
    jobs: f.jobs ?? 'auto',
  });
  if (result.packages === 0 && result.problems.length === 0)
    throw new UserError(`no Go files found in ${patterns.length > 0 ? patterns.join(' ') : '.'}`);
  const confirmed =
    link && f.confirm
      ? await link.confirmFindings(result, f.confirm, cwd, readOptions(f, io))
      : undefined;
  const style = styleFor(io.stdout);
  const view = link && confirmed ? link.confirmView(confirmed) : undefined;
  io.stdout.write(
    f.sarif
      ? renderLintSarif(result, version, view)
      : f.json
        ? renderLintJson(result, view)
        : (link && confirmed ? link.confirmText(result, confirmed, style) : '') +
          renderLintText(result, { style, cwd }),
  );
  // A file we could not lint in full is a reason not to pass: silence from it is not a verdict.
  const incomplete = result.problems.length > 0 && !f.allowParseErrors;
  return incomplete || result.findings.some((x) => x.severity === 'error') ? 1 : 0;
}

function parseJobs(v: string): number {
  if (!/^[1-9]\d{0,2}$/.test(v))
    throw new UserError(`--jobs: expected a whole number from 1 to 999, got "${v}"`);
  return Number(v);
}

export function register(program: Command, cli: Cli): void {
  // The read options bound --confirm's dump or URL as they bound analyze's input.
  fetchOptions(program.command('lint'))
    .description('read Go source and point at goroutine, ticker, channel and context leaks')
    .argument('[patterns...]', 'packages: ./..., dir/..., directories or .go files (default: .)')
    .option('--json', 'print findings as JSON')
    .option('--sarif', 'print findings as SARIF 2.1.0 (code scanning)')
    .option('--tests', 'also lint _test.go files')
    .option(
      '--allow-parse-errors',
      'exit 0 even when some files have syntax errors (they are still listed)',
    )
    .option('--config <file>', 'config file (default: ./.leakwatch.json when present)')
    .option(
      '--confirm <dump-or-url>',
      'mark findings that goroutines in this dump (file, -, or pprof URL) confirm, and list them first',
    )
    .option(
      '--jobs <n>',
      'threads that parse and check packages (default: one per core when there is enough source; 1: no worker threads)',
      parseJobs,
    )
    .option(
      '--rule <ids>',
      'run only these rules (comma separated; repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .addHelpText(
      'after',
      `\nRules:\n${RULES.map((r) => `  ${r.id.padEnd(28)} ${r.summary}`).join('\n')}\n\nExit codes: 0 no error findings, 1 error findings or files with syntax errors (unless --allow-parse-errors), 2 bad usage.\nSuppress one finding with //leakwatch:ignore RULE reason (same line or the line above).\n`,
    )
    .action(async (patterns: string[], opts: LintFlags) => {
      cli.exit(await runLint(patterns, opts, cli.io, cli.version));
    });
}
