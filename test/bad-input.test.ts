/**
 * Bad input: one line on stderr naming the input and what was expected, exit 2, no stack trace.
 * Each case runs the real bin as a separate process, as a user would.
 */
import assert from 'node:assert/strict';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  ftruncateSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { cli, cliProcess, dump, ROOT } from './helpers.js';
import { readSnapshot } from '../src/readers/index.js';
import { LimitError } from '../src/input/limits.js';

const dir = mkdtempSync(join(tmpdir(), 'leakwatch-bad-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function assertUserError(
  r: { code: number; stdout: string; stderr: string },
  mention: RegExp,
): void {
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line of error, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^leakwatch: /);
  assert.match(lines[0]!, mention);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no JavaScript stack trace');
  assert.equal(r.stdout, '', 'nothing on stdout');
}

describe('bad input', () => {
  it('missing file', async () => {
    const r = await cliProcess(['analyze', join(dir, 'nope.txt')]);
    assertUserError(r, /nope\.txt: no such file/);
  });

  it('empty file', async () => {
    const f = join(dir, 'empty.txt');
    writeFileSync(f, '');
    assertUserError(
      await cliProcess(['analyze', f]),
      /empty\.txt: file is empty, expected a goroutine dump/,
    );
  });

  it('blank text', async () => {
    const f = join(dir, 'blank.txt');
    writeFileSync(f, '\n\n   \n');
    assertUserError(await cliProcess(['analyze', f]), /blank\.txt: .*expected a goroutine dump/);
  });

  it('text that is not a dump', async () => {
    const f = join(dir, 'readme.txt');
    writeFileSync(f, 'hello\nthis is not a goroutine dump\n');
    assertUserError(
      await cliProcess(['analyze', f]),
      /readme\.txt: no goroutine found; expected a goroutine dump/,
    );
  });

  it('binary garbage', async () => {
    const f = join(dir, 'garbage.bin');
    const b = Buffer.alloc(100_000);
    for (let i = 0; i < b.length; i++) b[i] = (i * 7919 + 13) % 256;
    writeFileSync(f, b);
    assertUserError(
      await cliProcess(['analyze', f]),
      /garbage\.bin: binary data that is not a protobuf profile/,
    );
  });

  it('a file of several GB is rejected from its first bytes, not read whole', async () => {
    // A sparse file: 4 GiB of zeros that costs no disk.
    const f = join(dir, 'huge.bin');
    const fd = openSync(f, 'w');
    ftruncateSync(fd, 4 * 1024 ** 3);
    closeSync(fd);
    assertUserError(await cliProcess(['analyze', f]), /huge\.bin: binary data/);
  });

  it('truncated gzip', async () => {
    const gz = gzipSync(readFileSync(dump('anchors.debug2.txt')));
    const f = join(dir, 'cut.txt.gz');
    writeFileSync(f, gz.subarray(0, Math.floor(gz.length / 2)));
    assertUserError(await cliProcess(['analyze', f]), /cut\.txt\.gz: gzip data is truncated/);
  });

  it('a directory', async () => {
    assertUserError(await cliProcess(['analyze', dir]), /is a directory/);
  });

  it('stdin that is empty', async () => {
    assertUserError(await cliProcess(['analyze', '-'], { stdin: '' }), /stdin: input is empty/);
  });

  it('unknown flag and bad number are usage errors', async () => {
    const r = await cliProcess(['analyze', '--frobnicate', dump('anchors.debug2.txt')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option '--frobnicate'/);
    const r2 = await cliProcess(['analyze', '--top', 'many', dump('anchors.debug2.txt')]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /--top must be a whole number/);
  });

  it('a dump cut mid-frame is read as far as it goes, with a warning', async () => {
    const text = readFileSync(dump('anchors.debug2.txt'), 'latin1');
    // Cut in the middle of a position line, after its function line: the frame is half there.
    const re = /\n[^\t\n][^\n]*\)\n\t/g;
    re.lastIndex = Math.floor(text.length / 2);
    const m = re.exec(text);
    assert.ok(m);
    const cut = text.slice(0, m.index + m[0].length + 12);
    const f = join(dir, 'cut-mid-frame.txt');
    writeFileSync(f, cut, 'latin1');
    const r = await cliProcess(['analyze', '--json', f]);
    assert.ok(r.code === 0 || r.code === 1, `parsed what was there; stderr: ${r.stderr}`);
    const j = JSON.parse(r.stdout) as { total: number; warnings: string[] };
    assert.ok(j.total > 0);
    assert.ok(
      j.warnings.some((w) => /cut off|truncated/.test(w)),
      `warned: ${j.warnings.join(' | ')}`,
    );
  });
});

