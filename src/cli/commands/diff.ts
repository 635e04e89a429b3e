import { diffSnapshots } from '../../analysis/diff.js';
import { readSnapshot } from '../../readers/index.js';
import { renderDiffJson } from '../../render/json.js';
import { renderDiffText } from '../../render/text.js';
import { COLOR, styleFor } from '../../render/style.js';
import { terminalText } from '../../render/escape.js';
import type { Command } from 'commander';
import {
  fetchOptions,
  readOptions,
  wholeNumber,
  type Cli,
  type Io,
  type ReadFlags,
} from '../context.js';

interface DiffFlags extends ReadFlags {
  json?: boolean;
  failOnGrowth?: number;
}

async function runDiff(before: string, after: string, f: DiffFlags, io: Io): Promise<number> {
  if (before === '-' && after === '-')
    throw new (await import('../../errors.js')).UserError(
      'only one of BEFORE and AFTER can be stdin',
    );
  const opts = readOptions(f, io);
  const a = await readSnapshot(before, opts);
  const b = await readSnapshot(after, opts);
  const d = diffSnapshots(a, b);
  const style = styleFor(io.stdout);
  io.stdout.write(
    f.json
      ? renderDiffJson(d)
      : terminalText(renderDiffText(d, { style, top: 0, frames: 0 }), style === COLOR),
  );
  if (f.failOnGrowth !== undefined && d.changes.some((c) => c.delta >= f.failOnGrowth!)) return 1;
  return 0;
}

export function register(program: Command, cli: Cli): void {
  fetchOptions(
    program
      .command('diff')
      .description('compare two dumps or profiles: groups that appeared, grew, shrank or vanished')
      .argument('<before>', 'the earlier dump or profile')
      .argument('<after>', 'the later dump or profile')
      .option('--json', 'print the changes as JSON')
      .option(
        '--fail-on-growth <n>',
        'exit 1 when any group grew by at least n goroutines',
        wholeNumber('--fail-on-growth'),
      ),
  ).action(async (before: string, after: string, opts: DiffFlags) => {
    cli.exit(await runDiff(before, after, opts, cli.io));
  });
}
