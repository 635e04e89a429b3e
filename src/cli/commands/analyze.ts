import { analyze } from '../../analysis/suspects.js';
import { readSnapshot } from '../../readers/index.js';
import { renderJson } from '../../render/json.js';
import { renderText } from '../../render/text.js';
import { styleFor } from '../../render/style.js';
import type { Io } from '../main.js';

export interface AnalyzeFlags {
  json?: boolean;
  top: number;
  frames: number;
  minCount: number;
  stuckMinutes: number;
  timeout: number;
  maxBytes: number;
}

export async function runAnalyze(input: string, f: AnalyzeFlags, io: Io): Promise<number> {
  const snapshot = await readSnapshot(input, {
    stdin: io.stdin,
    timeoutMs: f.timeout * 1000,
    maxBytes: f.maxBytes,
  });
  const report = analyze(snapshot, {
    minCount: Math.max(1, f.minCount),
    stuckMinutes: f.stuckMinutes,
  });
  io.stdout.write(
    f.json
      ? renderJson(report)
      : renderText(report, { style: styleFor(io.stdout), top: f.top, frames: f.frames }),
  );
  if (report.suspects.length > 0) return 1;
  // An input that cannot answer (a crash printed with GOTRACEBACK=single) is not a clean bill.
  return report.incomplete ? 2 : 0;
}