/** Writes a hostile input with the committed generator (testdata/scripts/hostile.mjs). */
function hostile(kind: string, ...args: string[]): string {
  const out = join(
    dir,
    `${kind}-${args[0] ?? ''}${kind === 'samples' || kind === 'distinct' || kind === 'time' ? '.pb' : '.txt'}${kind === 'time' ? '' : '.gz'}`,
  );
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'testdata/scripts/hostile.mjs'), kind, ...args, out],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return out;
}

describe('caps while reading: hostile inputs end in one line and exit 2, never an OOM abort', () => {
  it('12 million identical protobuf samples (140 KB of gzip) are merged as they stream', async () => {
    const f = hostile('samples', '12000000');
    assert.ok(readFileSync(f).length < 200_000, 'small on disk');
    // A heap of 64 MB: reading the 96 MB of samples whole, or one object per sample, would abort.
    const r = await cliProcess(['analyze', '--json', f], {
      env: { NODE_OPTIONS: '--max-old-space-size=64' },
    });
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout) as { total: number; suspects: { count: number }[] };
    assert.equal(j.total, 12_000_000);
    assert.equal(j.suspects.length, 1);
    assert.equal(j.suspects[0]!.count, 12_000_000);
  });

  it('distinct samples past --max-samples', async () => {
    // Identical samples count once: 100,000 of them pass a cap of 1.
    const same = hostile('samples', '100000');
    const ok = await cliProcess(['analyze', '--json', '--max-samples', '1', same]);
    assert.equal(ok.code, 1, ok.stderr);
    const f = hostile('distinct', '2000');
    assertUserError(
      await cliProcess(['analyze', '--max-samples', '1000', f]),
      /distinct-2000\.pb\.gz: more than 1000 distinct samples.*--max-samples/,
    );
    const r = await cliProcess(['analyze', '--json', '--max-samples', '2000', f]);
    assert.equal((JSON.parse(r.stdout) as { total: number }).total, 2000);
  });

  it('goroutine records past --max-goroutines', async () => {
    const f = hostile('records', '200000');
    assertUserError(
      await cliProcess(['analyze', '--max-goroutines', '100000', f]),
      /records-200000\.txt\.gz: more than 100000 goroutine records.*--max-goroutines/,
    );
    const r = await cliProcess(['analyze', '--json', '--max-goroutines', '200000', f]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { total: number }).total, 200_000);
  });

  it('a gzip bomb past --max-bytes (decompressed)', async () => {
    const f = hostile('records', '200000');
    assert.ok(readFileSync(f).length < 1_000_000);
    assertUserError(
      await cliProcess(['analyze', '--max-bytes', '4MiB', f]),
      /more than 4194304 bytes \(after decompression\).*--max-bytes/,
    );
  });

  it('a stack deeper than --max-frames (the default: 10000)', async () => {
    const f = hostile('deep', '20000');
    assertUserError(
      await cliProcess(['analyze', f]),
      /deep-20000\.txt\.gz: more than 10000 frames in one stack.*--max-frames/,
    );
  });

  it('readSnapshot takes the caps as options and throws a LimitError naming the cap', async () => {
    const f = hostile('records', '2000');
    await assert.rejects(
      readSnapshot(f, { limits: { maxGoroutines: 1000 } }),
      (e: unknown) => e instanceof LimitError && e.limit === 'maxGoroutines' && e.value === 1000,
    );
    const s = await readSnapshot(f, { limits: { maxGoroutines: 2000 } });
    assert.equal(s.total, 2000);
  });

  it('a protobuf time past year 9999 is a warning, not an internal error', async () => {
    const f = hostile('time');
    const r = await cliProcess(['analyze', '--json', f]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { takenAt: unknown; warnings: string[] };
    assert.equal(j.takenAt, null);
    assert.ok(
      j.warnings.some((w) => /time_nanos/.test(w)),
      j.warnings.join(' | '),
    );
  });

  it('a size flag that is not a size', async () => {
    const r = await cliProcess(['analyze', '--max-bytes', 'lots', dump('anchors.debug2.txt')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--max-bytes must be a size/);
  });
});

