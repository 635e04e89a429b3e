#!/usr/bin/env node
// Startup: bundles the compiled CLI (dist/src, made by tsc) into one file, dist/leakwatch.cjs,
// with esbuild (a pinned devDependency), then warms a V8 code cache for it
// (dist/leakwatch.cjs.cache). Node then reads and compiles one file, mostly from the cache,
// instead of resolving, reading and compiling some hundred ESM modules and commander's files.
// Commands stay lazy inside the bundle: esbuild turns each `await import()` into an initializer
// that runs on first use, so `analyze` still runs no code of lint, test or watch.
//
// Run by `npm run build` and `prepare` after tsc. bin/leakwatch.js uses the bundle only while it
// is newer than dist/src/cli/main.js, so a plain `tsc` rebuild is never shadowed by an old bundle;
// a cache V8 rejects (another Node version) is ignored.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'leakwatch.cjs');
rmSync(`${out}.cache`, { force: true });
// What both bundles share: Node 20, CommonJS, native addons left where npm put them.
const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'tree-sitter', 'tree-sitter-go'],
  // `await import('node:zlib')` as a require: bin/leakwatch.js runs the bundle through vm.Script,
  // which has no loader for a real dynamic import.
  supported: { 'dynamic-import': false },
  plugins: [
    {
      // Commander requires child_process when it loads, for subcommands that are executables
      // (leakwatch has none): Node's child_process, net and dgram modules would load with every
      // command. A stand-in loads it on first use.
      name: 'lazy-child-process',
      setup(b) {
        b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
          /[\\/]commander[\\/]/.test(args.importer)
            ? { path: 'child_process', namespace: 'lazy-child-process' }
            : undefined,
        );
        b.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
          contents:
            "let cp;\nmodule.exports = new Proxy({}, { get: (_, k) => (cp ??= require('node:child_process'))[k] });\n",
          loader: 'js',
        }));
      },
    },
    {
      // Modules that find files next to themselves (the dashboard's assets, demo's testdata/)
      // read import.meta.url: each gets the URL of its own compiled file under dist/src.
      name: 'import-meta-url',
      setup(b) {
        b.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          if (!text.includes('import.meta.url')) return undefined;
          const rel = JSON.stringify(relative(join(root, 'dist'), args.path));
          return {
            contents: text.replaceAll('import.meta.url', `__leakwatchUrlOf(${rel})`),
            loader: 'js',
          };
        });
      },
    },
  ],
  banner: {
    js: "const __leakwatchUrlOf = (rel) => require('node:url').pathToFileURL(require('node:path').join(__dirname, rel)).href;",
  },
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
};

await build({
  absWorkingDir: root,
  stdin: {
    contents:
      "const { main } = require('./dist/src/cli/main.js');\n" +
      'module.exports = (args) => main(args);\n',
    resolveDir: root,
    sourcefile: 'leakwatch-entry.cjs',
  },
  outfile: out,
  ...common,
});

// ASCII only, so bin/leakwatch.js reads it as latin1: a copy, where UTF-8 text would be
// checked byte by byte and, for one non-ASCII character, held two bytes per character. esbuild
// escapes strings but leaves regular expression literals as written (`µs` in gotest/run.ts).
const text = readFileSync(out, 'utf8');
const ascii = text.replace(
  /[\u0080-\uffff]/g,
  (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
);
if (ascii !== text) writeFileSync(out, ascii);

// The lint worker thread (src/lint/pool.ts) loads its own one-file bundle when it is as new as
// dist/src: each worker starts by loading the rules and tree-sitter again, so every module it
// does not have to resolve and read one by one is start-up saved per thread.
await build({
  absWorkingDir: root,
  entryPoints: [join(root, 'dist', 'src', 'lint', 'worker.js')],
  outfile: join(root, 'dist', 'lint-worker.cjs'),
  ...common,
});

// The dashboard's browser bundle (readers and analysis for "analyze a file").
await import('./browser.mjs');

// Warm the cache with real runs: V8 stores what it compiled, the analyze path included. Each run
// starts from the cache the one before wrote and writes it back with what it added, so both
// renderers (text and --json) start compiled.
const fixture = join(root, 'testdata', 'dumps', 'panic.txt');
const runs = existsSync(fixture)
  ? [
      ['analyze', fixture],
      ['analyze', '--json', fixture],
    ]
  : [['--help']];
let r;
for (const args of runs) {
  r = spawnSync(process.execPath, [join(root, 'bin', 'leakwatch.js'), ...args], {
    env: { ...process.env, LEAKWATCH_CODE_CACHE: 'write' },
    stdio: 'ignore',
  });
}
if (!existsSync(`${out}.cache`)) {
  console.error(`bundle: no code cache written (exit ${r?.status}); startup will compile instead`);
}
