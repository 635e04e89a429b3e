/** `leakwatch lint --json`: the findings and what could not be read, for scripts and CI. */
import type { LintResult } from '../run.js';

export function renderLintJson(r: LintResult): string {
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
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
