import { analyze } from '../../analysis/suspects.js';
import { readSnapshot } from '../../readers/index.js';
import { renderJson } from '../../render/json.js';
import { renderText } from '../../render/text.js';
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
  const style = styleFor(io.stdout);
  io.stdout.write(
    f.json
      ? renderJson(report)
      : terminalText(renderText(report, { style, top: f.top, frames: f.frames }), style === COLOR),
  );
  if (report.suspects.length > 0) return 1;
  // An input that cannot answer (a crash printed with GOTRACEBACK=single) is not a clean bill.
  return report.incomplete ? 2 : 0;
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
        'smallest group waiting for work, started per request or connection, that is suspect on its size',
        wholeNumber('--min-count'),
        10,
      )
      .option(
        '--stuck-minutes <n>',
        'minutes in a receive, select or Cond.Wait in your code, its starter gone, that make one goroutine suspect',
        wholeNumber('--stuck-minutes'),
        10,
      ),
  ).action(async (input: string, opts: AnalyzeFlags) => {
    cli.exit(await runAnalyze(input, opts, cli.io));
  });
}
