/**
 * leakwatch lint: the partner a finding names. Where a fixture marks a line `// partner:
 * <rule>`, the findings of that fixture point at exactly those lines as the partner that strands
 * them (the receiver's case that leaves, the early return, the goroutine Start launched), also
 * when the partner sits in another file than the finding (a channel handed to a function
 * declared elsewhere); SARIF carries the partner as a related location.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, cli } from './helpers.js';

const FIX = join(ROOT, 'testdata', 'lint');

interface JFinding {
  rule: string;
  file: string;
  line: number;
  message: string;
  partner?: { file: string; line: number; column: number };
}

/** `file:line rule` of every `// partner: <rule>` marker in a fixture directory. */
function partnerMarks(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.go')))
    readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const m of line.matchAll(/\/\/ partner: ([a-z-]+)/g))
          out.push(`${name}:${i + 1} ${m[1]}`);
      });
  return out.sort();
}

const marked: string[] = [];
for (const rule of readdirSync(FIX))
  for (const kind of readdirSync(join(FIX, rule)))
    if (partnerMarks(join(FIX, rule, kind)).length > 0) marked.push(join(FIX, rule, kind));

describe('lint findings name their partner', () => {
  it('fixtures mark partners (the test below has something to check)', () => {
    assert.ok(marked.length >= 6, marked.join(', '));
  });

  for (const dir of marked) {
    const name = dir.slice(FIX.length + 1);
    it(`${name}: the partners are exactly the marked lines`, async () => {
      const r = await cli(['lint', '--json', dir]);
      assert.equal(r.stderr, '');
      const findings = (JSON.parse(r.stdout) as { findings: JFinding[] }).findings;
      const got = [
        ...new Set(
          findings
            .filter((f) => f.partner)
            .map((f) => `${f.partner!.file.split('/').pop()}:${f.partner!.line} ${f.rule}`),
        ),
      ].sort();
      assert.deepEqual(got, partnerMarks(dir));
      for (const f of findings.filter((x) => x.partner)) {
        // The message says the partner's line too, for readers of the text output.
        assert.match(f.message, new RegExp(`line ${f.partner!.line}\\b`), f.message);
        assert.ok(f.partner!.column >= 1);
      }
    });
  }

  it('SARIF: the partner in another file is a related location', async () => {
    const dir = join(FIX, 'orphaned-send', 'bad-passed');
    const r = await cli(['lint', '--sarif', dir]);
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      runs: {
        results: {
          locations: {
            physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
          }[];
          relatedLocations?: {
            physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
          }[];
        }[];
      }[];
    };
    const send = doc.runs[0]!.results.find(
      (x) =>
        x.locations[0]!.physicalLocation.artifactLocation.uri.endsWith('worker.go') &&
        x.locations[0]!.physicalLocation.region.startLine === 13,
    );
    assert.ok(send, 'the send in worker.go:13 is reported');
    const rel = send.relatedLocations?.[0]?.physicalLocation;
    assert.ok(rel, 'with a related location');
    assert.ok(rel.artifactLocation.uri.endsWith('bad-passed/caller.go'), rel.artifactLocation.uri);
    assert.equal(rel.region.startLine, 15);
  });
});
