#!/usr/bin/env node
// Writes hostile inputs for the readers' caps (test/bad-input-limits.test.ts runs it; nothing it
// writes is committed). Each one is small on disk and huge once read:
//
//   node testdata/scripts/hostile.mjs samples N OUT.pb.gz   protobuf goroutine profile: N identical samples
//   node testdata/scripts/hostile.mjs distinct N OUT.pb.gz  the same, each sample with its own label
//   node testdata/scripts/hostile.mjs records N OUT.txt.gz  debug=2 dump: N goroutines on one stack
//   node testdata/scripts/hostile.mjs deep N OUT.txt.gz     debug=2 dump: one goroutine, N frames
//   node testdata/scripts/hostile.mjs time OUT.pb           a tiny profile whose time_nanos is past year 9999
//
// The protobuf is written field by field after profile.proto (github.com/google/pprof), the text in
// the layout runtime.Stack prints; gzip is streamed, so N can be in the millions.
import { createWriteStream, writeFileSync } from 'node:fs';
import { createGzip } from 'node:zlib';
import { once } from 'node:events';

const [kind, a, b] = process.argv.slice(2);

function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}
const tagged = (field, wire) => varint(field * 8 + wire);
const bytesField = (field, bytes) => [...tagged(field, 2), ...varint(bytes.length), ...bytes];
const numField = (field, n) => [...tagged(field, 0), ...varint(n)];
const str = (s) => [...Buffer.from(s, 'utf8')];

/** sample_type goroutine/count, one function and location, the string table. */
function profileHead(timeNanos, extra = []) {
  const strings = ['', 'goroutine', 'count', 'main.blocked', '/src/main.go'];
  return Buffer.from([
    ...bytesField(1, [...numField(1, 1), ...numField(2, 2)]),
    ...bytesField(5, [...numField(1, 1), ...numField(2, 3), ...numField(3, 3), ...numField(4, 4)]),
    ...bytesField(4, [...numField(1, 1), ...numField(3, 0x401000), ...bytesField(4, [...numField(1, 1), ...numField(2, 7)])]),
    ...strings.flatMap((s) => bytesField(6, str(s))),
    ...(timeNanos === undefined ? [] : numField(9, timeNanos)),
    ...extra,
  ]);
}

async function gzipTo(out, write) {
  const gz = createGzip({ level: 9 });
  const file = createWriteStream(out);
  gz.pipe(file);
  const put = async (buf) => {
    if (!gz.write(buf)) await once(gz, 'drain');
  };
  await write(put);
  gz.end();
  await once(file, 'close');
}

async function distinct(n, out) {
  // label {key: "count", num: i}: the same stack, a different label set each time.
  const sample = (i) =>
    Buffer.from(
      bytesField(2, [
        ...bytesField(1, varint(1)),
        ...bytesField(2, varint(1)),
        ...bytesField(3, [...numField(1, 2), ...numField(3, i)]),
      ]),
    );
  await gzipTo(out, async (put) => {
    await put(profileHead(Date.now() * 1e6));
    const batch = [];
    for (let i = 1; i <= n; i++) {
      batch.push(sample(i));
      if (batch.length === 4096) await put(Buffer.concat(batch.splice(0)));
    }
    if (batch.length) await put(Buffer.concat(batch));
  });
}

async function samples(n, out) {
  const one = Buffer.from(bytesField(2, [...bytesField(1, varint(1)), ...bytesField(2, varint(1))]));
  const batch = Buffer.concat(Array(65536).fill(one));
  await gzipTo(out, async (put) => {
    await put(profileHead(Date.now() * 1e6));
    let left = n;
    for (; left >= 65536; left -= 65536) await put(batch);
    if (left > 0) await put(batch.subarray(0, left * one.length));
  });
}

async function records(n, out) {
  const rec = (id) =>
    `goroutine ${id} [chan send, 12 minutes]:\nmain.blocked(0xc000010000)\n\t/src/main.go:7 +0x25\ncreated by main.main in goroutine 1\n\t/src/main.go:12 +0x3c\n\n`;
  await gzipTo(out, async (put) => {
    const lines = [];
    for (let id = 1; id <= n; id++) {
      lines.push(rec(id));
      if (lines.length === 4096) await put(Buffer.from(lines.splice(0).join('')));
    }
    if (lines.length) await put(Buffer.from(lines.join('')));
  });
}

async function deep(n, out) {
  await gzipTo(out, async (put) => {
    await put(Buffer.from('goroutine 1 [running]:\n'));
    const frames = [];
    for (let i = 0; i < n; i++) {
      frames.push(`main.recurse(0x${i.toString(16)})\n\t/src/main.go:${(i % 50) + 3} +0x1d\n`);
      if (frames.length === 4096) await put(Buffer.from(frames.splice(0).join('')));
    }
    await put(Buffer.from(frames.join('') + '\n'));
  });
}

switch (kind) {
  case 'samples':
    await samples(Number(a), b);
    break;
  case 'distinct':
    await distinct(Number(a), b);
    break;
  case 'records':
    await records(Number(a), b);
    break;
  case 'deep':
    await deep(Number(a), b);
    break;
  case 'time':
    // time_nanos as a 10-byte varint with every bit set: about 2^70 ns, some 37,000 years out.
    writeFileSync(a, profileHead(undefined, [...tagged(9, 0), ...Array(9).fill(0xff), 0x7f]));
    break;
  default:
    console.error('usage: hostile.mjs samples|records|deep N OUT, or hostile.mjs time OUT');
    process.exit(2);
}
