/**
 * The traceback reader counts goroutines (a record per stack and header, ids in runs) and skips
 * the lines of a goroutine whose lines equal the last one's. Both are shortcuts: each test here
 * holds them against the plain way on real dumps (testdata/dumps) and on the committed hostile
 * generator's output.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { analyze } from '../src/analysis/suspects.js';
import type { Goroutine, Snapshot } from '../src/model/snapshot.js';
import { readSnapshot } from '../src/readers/index.js';
import { TracebackParser, tracebackSnapshot } from '../src/readers/traceback.js';
import { renderJson } from '../src/render/json.js';
import { dump, DUMPS, ROOT } from './helpers.js';

const bytes = (name: string): Buffer => {
  const b = readFileSync(dump(name));
  return name.endsWith('.gz') ? gunzipSync(b) : b;
};

/** Read through `feed` in chunks (the shortcut can fire) or line by line (it cannot). */
function parse(b: Buffer, how: 'chunks' | 'lines'): TracebackParser {
  const p = new TracebackParser();
  if (how === 'chunks')
    for (let i = 0; i < b.length; i += 1 << 18) p.feed(b.subarray(i, i + (1 << 18)));
  else for (const l of b.toString('latin1').split('\n')) p.line(l.replace(/\r$/, ''));
  return p;
}

/** What the model says of one goroutine, as text. */
const describeG = (g: Goroutine): string =>
  [
    g.id,
    g.state,
    g.waitMinutes,
    g.leaked,
    g.lockedToThread,
    g.parentId,
    JSON.stringify(g.labels ?? null),
    g.stack.key,
    g.ancestors?.length ?? 0,
  ].join('|');

/** Traceback fixtures among the committed dumps (not debug=1, not protobuf). */
const tracebacks = readdirSync(DUMPS).filter(
  (f) => !/\.pb\.gz$|debug1/.test(f) && f !== 'notify-leaky-50847.debug2.txt.gz',
);

