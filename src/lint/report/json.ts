/** `leakwatch lint --json`: the findings and what could not be read, for scripts and CI. */
import type { Finding } from '../rule.js';
import type { LintResult } from '../run.js';

/**
 * What `lint --confirm` (src/link/confirm.ts) adds to the JSON and SARIF outputs: the dump that
 * confirms, and per finding its confirmation, null when the dump does not confirm it.
 */
export interface ConfirmView {
  by: string;
  of(f: Finding): object | null;
}

export function renderLintJson(r: LintResult, confirm?: ConfirmView): string {
  const doc = {
    findings: r.findings.map((f) => ({
      rule: f.rule,
      severity: f.severity,
      file: f.file,
      line: f.line,
      column: f.column,
      message: f.message,
      fix: f.fix,
      ...(f.testOnly ? { testOnly: f.testOnly } : {}),
      // The frame a goroutine dump would show for it: import path and function as Go prints
      // them, so a script can join findings to stacks without parsing Go.
      package: f.package ?? null,
      function: f.function ?? null,
      ...(confirm ? { confirmed: confirm.of(f) } : {}),
      ...(f.partner
        ? { partner: { file: f.partner.file, line: f.partner.line, column: f.partner.column } }
        : {}),
    })),
    problems: r.problems,
    stats: {
      packages: r.packages,
      files: r.files,
      lines: r.lines,
      suppressed: r.suppressed,
      skippedGenerated: r.generated,
    },
    ...(confirm ? { confirmedBy: confirm.by } : {}),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
