/**
 * Live: the notification service built in another directory (a copy of the module in a temp
 * dir, as a CI machine or a container would build it), with and without -trimpath, dumped over
 * net/http/pprof under load, and linked against this checkout. The dump's paths name the temp
 * dir (or, with -trimpath, the module path); the link must land on testdata/ all the same.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyze } from '../src/analysis/suspects.js';
import { linkGroups } from '../src/link/link.js';
import { readSnapshot } from '../src/readers/index.js';
import { ROOT, bugLines, buildProgram, cli, noGo, run, serve, type Served } from './helpers.js';

const skip = noGo();
if (skip) console.log(`# skipping link-build tests: ${skip}`);

const TESTDATA = join(ROOT, 'testdata');
const LOAD = [
  '-clients',
  '20',
  '-broadcasts',
  '3',
  '-late-clients',
  '5',
  '-publishes',
  '5',
  '-settle',
  '1s',
];

interface JSuspect {
  userFrame: { function: string; file: string } | null;
  source: { status: string; blocking: { file: string } | null } | null;
  findings: { line: number }[];
}

describe('a dump of a binary built in another directory', { skip, timeout: 240_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'leakwatch-elsewhere-'));
  const mod = join(tmp, 'build', 'app');
  const servers: { name: string; served: Served }[] = [];

  before(async () => {
    mkdirSync(mod, { recursive: true });
    for (const p of ['go.mod', 'go.sum', 'notify', 'notifyfixed', join('cmd', 'notify-server')])
      cpSync(join(TESTDATA, p), join(mod, p), { recursive: true });
    const env = { ...process.env, GOWORK: 'off' };
    for (const [name, flags] of [
      ['plain', []],
      ['trimpath', ['-trimpath']],
    ] as const) {
      const out = join(tmp, name);
      const r = spawnSync('go', ['build', ...flags, '-o', out, './cmd/notify-server'], {
        cwd: mod,
        env,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, `go build ${flags.join(' ')}: ${r.stderr}`);
      servers.push({ name, served: await serve(out, ['-variant', 'leaky', '-heartbeat', '30s']) });
    }
    const load = buildProgram('cmd/notify-load');
    for (const s of servers) run(load, ['-url', s.served.url, ...LOAD]);
  });
  after(async () => {
    for (const s of servers) await s.served.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  for (const name of ['plain', 'trimpath'])
    it(`${name}: links to this checkout, not to where it was built`, async () => {
      const s = servers.find((x) => x.name === name)!.served;
      const url = `${s.url}/debug/pprof/goroutine?debug=2`;
      const r = await cli(['analyze', '--json', url, '--min-count', '3', '--source', TESTDATA]);
      assert.equal(r.code, 1, r.stderr);
      const suspects = (JSON.parse(r.stdout) as { suspects: JSuspect[] }).suspects;
      const bugs = bugLines();
      const want: Record<string, number[]> = {
        deliver: [bugs.get(3)!],
        heartbeat: [bugs.get(1)!, bugs.get(2)!],
        pumpMessages: [bugs.get(1)!],
      };
      for (const [fn, lines] of Object.entries(want)) {
        const x = suspects.find((y) => y.userFrame?.function.endsWith(`(*Service).${fn}`));
        assert.ok(x, `${fn} is a suspect`);
        // The dump names the build directory (or the module path), never this checkout.
        if (name === 'plain') assert.ok(x.userFrame!.file.startsWith(mod), x.userFrame!.file);
        else assert.equal(x.userFrame!.file, 'leakwatch.test/testdata/notify/notify.go');
        assert.equal(x.source?.status, 'linked', fn);
        assert.equal(x.source?.blocking?.file, 'testdata/notify/notify.go');
        assert.deepEqual(x.findings.map((f) => f.line).sort(), [...lines].sort(), fn);
      }
      // A main package has no import path in its names: found by the tail of its file path.
      const report = analyze(await readSnapshot(url));
      const main = report.groups.find((g) => g.stack.frames.some((f) => f.func === 'main.main'));
      assert.ok(main, 'the main goroutine is in the dump');
      const l = (await linkGroups(TESTDATA, [main])).links.get(main)!;
      assert.equal(l.status, 'linked', l.mismatches.join('; '));
      assert.equal(l.blocking?.file, 'testdata/cmd/notify-server/main.go');
    });
});
