import { analyze } from '../../analysis/suspects.js';
import { readSnapshot } from '../../readers/index.js';
import { renderJson } from '../../render/json.js';
import { renderText } from '../../render/text.js';
import { styleFor } from '../../render/style.js';
import type { Command } from 'commander';
import {
  fetchOptions,
  readOptions,
  wholeNumber,
  type Cli,
  type Io,
  type ReadFlags,
} from '../context.js';

interface AnalyzeFlags extends ReadFlags {
  json?: boolean;
  top: number;
  frames: number;
  minCount: number;
  stuckMinutes: number;
}

async function runAnalyze(input: string, f: AnalyzeFlags, io: Io): Promise<number> {
  const snapshot = await readSnapshot(input, readOptions(f, io));
  const report = analyze(snapshot, {
    minCount: Math.max(1, f.minCount),
    stuckMinutes: f.stuckMinutes,
  });
  io.stdout.write(
    f.json
      ? renderJson(report)
      : renderText(report, { style: styleFor(io.stdout), top: f.top, frames: f.frames }),
  );
  return report.suspects.length > 0 ? 1 : 0;
}

export function register(program: Command, cli: Cli): void {
  fetchOptions(
    program
      .command('analyze')
      .description(
        'read a goroutine dump or profile (file, "-" for stdin, or http://host:port) and name the leaks',
      )
      .argument('<input>', 'dump or profile: path, -, or a net/http/pprof URL')
      .option('--json', 'print the report as JSON (docs/json-schema.md)')
      .option('--top <n>', 'suspects shown in full', wholeNumber('--top'), 10)
      .option('--frames <n>', 'frames shown per stack (0: all)', wholeNumber('--frames'), 12)
      .option(
        '--min-count <n>',
        'smallest group that is suspect on its size alone',
        wholeNumber('--min-count'),
        10,
      )
      .option(
        '--stuck-minutes <n>',
        'minutes on a send or lock after which one goroutine is suspect',
        wholeNumber('--stuck-minutes'),
        10,
      ),
  ).action(async (input: string, opts: AnalyzeFlags) => {
    cli.exit(await runAnalyze(input, opts, cli.io));
  });
}
