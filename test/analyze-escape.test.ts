/**
 * A dump is written by whoever controls the process (or edited on its way to us): the text
 * report must not let a function name drive the terminal. A real dump with a hostile name
 * spliced in, read from stdin.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { cli, dump } from './helpers.js';

describe('analyze text output on hostile names', () => {
  it('shows control sequences as escapes instead of writing them', async () => {
    const hostile = 'pump\u001b]0;pwned\u0007\u001b[2J\rMessages';
    const text = readFileSync(dump('notify-leaky.debug2.txt'), 'utf8').replaceAll(
      'pumpMessages',
      hostile,
    );
    for (const cmd of [
      ['analyze', '-'],
      ['analyze', '--frames', '0', '-'],
    ]) {
      const r = await cli(cmd, text);
      assert.equal(r.code, 1, r.stderr);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(r.stdout, /[\u0007\u001b\r]/, 'no raw control character');
      assert.ok(r.stdout.includes('pump\\x1b]0;pwned\\x07\\x1b[2J\\rMessages'), 'shown escaped');
    }
  });
});
