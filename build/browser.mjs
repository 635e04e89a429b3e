#!/usr/bin/env node
// The dashboard's "analyze a file" script: leakwatch's readers, analysis and text/JSON renderers
// bundled for the browser by esbuild (a pinned devDependency) into dist/browser/analyze.js,
// served as /ui/assets/analyze.js. The readers name Node's global `Buffer`: esbuild injects
// src/dashboard/browser/buffer.ts in its place; gzip is the browser's DecompressionStream. A
// Node module reaching the bundle fails the build (platform browser, nothing external).
//
// Run by `npm run build` (from build/bundle.mjs); alone: `node build/browser.mjs`. Prints the
// bundle's size with --sizes.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'browser', 'analyze.js');
await build({
  absWorkingDir: root,
  entryPoints: [join(root, 'src', 'dashboard', 'browser', 'analyze.ts')],
  outfile: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16.4'],
  inject: [join(root, 'src', 'dashboard', 'browser', 'buffer.ts')],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
if (process.argv.includes('--sizes')) {
  const b = readFileSync(out);
  console.log(`dist/browser/analyze.js: ${b.length} bytes, ${gzipSync(b).length} gzipped`);
}
