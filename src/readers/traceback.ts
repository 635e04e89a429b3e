/**
 * Reader for full goroutine tracebacks: `runtime.Stack(buf, true)`, `/debug/pprof/goroutine?debug=2`
 * (and the goroutineleak profile at debug=2), panics, `fatal error: ... deadlock!`, SIGQUIT dumps,
 * GOTRACEBACK=system/crash output, and such dumps embedded in longer logs (go test output,
 * container logs whose every line carries a timestamp prefix, CRLF files).
 *
 * The parser is a line-at-a-time state machine so it can stream: it never needs the whole input.
 * It is forgiving on input (junk lines between and inside goroutines are skipped) and exact on
 * output (what it does record is what the runtime printed).
 */
import type { CreationSite, Frame } from '../model/frame.js';
import { detach, fromLatin1, StackInterner, type StackNode } from '../model/intern.js';
import type { Goroutine, ProfileKind, Snapshot, Stack } from '../model/snapshot.js';
import { DEFAULT_LIMITS, LimitError, type Limits } from '../input/limits.js';

/** Flags the runtime appends to the status inside the brackets; not part of the wait reason. */
const STATUS_FLAGS = [' (leaked)', ' (scan)', ' (durable)'];

/** What the header line of one goroutine says besides its id (shared by equal headers). */
export interface Header {
  stackUnavailable?: boolean;
  state: string;
  leaked: boolean;
  waitMinutes?: number;
  lockedToThread: boolean;
  synctestBubble?: number;
  labels?: Record<string, string>;
}

export interface TracebackResult {
  goroutines: Goroutine[];
  warnings: string[];
  /** At least one goroutine carried the runtime's `(leaked)` verdict. */
  sawLeakedMark: boolean;
}

/**
 * Parses the header `goroutine 7 [chan send (leaked), 3 minutes, locked to thread]:` and its
 * variants (`gp= m= mp=` before the bracket with GOTRACEBACK=system, ` labels:{...}` inside it
 * with GODEBUG=tracebacklabels=1). Returns undefined when the line is not a header, and the
 * offset where `goroutine ` starts so a log prefix before it can be learnt.
 */
export function parseHeader(line: string, from = 0): (Header & { id: number }) | undefined {
  const id = headerId(line, from);
  if (id < 0) return undefined;
  const h = headerInfo(line, from);
  return h && { ...h, id };
}

/** The goroutine id of a header line starting at `from`, or -1 if it is not a header. */
function headerId(line: string, from: number): number {
  if (!line.startsWith('goroutine ', from)) return -1;
  let i = from + 10;
  const idStart = i;
  let id = 0;
  for (let c = line.charCodeAt(i); isDigit(c); c = line.charCodeAt(++i)) id = id * 10 + c - 48;
  return i === idStart ? -1 : id;
}

/**
 * The rest of a header whose id `headerId` accepted. Equal bracket texts (`chan send, 5
 * minutes`) repeat across thousands of goroutines, so with a cache each is parsed once and the
 * same object returned.
 */
function headerInfo(line: string, from: number, cache?: Map<string, Header>): Header | undefined {
  let i = from + 10;
  while (isDigit(line.charCodeAt(i))) i++;
  const open = line.indexOf(' [', i);
  if (open < 0 || !line.endsWith(']:')) return undefined;
  // Between the id and the bracket only `gp=... m=... mp=...` may appear.
  if (open !== i && !line.startsWith(' gp=', i)) return undefined;
  let body = line.slice(open + 2, line.length - 2);
  const cached = cache?.get(body);
  if (cached !== undefined) return cached;
  const cacheKey = body;

  let labels: Record<string, string> | undefined;
  const lab = body.indexOf(' labels:{');
  if (lab >= 0) {
    labels = parseLabels(body.slice(lab + 9, body.lastIndexOf('}')));
    body = body.slice(0, lab);
  }
  const parts = body.split(', ');
  let state = parts[0] ?? '';
  let leaked = false;
  for (const flag of STATUS_FLAGS) {
    const at = state.indexOf(flag);
    if (at >= 0) {
      if (flag === ' (leaked)') leaked = true;
      state = state.slice(0, at) + state.slice(at + flag.length);
    }
  }
  if (state === 'leaked') leaked = true;
  const h: Header = { state, leaked, lockedToThread: false };
  if (labels) h.labels = internLabels(labels);
  for (let k = 1; k < parts.length; k++) {
    const p = parts[k] ?? '';
    if (p.endsWith(' minutes')) h.waitMinutes = Number(p.slice(0, -8));
    else if (p === 'locked to thread') h.lockedToThread = true;
    else if (p.startsWith('synctest bubble ')) h.synctestBubble = Number(p.slice(16));
  }
  h.state = fromLatin1(h.state);
  if (cache !== undefined && cache.size < 10_000) cache.set(detach(cacheKey), h);
  return h;
}

