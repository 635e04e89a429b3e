/**
 * `leakwatch test` with the link: each leaking test's goroutines joined to the lint finding in
 * the package that explains them (testdata/gotest: Client.Fetch's send on an unbuffered channel
 * whose receiver can leave first, leaky/fetch.go), on the real go test run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, cliProcess, noGo } from './helpers.js';

const skip = noGo();
if (skip) console.log(`# skipping leakwatch test link tests: ${skip}`);

const MOD = join(ROOT, 'testdata', 'gotest');

interface JLeak {
  userFrame: { function: string; line: number } | null;
  source: { status: string } | null;
  findings: { rule: string; file: string; line: number; via: string }[];
}
interface JTest {
  packages: { package: string; leaks: JLeak[]; tests: { test: string; leaks: JLeak[] }[] }[];
}

/** The send line in Fetch's goroutine: the one with `ch <-` in leaky/fetch.go. */
function fetchSendLine(): number {
  const lines = readFileSync(join(MOD, 'leaky', 'fetch.go'), 'utf8').split('\n');
  return lines.findIndex((l) => /\bch <- /.test(l)) + 1;
}

describe(
  'leakwatch test: leaks linked to the findings of their package',
  { skip, timeout: 180_000 },
  () => {
    it('the leaking test is joined to the finding at the line its goroutines are parked on', async () => {
      const r = await cliProcess([
        'test',
        '--json',
        '-C',
        MOD,
        '-run',
        '^TestFetchTimeoutLeaks$',
        './leaky',
      ]);
      assert.equal(r.code, 1, r.stderr);
      const j = JSON.parse(r.stdout) as JTest;
      const pkg = j.packages.find((p) => p.package === 'leakwatch.test/gotest/leaky')!;
      const t = pkg.tests.find((x) => x.test === 'TestFetchTimeoutLeaks');
      assert.ok(t, 'attributed to TestFetchTimeoutLeaks');
      const send = fetchSendLine();
      for (const leak of [...pkg.leaks, ...t.leaks]) {
        assert.equal(leak.userFrame?.line, send);
        assert.equal(leak.source?.status, 'linked');
        assert.deepEqual(
          leak.findings.map((f) => [f.file, f.line, f.via]),
          [['leaky/fetch.go', send, 'line']],
        );
      }
      const text = await cliProcess([
        'test',
        '-C',
        MOD,
        '-run',
        '^TestFetchTimeoutLeaks$',
        './leaky',
      ]);
      assert.match(
        text.stdout,
        new RegExp(`TestFetchTimeoutLeaks\\n.*\\n\\s+finding \\S+ at leaky/fetch\\.go:${send} `),
      );
      const off = await cliProcess([
        'test',
        '--no-source',
        '-C',
        MOD,
        '-run',
        '^TestFetchTimeoutLeaks$',
        './leaky',
      ]);
      assert.doesNotMatch(off.stdout, /finding/);
    });
  },
);
