/**
 * lint in worker threads (`--jobs N`): the same report, byte for byte, as in one thread on the
 * rule fixtures and the seed service; the seed's three findings and its fixed twin's none
 * through the real binary with workers; the findings' package and function in plain --json;
 * bad --jobs values.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, cli, cliProcess } from './helpers.js';

interface JFinding {
  rule: string;
  line: number;
  file: string;
  package: string | null;
  function: string | null;
}

const TESTDATA = join(ROOT, 'testdata');
const NOTIFY = join(TESTDATA, 'notify');

describe('lint --jobs', () => {
  it('--jobs 1 and --jobs 2 print the same JSON on the fixtures and the seed service', async () => {
    // Every rule's fixture packages, the seed and its fixed twin, tests included: dozens of
    // packages, so both workers get several and finish in an order of their own.
    const args = ['lint', '--json', '--tests', join(TESTDATA, 'lint', '...'), NOTIFY];
    args.push(join(TESTDATA, 'notifyfixed'));
    const one = await cli([...args, '--jobs', '1']);
    const two = await cli([...args, '--jobs', '2']);
    assert.equal(one.stderr, '');
    assert.equal(two.stderr, '');
    const report = JSON.parse(one.stdout) as {
      findings: JFinding[];
      stats: { packages: number };
    };
    assert.ok(report.stats.packages > 10, `${report.stats.packages} packages`);
    assert.ok(report.findings.length > 10, `${report.findings.length} findings`);
    assert.equal(two.stdout, one.stdout);
    assert.equal(two.code, one.code);
  });

  it('the seed service in two workers (real binary): exactly its three bugs', async () => {
    // With testdata/notifyfixed beside it, so that there are two packages for two workers.
    const r = await cliProcess([
      'lint',
      '--json',
      '--jobs',
      '2',
      NOTIFY,
      join(TESTDATA, 'notifyfixed'),
    ]);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { findings: JFinding[] };
    assert.deepEqual(
      report.findings.map((f) => [f.file.split('/').slice(-2).join('/'), f.line, f.rule]),
      [
        ['notify/notify.go', 60, 'conn-without-close-handling'],
        ['notify/notify.go', 106, 'ticker-not-stopped'],
        ['notify/notify.go', 144, 'orphaned-send'],
      ],
    );
  });

  it('testdata/notifyfixed in workers: nothing, exit 0', async () => {
    const r = await cliProcess([
      'lint',
      '--jobs',
      '2',
      '--tests',
      join(TESTDATA, 'notifyfixed'),
      join(TESTDATA, 'lint', 'ticker-not-stopped', 'good'),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /no findings in 2 packages/);
  });

  it('plain --json names each finding’s package and function as a stack would', async () => {
    const r = await cli(['lint', '--json', NOTIFY]);
    const report = JSON.parse(r.stdout) as { findings: JFinding[]; confirmedBy?: string };
    assert.deepEqual(
      report.findings.map((f) => [f.line, f.package, f.function]),
      [
        [60, 'leakwatch.test/testdata/notify', '(*Service).Subscribe'],
        [106, 'leakwatch.test/testdata/notify', '(*Service).heartbeat'],
        [144, 'leakwatch.test/testdata/notify', '(*Service).deliver'],
      ],
    );
    assert.equal(report.confirmedBy, undefined, 'no --confirm, no confirmation fields');
    assert.ok(report.findings.every((f) => !('confirmed' in f)));
  });

  for (const bad of ['0', '-1', 'two', '1.5']) {
    it(`--jobs ${bad}: one line, exit 2`, async () => {
      const r = await cliProcess(['lint', '--jobs', bad, NOTIFY]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--jobs: expected a whole number from 1 to 999/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }
});
