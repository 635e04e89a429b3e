/**
 * Package.nodes finds its common node types (declarations, specs, fields, go statements) from
 * the keywords in the code instead of walking every tree: on every file of the Go standard
 * library with its tests, the nodes must be exactly the ones a walk of the whole tree finds, in
 * the same order.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPackages } from '../src/lint/go/load.js';
import { Package } from '../src/lint/go/package.js';
import { collectIfDue } from '../src/lint/run.js';

const TYPES = [
  'function_declaration',
  'method_declaration',
  'go_statement',
  'type_spec',
  'field_declaration',
  'var_spec',
];

describe('lint: Package.nodes from keywords', () => {
  it('matches a walk of every tree on the Go standard library with tests', async () => {
    const src = join(execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim(), 'src');
    const { packages } = await loadPackages(['./...'], { cwd: src, tests: true });
    assert.ok(packages.length > 500, `${packages.length} packages`);
    let nodes = 0;
    let files = 0;
    for (const pf of packages) {
      const pkg = new Package(pf);
      const got = pkg.nodes(...TYPES);
      const want = pkg.files.flatMap((file) =>
        file.root.descendantsOfType(TYPES).map((node) => ({ file, node })),
      );
      const show = (l: typeof got) =>
        l.map(({ file, node }) => `${file.path}:${node.startIndex}:${node.type}`);
      assert.deepEqual(show(got), show(want), pf.dir);
      nodes += got.length;
      files += pkg.files.length;
      if (collectIfDue(pkg.files.length)) await new Promise((done) => setImmediate(done));
    }
    // Every kind was there to be found.
    assert.ok(files > 5000 && nodes > 100_000, `${nodes} nodes in ${files} files`);
  });
});