/** Label keys and values copied out of the chunk they were sliced from. */
function internLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[detach(k)] = detach(v);
  return out;
}

/**
 * One goroutine of a traceback, kept small: what its header says lives in one object shared by
 * every goroutine with the same header text, so 50,000 goroutines in `chan send` carry an id,
 * two references and a parent id each.
 */
export class TracebackGoroutine implements Goroutine {
  ancestors: Goroutine['ancestors'] = undefined;
  constructor(
    readonly id: number,
    private readonly info: Header,
    readonly stack: Stack,
    readonly parentId: number | undefined,
  ) {}
  get count(): number {
    return 1;
  }
  get state(): string {
    return this.info.state;
  }
  get leaked(): boolean {
    return this.info.leaked;
  }
  get waitMinutes(): number | undefined {
    return this.info.waitMinutes;
  }
  get lockedToThread(): boolean {
    return this.info.lockedToThread;
  }
  get synctestBubble(): number | undefined {
    return this.info.synctestBubble;
  }
  get stackUnavailable(): boolean {
    return this.info.stackUnavailable === true;
  }
  get labels(): Readonly<Record<string, string>> | undefined {
    return this.info.labels;
  }
}

/** Parses `"k": "v", "k2": "v 2"` as the runtime prints labels (always quoted, Go escapes). */
export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const readString = (): string | undefined => {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] !== '"') {
      // Unquoted (older proposals printed bare words): read up to ':' or ','.
      const start = i;
      while (i < text.length && text[i] !== ':' && text[i] !== ',') i++;
      return i > start ? text.slice(start, i).trim() : undefined;
    }
    i++;
    let s = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        const c = text[i + 1];
        if (c === 'n') s += '\n';
        else if (c === 'r') s += '\r';
        else if (c === 't') s += '\t';
        else if (c === 'x') {
          s += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
          i += 2;
        } else if (c === 'u') {
          s += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 4;
        } else if (c === 'U') {
          s += String.fromCodePoint(parseInt(text.slice(i + 2, i + 10), 16));
          i += 8;
        } else s += c ?? '';
        i += 2;
      } else s += text[i++];
    }
    i++;
    return s;
  };
  while (i < text.length) {
    const k = readString();
    if (k === undefined) break;
    while (text[i] === ' ') i++;
    if (text[i] !== ':') break;
    i++;
    const v = readString();
    if (v === undefined) break;
    out[k] = v;
  }
  return out;
}

/**
 * Splits a frame's function line `pkg.(*T).M[...](0xc000, ...)` into the name, dropping the
 * arguments. Returns undefined when the line does not end in an argument list.
 */
export function functionName(line: string): string | undefined {
  if (line.charCodeAt(line.length - 1) !== 41 /* ) */) return undefined;
  // Arguments are hex words, `...`, `{...}` and `?` marks, never parentheses, so the last `(`
  // opens the argument list even in `pkg.(*T).M(...)`.
  const open = line.lastIndexOf('(');
  if (open <= 0) return undefined;
  const name = line.slice(0, open);
  // A function name has no spaces; a sentence in a log line does.
  return name.indexOf(' ') < 0 ? name : undefined;
}

