/**
 * Reader for the counted text profile: `/debug/pprof/goroutine?debug=1` and
 * `/debug/pprof/goroutineleak?debug=1`. One record per distinct stack (and label set), with a
 * count; no goroutine ids, states or wait times, and pprof hides the leading runtime frames, so
 * the blocking call itself (chansend, selectgo) is not visible here.
 */
import { detach, fromLatin1, StackInterner } from '../model/intern.js';
import type { Frame } from '../model/frame.js';
import type { Goroutine, ProfileKind, Snapshot } from '../model/snapshot.js';
import { forEachLine } from '../input/lines.js';
import { UserError } from '../errors.js';
import { LimitError, type Limits } from '../input/limits.js';

const HEADER = /^(goroutine|goroutineleak) profile: total (\d+)\s*$/;

/** True when the text starts (after blank lines) with a counted-profile header. */
export function isDebug1(head: string): boolean {
  const first = head.replace(/^\uFEFF?\s*/, '').split('\n', 1)[0] ?? '';
  return HEADER.test(first.replace(/\r$/, ''));
}

export async function readDebug1(
  source: string,
  chunks: AsyncIterable<Buffer>,
  limits: Limits,
  takenAt?: Date,
): Promise<Snapshot> {
  const interner = new StackInterner();
  const goroutines: Goroutine[] = [];
  const warnings: string[] = [];
  let profile: ProfileKind | undefined;
  let declared = -1;
  let count = 0;
  let labels: Record<string, string> | undefined;
  let frames: Frame[] = [];
  let inRecord = false;
  let lineNo = 0;

  const flush = (): void => {
    if (!inRecord) return;
    const g: { -readonly [K in keyof Goroutine]: Goroutine[K] } = {
      count,
      state: '',
      leaked: profile === 'goroutineleak',
      lockedToThread: false,
      stackUnavailable: false,
      stack: interner.stack(frames, undefined, 0),
    };
    if (labels) g.labels = labels;
    goroutines.push(g);
    inRecord = false;
    frames = [];
    labels = undefined;
  };

  await forEachLine(chunks, {
    line: (raw) => {
      lineNo++;
      const line = raw.trimEnd();
      if (profile === undefined) {
        if (line === '' || line === '\uFEFF') return;
        const m = HEADER.exec(line.replace(/^\uFEFF/, ''));
        if (!m)
          throw new UserError(`${source}: line ${lineNo}: expected "goroutine profile: total N"`);
        profile = m[1] === 'goroutineleak' ? 'goroutineleak' : 'goroutine';
        declared = Number(m[2]);
        return;
      }
      if (line === '') {
        flush();
        return;
      }
      if (line.startsWith('# labels: ')) {
        labels = parseLabelMap(fromLatin1(line.slice(10)));
        return;
      }
      if (line.startsWith('#')) {
        // `#\t0xADDR\tpkg.F+0xOFF\t\t\t/path/file.go:LINE`; a frame without a symbol is `#\t0xADDR`.
        const cols = line.split(/\t+/);
        const fn = cols[2];
        const pos = cols[3];
        if (fn === undefined || pos === undefined) return;
        if (frames.length >= limits.maxFrames)
          throw new LimitError(source, 'maxFrames', limits.maxFrames);
        const plus = fn.lastIndexOf('+0x');
        const colon = pos.lastIndexOf(':');
        frames.push(
          interner.frame(
            plus > 0 ? fn.slice(0, plus) : fn,
            colon > 0 ? pos.slice(0, colon) : pos,
            colon > 0 ? Number(pos.slice(colon + 1)) : 0,
          ),
        );
        return;
      }
      const at = line.indexOf(' @');
      const n = at > 0 ? Number(line.slice(0, at)) : NaN;
      if (Number.isInteger(n)) {
        flush();
        if (goroutines.length >= limits.maxGoroutines)
          throw new LimitError(source, 'maxGoroutines', limits.maxGoroutines);
        inRecord = true;
        count = n;
        return;
      }
      warnings.push(`line ${lineNo}: skipped, not part of a counted profile: ${line.slice(0, 60)}`);
    },
  });
  flush();
  if (profile === undefined)
    throw new UserError(`${source}: input is empty, expected a goroutine profile`);
  let total = 0;
  for (const g of goroutines) total += g.count;
  if (declared >= 0 && total !== declared) {
    warnings.push(
      `header says ${declared} goroutines but the records add up to ${total} (cut off?)`,
    );
  }
  return {
    source,
    format: 'debug1',
    profile,
    takenAt,
    total,
    goroutines,
    leakDetection: profile === 'goroutineleak',
    warnings,
  };
}

/** `{"k":"v", "k2":"v2"}`: labels as runtime/pprof's labelMap.String writes them (Go-quoted). */
function parseLabelMap(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /"((?:[^"\\]|\\.)*)"\s*:\s*"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out[detach(unquote(m[1] ?? ''))] = detach(unquote(m[2] ?? ''));
  }
  return out;
}

function unquote(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  try {
    return JSON.parse(`"${s.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')}"`) as string;
  } catch {
    return s;
  }
}
