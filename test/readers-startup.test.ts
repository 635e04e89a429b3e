/**
 * The published bin loads as little as it can (bin/leakwatch.js): `--version` without the CLI,
 * other commands from the esbuild bundle with its V8 code cache when `npm run build` made one.
 * Whatever path it takes, a user must see exactly what the CLI itself prints.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, cliProcess, dump, ROOT } from './helpers.js';

describe('the bin', () => {
  it('--version and -V print what the CLI prints, loading nothing else', async () => {
    const own = await cli(['--version']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(own.stdout, `${pkg.version}\n`);
    for (const flag of ['--version', '-V']) {
      const r = await cliProcess([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, own.stdout, flag);
    }
  });

  it('runs commands as the CLI does (from the bundle when built), reports and errors alike', async (t) => {
    if (!existsSync(join(ROOT, 'dist', 'leakwatch.cjs')))
      t.diagnostic('no bundle (run `npm run build`): the bin runs dist/src');
    for (const args of [
      ['analyze', '--json', dump('notify-leaky.debug2.txt')],
      ['analyze', dump('anchors.pb.gz')],
      ['diff', '--json', dump('notify-fixed.debug1.txt'), dump('notify-leaky.debug1.txt')],
      ['analyze', join(ROOT, 'no-such-dump.txt')],
    ]) {
      const own = await cli(args);
      const bin = await cliProcess(args);
      assert.equal(bin.code, own.code, args.join(' '));
      assert.equal(bin.stdout, own.stdout, args.join(' '));
      assert.equal(bin.stderr, own.stderr, args.join(' '));
    }
  });
});