/** Parses a position line `\t/path/f.go:12 +0x1d fp=.. sp=.. pc=..` (tab already checked). */
export function parsePosition(line: string): { file: string; line: number } | undefined {
  let end = line.length;
  const fp = line.indexOf(' fp=');
  if (fp >= 0) end = fp;
  const off = line.lastIndexOf(' +0x', end);
  if (off >= 0) end = off;
  const colon = line.lastIndexOf(':', end);
  if (colon <= 1) return undefined;
  const n = Number(line.slice(colon + 1, end));
  if (!Number.isInteger(n)) return undefined;
  return { file: line.slice(1, colon), line: n };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Learns the log prefix a dump is wrapped in (`2026-11-28T08:00:00.1Z stderr F `) from the
 * first header line, as a pattern where every run of digits may vary, so later lines with other
 * timestamps are unwrapped too.
 */
function prefixPattern(prefix: string): RegExp {
  const src = prefix
    .split(/\d+/)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('\\d+');
  return new RegExp(`^${src}`);
}

/** Fields that carry the logged text in JSON log lines (docker json-file, go test -json, slog). */
const JSON_TEXT_FIELDS = ['log', 'Output', 'msg', 'message'];

/** The text of a JSON log line, without its trailing newline; undefined if it is not one. */
export function unwrapJsonLine(line: string): string | undefined {
  if (line.charCodeAt(line.length - 1) !== 125 /* } */) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof obj !== 'object' || obj === null) return undefined;
  for (const k of JSON_TEXT_FIELDS) {
    const v = (obj as Record<string, unknown>)[k];
    if (typeof v === 'string') return v.replace(/\r?\n$/, '');
  }
  return undefined;
}

const enum Mode {
  /** Between goroutines: looking for a header. */
  Outside,
  /** In a goroutine's frames; `pendingFunc` holds a function line awaiting its position. */
  Frames,
  /** After `created by`, awaiting its position line. */
  CreatedBy,
  /** Inside an ancestor block (`[originating from goroutine N]:`). */
  Ancestor,
}

/**
 * The streaming state machine. Feed lines with `line()`, then call `finish()`.
 */
export class TracebackParser {
  private readonly interner = new StackInterner();
  readonly goroutines: Goroutine[] = [];
  readonly warnings: string[] = [];
  sawLeakedMark = false;

  private mode = Mode.Outside;
  private readonly headers = new Map<string, Header>();
  private readonly ids = new Set<number>();
  private repeatedIds = 0;
  /** Position line text → the frame last seen there: skips re-parsing the same position. */
  private readonly positions = new Map<string, Frame>();
  private header: Header | undefined;
  private headerId = 0;
  private node: StackNode;
  private pendingFunc: string | undefined;
  private createdFunc: string | undefined;
  private createdBy: CreationSite | undefined;
  private parentId: number | undefined;
  private elided = 0;
  private unavailable = false;
  private ancestors: { id: number; frames: Frame[] }[] = [];
  private ancestorFrames: Frame[] | undefined;

  private prefix: RegExp | undefined;
  private prefixLen = -1;
  private lineNo = 0;
  /**
   * Lines inside goroutine blocks that are not frames: register dumps after a crash, `FAIL` lines
   * of go test, other writers' log lines. Expected, so counted (for debugging) but not warned.
   */
  skipped = 0;
  private skipPosition = false;
  /** Frames of the current goroutine, its ancestors' included: capped by maxFrames. */
  private frameCount = 0;

  constructor(
    private readonly source = 'input',
    private readonly limits: Limits = DEFAULT_LIMITS,
  ) {
    this.node = this.interner.root;
  }

