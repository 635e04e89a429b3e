/**
 * Live: the notification service built with the machine's Go, under real WebSocket load from
 * notify-load, analyzed straight from its net/http/pprof endpoints in every form it serves,
 * including the goroutineleak profile of a GOEXPERIMENT=goroutineleakprofile build.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildProgram, cli, noGo, run, serve, type Served } from './helpers.js';

const skip = noGo();
if (skip) console.log(`# skipping live notification-service tests: ${skip}`);

const LOAD = [
  '-clients',
  '40',
  '-broadcasts',
  '4',
  '-late-clients',
  '12',
  '-publishes',
  '12',
  '-settle',
  '1s',
];

interface J {
  format: string;
  profile: string;
  total: number;
  leakDetection: boolean;
  suspects: { userFrame: { function: string } | null; blockedOn: string; count: number }[];
}

async function analyzeUrl(url: string): Promise<{ code: number; j: J }> {
  const r = await cli(['analyze', '--json', url]);
  assert.ok(r.code === 0 || r.code === 1, `analyze ${url}: exit ${r.code}: ${r.stderr}`);
  return { code: r.code, j: JSON.parse(r.stdout) as J };
}

const holders = (j: J): Set<string> =>
  new Set(j.suspects.map((s) => (s.userFrame?.function ?? '').replace(/^.*\(\*Service\)\./, '')));

describe('live notification service', { skip, timeout: 180_000 }, () => {
  const servers: Served[] = [];
  let leaky: Served;
  let leakyExp: Served;
  let fixed: Served;

  before(async () => {
    const plain = buildProgram('cmd/notify-server');
    const exp = buildProgram('cmd/notify-server', { GOEXPERIMENT: 'goroutineleakprofile' });
    const load = buildProgram('cmd/notify-load');
    leaky = await serve(plain, ['-variant', 'leaky', '-heartbeat', '30s']);
    leakyExp = await serve(exp, ['-variant', 'leaky', '-heartbeat', '30s']);
    fixed = await serve(plain, ['-variant', 'fixed', '-heartbeat', '30s']);
    servers.push(leaky, leakyExp, fixed);
    for (const s of servers) run(load, ['-url', s.url, ...LOAD]);
  });
  after(async () => {
    for (const s of servers) await s.stop();
  });

  it('a base URL: takes the debug=2 dump and names the three populations', async () => {
    const { code, j } = await analyzeUrl(leaky.url);
    assert.equal(code, 1);
    assert.equal(j.format, 'traceback');
    assert.equal(
      j.profile,
      'goroutine',
      'no leak profile in a plain build: fell back to the goroutine dump',
    );
    for (const h of ['deliver', 'heartbeat', 'pumpMessages'])
      assert.ok(holders(j).has(h), `${h} named`);
  });

  for (const [path, format] of [
    ['/debug/pprof/goroutine?debug=1', 'debug1'],
    ['/debug/pprof/goroutine?debug=0', 'proto'],
    ['/debug/pprof/goroutine?debug=2', 'traceback'],
  ] as const) {
    it(`${path}: read as ${format}`, async () => {
      const { code, j } = await analyzeUrl(leaky.url + path);
      assert.equal(code, 1);
      assert.equal(j.format, format);
      assert.ok(holders(j).has('deliver') && holders(j).has('heartbeat'));
    });
  }

  it('a base URL of a leak-profile build: takes the goroutineleak dump (debug=2)', async () => {
    const { code, j } = await analyzeUrl(leakyExp.url);
    assert.equal(code, 1);
    assert.equal(j.profile, 'goroutineleak');
    assert.equal(j.leakDetection, true);
    // The channels hang off the service's map, reachable from a global: the runtime cannot
    // prove these leaked, and leakwatch still names them.
    for (const h of ['deliver', 'heartbeat', 'pumpMessages'])
      assert.ok(holders(j).has(h), `${h} named`);
  });

  for (const [path, format] of [
    ['/debug/pprof/goroutineleak?debug=1', 'debug1'],
    ['/debug/pprof/goroutineleak', 'proto'],
  ] as const) {
    it(`${path}: read as a goroutineleak ${format} profile`, async () => {
      const { j } = await analyzeUrl(leakyExp.url + path);
      assert.equal(j.format, format);
      assert.equal(j.profile, 'goroutineleak');
      assert.equal(j.leakDetection, true);
    });
  }

  it('the fixed service under the same load: no suspects', async () => {
    const { code, j } = await analyzeUrl(fixed.url);
    assert.equal(code, 0, JSON.stringify(j.suspects));
    assert.equal(j.suspects.length, 0);
  });

  it('diff of a profile saved before more load and the live one after: the publishers grew', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakwatch-live-'));
    try {
      const saved = join(dir, 'before.pb.gz');
      const res = await fetch(`${leaky.url}/debug/pprof/goroutine`);
      writeFileSync(saved, Buffer.from(await res.arrayBuffer()));
      run(buildProgram('cmd/notify-load'), ['-url', leaky.url, ...LOAD, '-user-prefix', 'second']);
      const r = await cli(['diff', '--json', saved, `${leaky.url}/debug/pprof/goroutine`]);
      assert.equal(r.code, 0, r.stderr);
      const d = JSON.parse(r.stdout) as {
        totalDelta: number;
        minutes: number | null;
        changes: {
          change: string;
          delta: number;
          perMinute: number | null;
          group: { userFrame: { function: string } | null };
        }[];
      };
      assert.ok(d.totalDelta > 0);
      assert.ok(d.minutes !== null && d.minutes > 0, 'both profiles carry their time');
      const grew = d.changes
        .filter((c) => c.change === 'grew')
        .map((c) => c.group.userFrame?.function ?? '');
      assert.ok(
        grew.some((f) => f.endsWith('.deliver')),
        `deliver grew: ${grew.join(', ')}`,
      );
      assert.ok(
        grew.some((f) => f.endsWith('.heartbeat')),
        'heartbeat grew',
      );
      assert.ok(
        d.changes.every((c) => c.change !== 'grew' || (c.perMinute ?? 0) > 0),
        'growth per minute given',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
