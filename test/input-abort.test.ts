/**
 * A read that stops early must not leave its HTTP body streaming: the request is aborted (the
 * server sees its response closed) and nothing keeps the process waiting for the timeout.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { createGzip } from 'node:zlib';
import { cli } from './helpers.js';

describe('reading a live URL', () => {
  it(
    'aborts an endless gzip body at the byte cap: the server sees the response closed',
    { timeout: 60_000 },
    async () => {
      let closed!: () => void;
      const serverSawClose = new Promise<void>((r) => (closed = r));
      const server = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const gz = createGzip();
        gz.pipe(res);
        const line = Buffer.from('goroutine 1 [chan send]:\nmain.f()\n\t/app/main.go:7 +0x1\n\n');
        const timer = setInterval(() => {
          for (let i = 0; i < 200; i++) gz.write(line);
        }, 1);
        res.on('close', () => {
          clearInterval(timer);
          closed();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/debug/pprof/goroutine?debug=2`;
      try {
        // A timeout far beyond the test's own: only the abort can end the response in time.
        const r = await cli(['analyze', '--timeout', '3600', '--max-bytes', '2000000', url]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /more than 2000000 bytes .*--max-bytes/);
        await serverSawClose;
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    },
  );

  it('refuses credentials in the URL without ever printing them', async () => {
    for (const url of ['http://bob:s3cret@127.0.0.1:1/', 'http://bob:s3cret@[::1']) {
      const r = await cli(['analyze', url]);
      assert.equal(r.code, 2);
      assert.doesNotMatch(r.stderr, /s3cret|bob/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });
});