  line(raw: string): void {
    this.lineNo++;
    let line = raw;
    if (line.charCodeAt(0) === 123 /* { */) {
      // Docker's json-file logs and `go test -json` wrap each line in a JSON object.
      const inner = unwrapJsonLine(line);
      if (inner !== undefined) line = inner;
    }
    if (this.prefixLen > 0) {
      // Strip the learnt log prefix; lines without it are other log output.
      const m = this.prefix!.exec(line);
      if (m) line = line.slice(m[0].length);
      else {
        this.endGoroutine();
        this.prefixLen = -1;
        this.prefix = undefined;
      }
    }
    if (line.length === 0) {
      this.endGoroutine();
      return;
    }
    const c0 = line.charCodeAt(0);
    if (c0 === 103 /* g */ && line.startsWith('goroutine ')) {
      const id = headerId(line, 0);
      const h = id >= 0 ? headerInfo(line, 0, this.headers) : undefined;
      if (h) {
        this.startGoroutine(id, h);
        return;
      }
      if (line.startsWith('goroutine running on other thread')) {
        this.unavailable = true;
        return;
      }
    }
    if (this.mode === Mode.Outside) {
      this.lookForWrappedHeader(line);
      return;
    }
    if (c0 === 9 /* \t */) {
      this.position(line);
      return;
    }
    this.other(line);
  }

  /** A header not at column 0: learn the prefix in front of it (log timestamps, `[pod] `). */
  private lookForWrappedHeader(line: string): void {
    const at = line.indexOf('goroutine ');
    if (at <= 0 || !line.endsWith(']:')) return;
    const id = headerId(line, at);
    const h = id >= 0 ? headerInfo(line, at, this.headers) : undefined;
    if (!h) return;
    const prefix = line.slice(0, at);
    this.prefix = prefixPattern(prefix);
    this.prefixLen = at;
    this.startGoroutine(id, h);
  }

  private startGoroutine(id: number, h: Header): void {
    this.endGoroutine();
    if (this.goroutines.length >= this.limits.maxGoroutines)
      throw new LimitError(this.source, 'maxGoroutines', this.limits.maxGoroutines);
    // Ids are unique within one dump: a repeat means the input holds several dumps.
    const before = this.ids.size;
    this.ids.add(id);
    if (this.ids.size === before) this.repeatedIds++;
    this.header = h;
    this.headerId = id;
    this.mode = Mode.Frames;
    if (h.leaked) this.sawLeakedMark = true;
  }

  private position(line: string): void {
    if (this.ancestorFrames === undefined) {
      // Fast path: a position line seen before, under the same function.
      const known = this.positions.get(line);
      if (known !== undefined) {
        if (known.func === this.pendingFunc) {
          if (++this.frameCount > this.limits.maxFrames)
            throw new LimitError(this.source, 'maxFrames', this.limits.maxFrames);
          this.node = this.interner.child(this.node, known);
          this.pendingFunc = undefined;
          return;
        }
        if (this.mode === Mode.CreatedBy && known.func === this.createdFunc) {
          this.createdBy = known;
          this.createdFunc = undefined;
          this.mode = Mode.Frames;
          return;
        }
      }
    }
    if (line.startsWith('\tgoroutine running on other thread')) {
      this.unavailable = true;
      return;
    }
    if (this.skipPosition) {
      this.skipPosition = false;
      return;
    }
    const pos = parsePosition(line);
    if (!pos) {
      this.skipped++;
      return;
    }
    if (this.mode === Mode.CreatedBy && this.createdFunc !== undefined) {
      this.createdBy = this.interner.frame(this.createdFunc, pos.file, pos.line);
      if (this.positions.size < 1_000_000) this.positions.set(detach(line), this.createdBy);
      this.createdFunc = undefined;
      if (this.ancestorFrames === undefined) this.mode = Mode.Frames;
      return;
    }
    if (this.pendingFunc === undefined) {
      this.skipped++;
      return;
    }
    const f = this.interner.frame(this.pendingFunc, pos.file, pos.line);
    this.pendingFunc = undefined;
    if (++this.frameCount > this.limits.maxFrames)
      throw new LimitError(this.source, 'maxFrames', this.limits.maxFrames);
    if (this.ancestorFrames !== undefined) this.ancestorFrames.push(f);
    else {
      this.node = this.interner.child(this.node, f);
      if (this.positions.size < 1_000_000) this.positions.set(detach(line), f);
    }
  }