describe('traceback reader: the equal-body shortcut', () => {
  it('reads every committed dump exactly as the line-by-line parse does', () => {
    let shortcuts = 0;
    for (const f of tracebacks) {
      const fast = parse(bytes(f), 'chunks');
      const slow = parse(bytes(f), 'lines');
      const a = fast.finish();
      const b = slow.finish();
      assert.equal(slow.shortcuts, 0, 'line by line never takes it');
      assert.deepEqual(a.goroutines.map(describeG), b.goroutines.map(describeG), f);
      assert.deepEqual(a.warnings, b.warnings, f);
      shortcuts += fast.shortcuts;
    }
    assert.ok(shortcuts > 100, `the shortcut was taken (${shortcuts} times)`);
  });

  it('a goroutine that differs only in an argument joins its group; one that differs in a frame does not', () => {
    const text = bytes('anchors.debug2.txt').toString('latin1');
    // Three goroutines in a row with the same lines after the header, from the real dump.
    const blocks = text.split('\n\n');
    let at = -1;
    for (let i = 0; i + 2 < blocks.length && at < 0; i++) {
      const body = (k: number): string => blocks[k]!.slice(blocks[k]!.indexOf('\n'));
      if (body(i) === body(i + 1) && body(i) === body(i + 2) && /\(0x[0-9a-f]+/.test(body(i)))
        at = i;
    }
    assert.ok(at >= 0, 'the dump has three equal goroutines whose frames print arguments');
    const id = (k: number): number => Number(/^goroutine (\d+)/.exec(blocks[k]!)![1]);
    const [a, b, c] = [id(at), id(at + 1), id(at + 2)];
    // b: another pointer in the first argument; c: the first position line one line further.
    blocks[at + 1] = blocks[at + 1]!.replace(/\(0x[0-9a-f]+/, '(0xdeadbeef');
    blocks[at + 2] = blocks[at + 2]!.replace(/\n\t([^\n]*):(\d+)/, (_m, f: string, n: string) => {
      return `\n\t${f}:${Number(n) + 1}`;
    });
    const p = parse(Buffer.from(blocks.join('\n\n'), 'latin1'), 'chunks');
    const s = tracebackSnapshot('edited', p.finish(), 'goroutine');
    const g = (n: number): Goroutine => s.goroutines.find((x) => x.id === n)!;
    assert.equal(g(b).stack, g(a).stack, 'an argument is not part of the stack');
    assert.notEqual(g(c).stack, g(a).stack, 'another line is another stack');
    assert.equal(g(c).stack.frames[0]!.line, g(a).stack.frames[0]!.line + 1);
    assert.ok(p.shortcuts > 0);
  });
});

describe('traceback reader: the shortcut around arguments and the parent id', () => {
  // The first goroutines of the real 50,847-goroutine dump: groups printed interleaved, whose
  // goroutines differ in argument values and in the parent id of `created by ... in goroutine N`.
  const text = bytes('notify-leaky-50847.debug2.txt.gz').toString('latin1');
  const blocks = text.split('\n\n').slice(0, 3000);
  const read = (bs: string[], how: 'chunks' | 'lines'): TracebackParser =>
    parse(Buffer.from(bs.join('\n\n') + '\n', 'latin1'), how);
  const same = (bs: string[], what: string): TracebackParser => {
    const fast = read(bs, 'chunks');
    const slow = read(bs, 'lines');
    const a = fast.finish();
    const b = slow.finish();
    assert.deepEqual(a.goroutines.map(describeG), b.goroutines.map(describeG), what);
    assert.deepEqual(a.warnings, b.warnings, what);
    return fast;
  };
  const idOf = (block: string): number => Number(/^goroutine (\d+)/.exec(block)![1]);

  it('takes it for nearly every goroutine of the dump, each with its own parent', () => {
    const p = same(blocks, 'unedited');
    assert.ok(p.shortcuts > 2900, `shortcuts: ${p.shortcuts}`);
    const s = tracebackSnapshot('x', read(blocks, 'chunks').finish(), 'goroutine');
    const parents = new Set(s.goroutines.map((g) => g.parentId));
    assert.ok(parents.size > 100, `${parents.size} distinct parents`);
  });

  it('a changed parent id, argument list or header is read from the goroutine itself', () => {
    // Goroutines k and k+1 print the same lines but for their arguments and parent.
    const k = blocks.findIndex(
      (b, i) =>
        i > 10 && /\(0x/.test(b) && / in goroutine \d+\n/.test(b) && b.split('\n').length === 5,
    );
    assert.ok(k > 0);
    const edited = [...blocks];
    const g = edited[k]!;
    edited[k] = g
      .replace(/ in goroutine \d+\n/, ' in goroutine 1234567890\n')
      .replace(/\(0x[^\n]*\)\n/, '(0x1, {0x2, 0x3}, 0x4, 0x5)\n')
      .replace(/ \[([a-z ]+)[^\]]*\]:/, ' [$1, 42 minutes]:');
    const s = tracebackSnapshot('x', same(edited, 'edited').finish(), 'goroutine');
    const got = s.goroutines.find((x) => x.id === idOf(g))!;
    assert.equal(got.parentId, 1234567890);
    assert.equal(got.waitMinutes, 42);
    const before = tracebackSnapshot('x', read(blocks, 'chunks').finish(), 'goroutine');
    assert.equal(
      got.stack.key,
      before.goroutines.find((x) => x.id === idOf(g))!.stack.key,
      'arguments are not part of the stack',
    );
  });

  it('an argument list of the same length that holds a line end or a parenthesis is parsed', () => {
    // One late in the dump, so that goroutines with its header and lines came before it.
    let k = blocks.length - 1;
    while (!/\(0x[0-9a-f]{4,}/.test(blocks[k]!)) k--;
    for (const c of ['\n', '\r', '(']) {
      const edited = [...blocks];
      // Overwrite the 3rd character after the `(` (a hex digit): the same length.
      edited[k] = edited[k]!.replace(/\((0x)[0-9a-f]/, `($1${c}`);
      assert.notEqual(edited[k], blocks[k]);
      same(edited, JSON.stringify(c));
    }
  });

  it('matches the line-by-line parse whatever one byte of a body is changed to', () => {
    // A small generator (deterministic) picks goroutines and a byte in their lines, and puts
    // there what could fool a shortcut: a parenthesis, a line end, a digit, a space, a letter.
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const swaps = ['(', ')', '\n', '\r', '0', '9', ' ', '\t', 'x', '.', ':', '+'];
    for (let round = 0; round < 40; round++) {
      const edited = [...blocks];
      for (let e = 0; e < 20; e++) {
        const k = 1 + rand(edited.length - 1);
        const b = edited[k]!;
        const nl = b.indexOf('\n');
        if (nl < 0) continue;
        const at = nl + 1 + rand(b.length - nl - 1);
        edited[k] = b.slice(0, at) + swaps[rand(swaps.length)]! + b.slice(at + 1);
      }
      same(edited, `round ${round}`);
    }
  });
});

describe('traceback reader: goroutines counted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-counted-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a dump of identical goroutines is one record and one run, whatever their number', async () => {
    const out = join(dir, 'identical.txt.gz');
    const r = spawnSync(
      'node',
      [join(ROOT, 'testdata/scripts/hostile.mjs'), 'records', '20000', out],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const s = await readSnapshot(out);
    assert.equal(s.total, 20000);
    // What memory grows with: records and runs, not goroutines.
    assert.equal(s.counted!.records.length, 1);
    assert.equal(s.counted!.runs, 1);
    const report = analyze(s);
    const g = report.groups[0]!;
    assert.equal(g.count, 20000);
    assert.equal(g.ids.length, 50, 'the first ids are listed');
    assert.deepEqual(g.parents, [1]);
    assert.equal(g.parentCount, 1);
    assert.equal(report.suspects[0]?.group, g);
  });

  it('the analysis of every committed dump is the same from the counts as from one object per goroutine', async () => {
    for (const f of [...tracebacks, 'notify-leaky-50847.debug2.txt.gz']) {
      const s = await readSnapshot(dump(f));
      assert.ok(s.counted, f);
      // The same snapshot without the counts: analyses fall back to one record per goroutine.
      const plain: Snapshot = { ...s, goroutines: s.goroutines, counted: undefined };
      assert.equal(renderJson(analyze(s)), renderJson(analyze(plain)), f);
      assert.ok(s.counted.runs <= s.total, f);
    }
  });
});
