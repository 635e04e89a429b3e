/**
 * `leakwatch demo`, as a user runs it: it builds the notification service, loads both twins and
 * watches them; its JSON alert stream names the leaky service's three groups and nothing of the
 * fixed one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliProcess, noGo } from './helpers.js';

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
  });
});
