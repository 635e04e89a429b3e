/**
 * `leakwatch lint --sarif`: SARIF 2.1.0, the format code-scanning services read. Paths are
 * relative to the working directory (uriBaseId %SRCROOT%); columns are bytes, as the go tool
 * counts them, which equals UTF-16 units on ASCII lines.
 */
import type { LintResult } from '../run.js';
import { RULES } from '../rules/index.js';

export function renderLintSarif(r: LintResult, version: string): string {
  const ids = RULES.map((x) => x.id);
  const doc = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'leakwatch',
            version,
            rules: RULES.map((x) => ({
              id: x.id,
              name: x.id,
              shortDescription: { text: x.summary },
              defaultConfiguration: { level: 'error' },
            })),
          },
        },
        columnKind: 'utf16CodeUnits',
        results: r.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: ids.indexOf(f.rule),
          level: f.severity,
          message: { text: `${f.message}. Fix: ${f.fix}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: encodeURI(f.file), uriBaseId: '%SRCROOT%' },
                region: { startLine: f.line, startColumn: f.column },
              },
            },
          ],
        })),
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: r.problems.map((p) => ({
              level: 'warning',
              message: { text: `${p.file}: ${p.reason}` },
              ...(p.line > 0
                ? {
                    locations: [
                      {
                        physicalLocation: {
                          artifactLocation: { uri: encodeURI(p.file), uriBaseId: '%SRCROOT%' },
                          region: { startLine: p.line, startColumn: p.column },
                        },
                      },
                    ],
                  }
                : {}),
            })),
          },
        ],
      },
    ],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
