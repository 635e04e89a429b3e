import { diffSnapshots } from '../../analysis/diff.js';
import { readSnapshot } from '../../readers/index.js';
import { renderDiffJson } from '../../render/json.js';
import { renderDiffText } from '../../render/text.js';
import { styleFor } from '../../render/style.js';
import type { Io } from '../main.js';

export interface DiffFlags {
  json?: boolean;
  failOnGrowth?: number;
  timeout: number;
  maxBytes: number;
}

export async function runDiff(
  before: string,
  after: string,
  f: DiffFlags,
  io: Io,
): Promise<number> {
  if (before === '-' && after === '-')
    throw new (await import('../../errors.js')).UserError(
      'only one of BEFORE and AFTER can be stdin',
    );
  const opts = { stdin: io.stdin, timeoutMs: f.timeout * 1000, maxBytes: f.maxBytes };
  const a = await readSnapshot(before, opts);
  const b = await readSnapshot(after, opts);
  const d = diffSnapshots(a, b);
  io.stdout.write(
    f.json
      ? renderDiffJson(d)
      : renderDiffText(d, { style: styleFor(io.stdout), top: 0, frames: 0 }),
  );
  if (f.failOnGrowth !== undefined && d.changes.some((c) => c.delta >= f.failOnGrowth!)) return 1;
  return 0;
}
