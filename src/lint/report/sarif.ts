/**
 * `leakwatch lint --sarif`: SARIF 2.1.0, the format code-scanning services read. Paths inside
 * the working directory are relative to it (uriBaseId %SRCROOT%); paths outside it are absolute
 * file: URIs with no base, since %SRCROOT% cannot reach them. Columns are UTF-16 code units, as
 * `columnKind` declares (the JSON and text outputs count bytes, like the go tool).
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LintResult } from '../run.js';
import type { ConfirmView } from './json.js';
import { RULES } from '../rules/index.js';

/** The artifactLocation for a display path (relative to the working directory, or absolute). */
function artifact(file: string): { uri: string; uriBaseId?: string } {
  if (isAbsolute(file)) return { uri: pathToFileURL(file).href };
  return { uri: encodeURI(file), uriBaseId: '%SRCROOT%' };
}

/** With `confirm`, a confirmed result carries `properties.confirmed` and outranks the others. */
export function renderLintSarif(r: LintResult, version: string, confirm?: ConfirmView): string {
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
        results: r.findings.map((f) => {
          const confirmed = confirm?.of(f);
          return {
            ruleId: f.rule,
            ruleIndex: ids.indexOf(f.rule),
            level: f.severity,
            message: {
              text: `${f.message}. Fix: ${f.fix}${f.testOnly ? ` (only after the test has failed: ${f.testOnly})` : ''}`,
            },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: artifact(f.file),
                  region: { startLine: f.line, startColumn: f.columnUtf16 },
                },
              },
            ],
            // The partner that strands the leaking side (the receiver's leaving case, the early
            // return): code-scanning views show it beside the finding.
            ...(f.partner
              ? {
                  relatedLocations: [
                    {
                      id: 1,
                      message: { text: 'the partner that can leave' },
                      physicalLocation: {
                        artifactLocation: artifact(f.partner.file),
                        region: { startLine: f.partner.line, startColumn: f.partner.columnUtf16 },
                      },
                    },
                  ],
                }
              : {}),
            // SARIF rank is 0-100; a confirmed finding outranks every unconfirmed one.
            ...(confirmed
              ? { rank: 100, properties: { confirmed, confirmedBy: confirm!.by } }
              : {}),
          };
        }),
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
                          artifactLocation: artifact(p.file),
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
