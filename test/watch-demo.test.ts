/**
 * `leakwatch demo`, as a user runs it: it builds the notification service, loads both twins and
 * watches them; its JSON alert stream names the leaky service's three groups and nothing of the
 * fixed one.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { BIN, cliProcess, noGo } from './helpers.js';

const skip = noGo();
if (skip) console.log(`# skipping the demo test: ${skip}`);

describe('leakwatch demo', { skip, timeout: 180_000 }, () => {
  it('alerts on notify-leaky (pump, heartbeat, publishers) and never on notify-fixed', async () => {
    const r = await cliProcess(['demo', '--duration', '30s', '--json', '--no-view']);
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            target: string;
            detector: string;
            group?: { holder?: { func: string } };
          },
      );
    const grown = new Set(
      events
        .filter((e) => e.target === 'notify-leaky' && e.detector === 'growth')
        .map((e) => (e.group?.holder?.func ?? '').replace(/^.*\(\*Service\)\./, '')),
    );
    for (const g of ['deliver', 'heartbeat', 'pumpMessages'])
      assert.ok(grown.has(g), `${g} in ${[...grown].join(', ')}`);
    assert.deepEqual(
      events.filter((e) => e.target === 'notify-fixed'),
      [],
    );
    assert.match(r.stderr, /notify-fixed: no alerts/);
    assert.match(r.stderr, /dashboard on http:\/\/127\.0\.0\.1:\d+\/ui\//);
  });

  it('prints the dashboard address; it answers during the watch and, with --keep-serving, after it until Ctrl-C', async () => {
    const p = spawn(
      process.execPath,
      [BIN, 'demo', '--duration', '15s', '--no-view', '--keep-serving'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    const seen = (re: RegExp): Promise<RegExpExecArray> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(err);
          if (m) resolve(m);
        };
        p.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          check();
        });
        p.on('exit', (c) => reject(new Error(`demo exited (${c}) before ${re}: ${err}`)));
        check();
      });
    try {
      const base = (await seen(/dashboard on (http:\/\/127\.0\.0\.1:\d+)\/ui\//))[1]!;
      const page = await fetch(`${base}/ui/`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(page.status, 200);
      await seen(/the dashboard stays on/);
      const fleet = (await (
        await fetch(`${base}/ui/api/fleet`, { signal: AbortSignal.timeout(10_000) })
      ).json()) as { targets: { name: string; alerts: unknown[] }[] };
      assert.deepEqual(
        fleet.targets.map((t) => t.name),
        ['notify-leaky', 'notify-fixed'],
        'the watched history, leaky (alerting) first',
      );
      assert.ok(fleet.targets[0]!.alerts.length > 0);
      const code = new Promise<number | null>((r) => p.once('exit', r));
      p.kill('SIGINT');
      assert.equal(await code, 0, err);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
    }
  });
});
