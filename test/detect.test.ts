/**
 * Format detection goes by content only: every committed fixture, fed through stdin with no
 * file name (and gzipped, and with a misleading name), reads exactly as it does from its path.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { cli, DUMPS } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'leakwatch-detect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The report minus where it came from. */
function normalized(stdout: string): unknown {
  const j = JSON.parse(stdout) as Record<string, unknown>;
  delete j.source;
  return j;
}

const fixtures = readdirSync(DUMPS).filter((f) => !f.startsWith('.') && !f.endsWith('.md'));

describe('detection by content', () => {
  it('has fixtures to check', () =>
    assert.ok(fixtures.length >= 10, `${fixtures.length} fixtures`));
  for (const f of fixtures) {
    it(f, async () => {
      const path = join(DUMPS, f);
      const byPath = await cli(['analyze', '--json', path]);
      // Exit 2 with a report: an input that cannot answer (a GOTRACEBACK=single crash).
      assert.ok(
        byPath.code === 0 || byPath.code === 1 || (byPath.code === 2 && byPath.stdout !== ''),
        `${f}: exit ${byPath.code}: ${byPath.stderr}`,
      );
      const want = normalized(byPath.stdout);

      const raw = readFileSync(path);
      const viaStdin = await cli(['analyze', '--json', '-'], raw);
      assert.equal(viaStdin.code, byPath.code, viaStdin.stderr);
      assert.deepEqual(normalized(viaStdin.stdout), want, 'stdin, no name');

      // The other compression state, under a name that lies about the format.
      const other = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : gzipSync(raw);
      const liar = join(dir, `${f}.looks-like.json`);
      writeFileSync(liar, other);
      const viaLiar = await cli(['analyze', '--json', liar]);
      assert.equal(viaLiar.code, byPath.code, viaLiar.stderr);
      assert.deepEqual(normalized(viaLiar.stdout), want, 'recompressed, misleading name');
    });
  }
});
