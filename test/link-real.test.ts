/**
 * The link on code we did not write: hashicorp/golang-lru v2.0.7 (through the module proxy),
 * whose expirable LRU starts a cleanup goroutine per cache and never closes the channel that
 * would end it (its own comment says so). A program that makes 50 caches is dumped and linked
 * against the module's source: no lint rule knows the shape, so the report must answer the
 * ownership questions: who starts it, what ends it, and that nothing in the package closes it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyze } from '../src/analysis/suspects.js';
import { linkGroups } from '../src/link/link.js';
import { linkTextLines } from '../src/link/render.js';
import { readSnapshot } from '../src/readers/index.js';
import { PLAIN } from '../src/render/style.js';
import { noGo } from './helpers.js';

const LRU = 'github.com/hashicorp/golang-lru/v2';
const VERSION = 'v2.0.7';

const PROGRAM = `package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

func main() {
	for i := 0; i < 50; i++ {
		c := expirable.NewLRU[string, int](10, nil, time.Minute)
		c.Add("a", i)
	}
	runtime.GC()
	time.Sleep(100 * time.Millisecond)
	_ = pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
}
`;

let skip = noGo();
const tmp = mkdtempSync(join(tmpdir(), 'leakwatch-lru-'));
const env = { ...process.env, GOWORK: 'off', GOFLAGS: '-mod=mod' };
let moduleDir = '';
if (!skip) {
  writeFileSync(join(tmp, 'go.mod'), 'module example.com/lrucheck\n\ngo 1.26\n');
  writeFileSync(join(tmp, 'main.go'), PROGRAM);
  const get = spawnSync('go', ['get', `${LRU}@${VERSION}`], {
    cwd: tmp,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (get.status !== 0)
    skip = `${LRU}@${VERSION} not available through the module proxy: ${(get.stderr ?? '').trim().split('\n').pop()}`;
  else {
    const dir = spawnSync('go', ['list', '-m', '-f', '{{.Dir}}', LRU], {
      cwd: tmp,
      env,
      encoding: 'utf8',
    });
    moduleDir = dir.stdout.trim();
  }
}
if (skip) {
  console.log(`# skipping the link on golang-lru: ${skip}`);
  rmSync(tmp, { recursive: true, force: true });
}

describe(
  `${LRU}@${VERSION}: a leak no rule knows, answered from the source`,
  { skip, timeout: 180_000 },
  () => {
    let dumpFile = '';
    before(() => {
      const r = spawnSync('go', ['run', '.'], {
        cwd: tmp,
        env,
        encoding: 'utf8',
        timeout: 120_000,
        maxBuffer: 1 << 26,
      });
      assert.equal(r.status, 0, r.stderr);
      dumpFile = join(tmp, 'dump.txt');
      writeFileSync(dumpFile, r.stdout);
    });
    after(() => rmSync(tmp, { recursive: true, force: true }));

    it('links the 50 cleanup goroutines and names the channel nothing closes', async () => {
      // Linked whether or not analyze ranks the group a suspect: the link is what is tested.
      const report = analyze(await readSnapshot(dumpFile));
      const g = report.groups.find((x) => x.count === 50);
      assert.ok(g, 'the 50 goroutines are one group');
      const l = (await linkGroups(moduleDir, [g])).links.get(g)!;
      assert.equal(l.status, 'linked', l.mismatches.join('; '));
      const at = l.blocking!.code.find((x) => x.line === l.blocking!.line);
      assert.match(at?.text ?? '', /select \{/);
      assert.deepEqual(l.findings, [], 'no lint rule knows this shape');
      assert.match(l.lifetime!.startedBy!.code, /^go func\(done <-chan struct\{\}\)/);
      const done = l.lifetime!.endsBy.find((e) => e.expr === 'done');
      assert.ok(done, 'the done channel is what could end it');
      assert.equal(done.exits, true, 'its case returns');
      assert.equal(done.unreleased, true, done.ends);
      assert.match(done.ends, /nothing in package expirable closes done/);
      const ticker = l.lifetime!.endsBy.find((e) => e.expr === 'ticker.C');
      assert.equal(ticker?.unreleased, false, 'the ticker is stopped (deferred)');
      // The lines the text report shows under it.
      const text = linkTextLines(l, PLAIN).join('\n');
      assert.match(text, /no lint finding explains it/);
      assert.match(text, /what ends it done \(its case returns\)/);
    });
  },
);
