/**
 * The seed's incident, on real dumps of the notification service (testdata/notify, made by
 * testdata/scripts/gen-notify.sh): the leaky service's three populations are named with their
 * creation sites; the fixed twin under the same load has no suspects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli, dump } from './helpers.js';

interface JFrame {
  function: string;
  file: string;
  line: number;
}
interface JSuspect {
  count: number;
  state: string;
  blockedOn: string;
  certain: boolean;
  userFrame: JFrame | null;
  createdBy: JFrame | null;
  waitMinutes: { min: number; max: number } | null;
  score: number;
  stack: JFrame[];
  ownership: { who: string; what: string; holds: string };
}
interface JReport {
  total: number;
  format: string;
  profile: string;
  suspects: JSuspect[];
  idle: { reason: string; count: number }[];
}

async function analyzeJson(file: string): Promise<{ code: number; report: JReport }> {
  const r = await cli(['analyze', '--json', file]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) as JReport };
}

const PKG = 'leakwatch.test/testdata/notify.(*Service).';
const short = (f: JFrame | null): string => (f ? f.function.replace(PKG, '') : '-');

describe('the incident: 50,847 goroutines of the leaky notification service', () => {
  it('names the publishers, the heartbeat loop and the message pump, with their creation sites', async () => {
    const { code, report } = await analyzeJson(dump('notify-leaky-50847.debug2.txt.gz'));
    assert.equal(code, 1, 'exit 1: suspects found');
    assert.equal(report.total, 50847);
    const byHolder = new Map(
      report.suspects.map((s) => [`${short(s.userFrame)}<-${short(s.createdBy)}`, s]),
    );
    const publishers = byHolder.get('deliver<-Broadcast');
    const heartbeat = byHolder.get('heartbeat<-Subscribe');
    const pump = byHolder.get('pumpMessages<-Subscribe');
    assert.ok(publishers, `publishers found among ${[...byHolder.keys()].join(', ')}`);
    assert.ok(heartbeat, 'heartbeat found');
    assert.ok(pump, 'pump found');
    assert.equal(publishers.blockedOn, 'chan-send');
    assert.equal(heartbeat.blockedOn, 'select');
    assert.equal(pump.blockedOn, 'select');
    // The creation sites are the `go` statements in Subscribe and Broadcast.
    assert.match(heartbeat.createdBy!.file, /testdata\/notify\/notify\.go$/);
    assert.notEqual(heartbeat.createdBy!.line, pump.createdBy!.line, 'two different go statements');
    // Every suspect is the service's own code; the idle server goroutines are not suspects.
    for (const s of report.suspects) assert.match(s.userFrame!.function, /testdata\/notify\./);
    const suspected = report.suspects.reduce((n, s) => n + s.count, 0);
    assert.ok(suspected >= 50_800, `nearly all goroutines are suspects (${suspected})`);
    // The largest population ranks first.
    assert.equal(short(report.suspects[0]!.userFrame), 'deliver');
  });

  it('the fixed service under the same load has no suspects', async () => {
    const { code, report } = await analyzeJson(
      dump('notify-fixed-under-incident-load.debug2.txt.gz'),
    );
    assert.equal(code, 0);
    assert.equal(report.suspects.length, 0);
    assert.ok(report.idle.length > 0, 'its remaining goroutines are explained as idle by design');
  });

  it('the text report answers the ownership questions in plain words', async () => {
    const r = await cli(['analyze', dump('notify-leaky-50847.debug2.txt.gz')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /50,847 goroutines/);
    assert.match(
      r.stdout,
      /created by\s+notify\.\(\*Service\)\.Broadcast at notify\/notify\.go:\d+/,
    );
    assert.match(r.stdout, /stuck on\s+channel send in notify\.\(\*Service\)\.deliver/);
    assert.match(r.stdout, /held by\s+notify\.\(\*Service\)\.deliver/);
    assert.ok(!r.stdout.includes('\u001b['), 'no color when not a terminal');
  });
});

describe('the notification service in every format', () => {
  for (const [file, format] of [
    ['notify-leaky.debug2.txt', 'traceback'],
    ['notify-leaky.debug1.txt', 'debug1'],
    ['notify-leaky.pb.gz', 'proto'],
  ] as const) {
    it(`${file}: finds the heartbeat, pump and publisher groups`, async () => {
      const { code, report } = await analyzeJson(dump(file));
      assert.equal(code, 1);
      assert.equal(report.format, format);
      const holders = new Set(report.suspects.map((s) => short(s.userFrame)));
      for (const h of ['deliver', 'heartbeat', 'pumpMessages'])
        assert.ok(holders.has(h), `${h} in ${[...holders].join(',')}`);
    });
  }
  for (const file of ['notify-fixed.debug2.txt', 'notify-fixed.debug1.txt', 'notify-fixed.pb.gz']) {
    it(`${file}: no suspects`, async () => {
      const { code, report } = await analyzeJson(dump(file));
      assert.equal(code, 0);
      assert.deepEqual(report.suspects, []);
    });
  }
  it('the protobuf form still tells what the publishers are blocked on (runtime frames kept)', async () => {
    const { report } = await analyzeJson(dump('notify-leaky.pb.gz'));
    const pub = report.suspects.find((s) => short(s.userFrame) === 'deliver');
    assert.equal(pub?.blockedOn, 'chan-send');
  });
});