  private other(line: string): void {
    if (line.startsWith('created by ')) {
      let name = line.slice(11);
      const inG = name.indexOf(' in goroutine ');
      if (inG >= 0) {
        if (this.ancestorFrames === undefined) this.parentId = Number(name.slice(inG + 14));
        name = name.slice(0, inG);
      }
      if (this.ancestorFrames !== undefined) {
        // Creation sites of ancestors are context, not the goroutine's own; skip the position.
        this.createdFunc = undefined;
        this.pendingFunc = undefined;
        this.skipPosition = true;
        return;
      }
      this.createdFunc = name;
      this.mode = Mode.CreatedBy;
      return;
    }
    if (line.startsWith('...')) {
      // `...N frames elided...` (Go 1.21+) or `...additional frames elided...` (older).
      const n = Number(line.slice(3, line.indexOf(' ')));
      this.elided += Number.isInteger(n) && n > 0 ? n : 1;
      return;
    }
    if (line.startsWith('[originating from goroutine ')) {
      this.ancestorFrames = [];
      this.ancestors.push({ id: Number(line.slice(28, -2)), frames: this.ancestorFrames });
      this.mode = Mode.Ancestor;
      return;
    }
    const name = functionName(line);
    if (name !== undefined) {
      // `panic(...)` is how runtime.gopanic prints; keep it as the runtime's function.
      this.pendingFunc = name === 'panic' ? 'runtime.gopanic' : name;
      return;
    }
    // Register dumps, `[recovered]`, log lines from other writers: not ours.
    this.skipped++;
  }

  private endGoroutine(): void {
    const h = this.header;
    if (h === undefined) return;
    if (this.pendingFunc !== undefined) {
      // A function line whose position never came: the dump was cut mid-frame.
      this.warnings.push(
        `goroutine ${this.headerId}: stack cut off after "${this.pendingFunc}" (truncated dump?)`,
      );
    }
    // runtime.goexit is the bottom of every goroutine (printed for some): not information.
    if (this.node.frame?.func === 'runtime.goexit') this.node = this.node.parent!;
    const stack = this.interner.stackAt(this.node, this.createdBy, this.elided);
    const info = this.unavailable ? { ...h, stackUnavailable: true } : h;
    const g = new TracebackGoroutine(this.headerId, info, stack, this.parentId);
    if (this.ancestors.length > 0) g.ancestors = this.ancestors;
    this.goroutines.push(g);

    this.header = undefined;
    this.mode = Mode.Outside;
    this.node = this.interner.root;
    this.pendingFunc = undefined;
    this.createdFunc = undefined;
    this.createdBy = undefined;
    this.parentId = undefined;
    this.elided = 0;
    this.unavailable = false;
    this.ancestors = [];
    this.ancestorFrames = undefined;
    this.skipPosition = false;
    this.frameCount = 0;
  }

  finish(): TracebackResult {
    this.endGoroutine();
    if (this.repeatedIds > 0) {
      this.warnings.push(
        `${this.repeatedIds} goroutine id(s) appear more than once: the input holds several dumps, analyzed here as one (split it to analyze each)`,
      );
    }
    return {
      goroutines: this.goroutines,
      warnings: this.warnings,
      sawLeakedMark: this.sawLeakedMark,
    };
  }
}

/** Builds the snapshot from a finished parse. */
export function tracebackSnapshot(
  source: string,
  result: TracebackResult,
  profile: ProfileKind,
  takenAt?: Date,
): Snapshot {
  let total = 0;
  for (const g of result.goroutines) total += g.count;
  return {
    source,
    format: 'traceback',
    profile,
    takenAt,
    total,
    goroutines: result.goroutines,
    leakDetection: profile === 'goroutineleak' || result.sawLeakedMark,
    warnings: result.warnings,
  };
}
