#!/usr/bin/env node
// The published entry point. Startup is most of a small command's time, so this file loads as
// little as it can, and is CommonJS (bin/package.json) so Node does not start its ESM loader for
// it: `--version` reads package.json and nothing else; every other command runs from the
// one-file bundle (dist/leakwatch.cjs, made by `npm run build`) compiled from its V8 code cache,
// or, when the bundle is missing or older than the tsc output, from dist/src.
'use strict';
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
const dist = join(__dirname, '..', 'dist');

if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
} else {
  const run = async () => {
    const main = bundled() ?? (await import('../dist/src/cli/main.js')).main;
    process.exitCode = await main(args);
  };
  void run();
}

/** The bundle's main, or undefined when there is no bundle as new as dist/src. */
function bundled() {
  const file = join(dist, 'leakwatch.cjs');
  let source;
  try {
    if (statSync(file).mtimeMs < statSync(join(dist, 'src', 'cli', 'main.js')).mtimeMs)
      return undefined;
    // build/bundle.mjs writes it in ASCII: latin1 reads it as it is, without decoding UTF-8.
    source = readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
  let cache;
  try {
    cache = readFileSync(`${file}.cache`);
  } catch {
    // No cache: compile from source.
  }
  const vm = require('node:vm');
  const Module = require('node:module');
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData: cache });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(file), module, file, dist);
  if (process.env.LEAKWATCH_CODE_CACHE === 'write') {
    // After the run, so the cache holds the functions it compiled, not just the top level.
    process.once('beforeExit', () => writeFileSync(`${file}.cache`, script.createCachedData()));
  }
  return module.exports;
}