describe('no input ends in an internal error (exit 3)', () => {
  // Real fixtures of every format, damaged the ways files get damaged: cut short, bytes
  // flipped, bytes dropped. A deterministic generator, so a failure reproduces.
  let seed = 20261201;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const plain = (f: string): Buffer => {
    const b = readFileSync(dump(f));
    return b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b;
  };
  for (const f of [
    'anchors.pb.gz',
    'shapes-labels.pb.gz',
    'anchors.leak.pb.gz',
    'anchors.debug1.txt',
    'shapes-labels.txt',
    'crash.txt',
    'ancestors.txt',
  ]) {
    it(f, async () => {
      const orig = plain(f);
      for (let k = 0; k < 40; k++) {
        const b = Buffer.from(orig);
        let damaged: Buffer;
        const how = k % 3;
        if (how === 0) damaged = b.subarray(0, 1 + rand(b.length - 1));
        else if (how === 1) {
          for (let n = 0; n < 1 + rand(8); n++) b[rand(b.length)] = rand(256);
          damaged = b;
        } else {
          const at = rand(b.length);
          damaged = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rand(64))]);
        }
        const r = await cli(['analyze', '--json', '-'], damaged);
        assert.ok(r.code <= 2, `${f}, damage ${k}: exit ${r.code}: ${r.stderr}`);
        if (r.code === 2) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
    });
  }
});

describe('bad input from a live endpoint', () => {
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!DOCTYPE html><html><body>502 Bad Gateway</body></html>');
      } else if (req.url?.startsWith('/err')) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('boom');
      } else if (req.url?.startsWith('/slow')) {
        // Never answers: the timeout must fire.
      } else if (req.url?.startsWith('/big')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('goroutine 1 [running]:\n' + 'x'.repeat(200_000));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 page not found\n');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('a base URL without net/http/pprof', async () => {
    assertUserError(await cliProcess(['analyze', base]), /no net\/http\/pprof endpoint found/);
  });
  it('an endpoint that answers 404', async () => {
    assertUserError(
      await cliProcess(['analyze', `${base}/debug/pprof/goroutine?debug=2`]),
      /answered 404/,
    );
  });
  it('an HTML error page', async () => {
    assertUserError(
      await cliProcess(['analyze', `${base}/html`]),
      /HTML page, expected a goroutine dump/,
    );
  });
  it('an HTTP 500', async () => {
    assertUserError(await cliProcess(['analyze', `${base}/err`]), /answered HTTP 500/);
  });
  it('no answer within the timeout', async () => {
    assertUserError(
      await cliProcess(['analyze', '--timeout', '1', `${base}/slow`]),
      /no answer within 1000 ms/,
    );
  });
  it('a response over the size cap', async () => {
    assertUserError(
      await cliProcess(['analyze', '--max-bytes', '1000', `${base}/big`]),
      /exceeds the 1000-byte cap/,
    );
  });
  it('nothing listening', async () => {
    assertUserError(await cliProcess(['analyze', 'http://127.0.0.1:1/']), /cannot connect/);
  });
});
