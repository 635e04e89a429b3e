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
import {
  ByteTable,
  detach,
  fromLatin1,
  StackInterner,
  type LineHint,
  type StackNode,
} from '../model/intern.js';
import type {
  CountedGoroutines,
  Goroutine,
  ProfileKind,
  Snapshot,
  Stack,
} from '../model/snapshot.js';
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

interface TracebackResult {
  /** One object per goroutine, built on first use (the analyses read `counted`). */
  readonly goroutines: Goroutine[];
  readonly counted: CountedGoroutines;
  /** Goroutines read. */
  readonly total: number;
  warnings: string[];
  /** At least one goroutine carried the runtime's `(leaked)` verdict. */
  sawLeakedMark: boolean;
  /** The dump was written by the goroutineleak profile (debug=2): the detector ran. */
  sawLeakProfile: boolean;
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
 * minutes`) repeat across thousands of goroutines: the parser looks each up by its bytes and
 * calls this once per distinct text, so they share one object.
 */
function headerInfo(line: string, from: number): Header | undefined {
  let i = from + 10;
  while (isDigit(line.charCodeAt(i))) i++;
  const open = line.indexOf(' [', i);
  if (open < 0 || !line.endsWith(']:')) return undefined;
  // Between the id and the bracket only `gp=... m=... mp=...` may appear.
  if (open !== i && !line.startsWith(' gp=', i)) return undefined;
  let body = line.slice(open + 2, line.length - 2);

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
  return h;
}

/** Label keys and values copied out of the chunk they were sliced from. */
function internLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[detach(k)] = detach(v);
  return out;
}

/**
 * One goroutine of a traceback, or one record of identical ones (`count` of them, no id): what
 * its header says lives in one object shared by every goroutine with the same header text.
 */
class TracebackGoroutine implements Goroutine {
  ancestors: Goroutine['ancestors'] = undefined;
  constructor(
    readonly id: number | undefined,
    readonly info: Header,
    readonly stack: Stack,
    readonly parentId: number | undefined,
    public count: number,
  ) {}
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

/**
 * The goroutines read so far, counted (model/snapshot.ts CountedGoroutines): a record per
 * distinct (header, stack), and runs of consecutive ids in typed arrays that double as they fill.
 */
class Counter implements CountedGoroutines {
  readonly records: TracebackGoroutine[] = [];
  runs = 0;
  rec = new Int32Array(256);
  first = new Float64Array(256);
  len = new Int32Array(256);
  parent = new Float64Array(256);
  /** Goroutines with `[originating from goroutine N]` blocks (GODEBUG=tracebackancestors), by run. */
  readonly ancestors = new Map<number, NonNullable<Goroutine['ancestors']>>();
  private readonly byHeader = new Map<Header, Map<Stack, number>>();
  private last: TracebackGoroutine | undefined;
  private lastIndex = -1;
  constructor(readonly ids: IdSet) {}

  has(id: number): boolean {
    return this.ids.has(id);
  }

  add(
    id: number,
    info: Header,
    stack: Stack,
    parentId: number | undefined,
    anc: Goroutine['ancestors'],
  ): void {
    let r = this.lastIndex;
    if (this.last === undefined || this.last.stack !== stack || this.last.info !== info) {
      let m = this.byHeader.get(info);
      if (m === undefined) this.byHeader.set(info, (m = new Map()));
      const found = m.get(stack);
      if (found === undefined) {
        r = this.records.length;
        this.records.push(new TracebackGoroutine(undefined, info, stack, undefined, 0));
        m.set(stack, r);
      } else r = found;
      this.last = this.records[r];
      this.lastIndex = r;
    }
    this.records[r]!.count++;
    const p = parentId ?? -1;
    const n = this.runs - 1;
    if (
      anc === undefined &&
      n >= 0 &&
      this.rec[n] === r &&
      this.parent[n] === p &&
      this.first[n]! + this.len[n]! === id &&
      !this.ancestors.has(n)
    ) {
      this.len[n]!++;
      return;
    }
    if (this.runs === this.rec.length) this.grow();
    this.rec[this.runs] = r;
    this.first[this.runs] = id;
    this.len[this.runs] = 1;
    this.parent[this.runs] = p;
    if (anc !== undefined) this.ancestors.set(this.runs, anc);
    this.runs++;
  }

  private grow(): void {
    const n = this.rec.length * 2;
    const rec = new Int32Array(n);
    rec.set(this.rec);
    this.rec = rec;
    const first = new Float64Array(n);
    first.set(this.first);
    this.first = first;
    const len = new Int32Array(n);
    len.set(this.len);
    this.len = len;
    const parent = new Float64Array(n);
    parent.set(this.parent);
    this.parent = parent;
  }

  /** One object per goroutine, in dump order: for callers that want them one by one. */
  expand(): Goroutine[] {
    const out: Goroutine[] = [];
    for (let i = 0; i < this.runs; i++) {
      const r = this.records[this.rec[i]!]!;
      const p = this.parent[i]!;
      for (let k = 0; k < this.len[i]!; k++) {
        const g = new TracebackGoroutine(
          this.first[i]! + k,
          r.info,
          r.stack,
          p < 0 ? undefined : p,
          1,
        );
        g.ancestors = this.ancestors.get(i);
        out.push(g);
      }
    }
    return out;
  }
}

/** Parses `"k": "v", "k2": "v 2"` as the runtime prints labels (always quoted, Go escapes). */
function parseLabels(text: string): Record<string, string> {
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

/** Parses a position `/path/f.go:12 +0x1d` (indent and ` fp=...` already removed). */
function parsePosition(line: string): { file: string; line: number } | undefined {
  let end = line.length;
  const off = line.lastIndexOf(' +0x', end);
  if (off >= 0) end = off;
  const colon = line.lastIndexOf(':', end);
  if (colon <= 0) return undefined;
  const n = Number(line.slice(colon + 1, end));
  if (!Number.isInteger(n) || colon + 1 === end) return undefined;
  return { file: line.slice(0, colon), line: n };
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

/** Byte strings the parser looks for, as bytes. */
const GOROUTINE = Buffer.from('goroutine ');
const OTHER_THREAD = Buffer.from('goroutine running on other thread');
const CREATED_BY = Buffer.from('created by ');
const IN_GOROUTINE = Buffer.from(' in goroutine ');
const FP = Buffer.from(' fp=');

function startsWith(b: Uint8Array, s: number, e: number, p: Uint8Array): boolean {
  if (e - s < p.length) return false;
  for (let i = 0; i < p.length; i++) if (b[s + i] !== p[i]) return false;
  return true;
}

/** Where `p` starts in b[s, e), or -1. For the short needles here a plain scan beats indexOf. */
function find(b: Uint8Array, s: number, e: number, p: Uint8Array): number {
  const first = p[0]!;
  for (let i = s; i + p.length <= e; i++) if (b[i] === first && startsWith(b, i, e, p)) return i;
  return -1;
}

/**
 * A goroutine's lines kept for the equal-body shortcut (TracebackParser.bodies), and the state
 * they left the parser in.
 */
interface Body {
  /** A copy of the lines; `fillHoles` writes each goroutine's holes into it before comparing. */
  readonly bytes: Buffer;
  /**
   * Where the next goroutine's lines may differ, as (start, end, kind) triples of offsets into
   * `bytes`, in order: the argument list of a function line (`ARGS`, after its `(` to the end
   * of the line) and the digits of `created by F in goroutine N` (`PARENT`).
   */
  readonly holes: Int32Array;
  readonly node: StackNode;
  readonly createdBy: CreationSite | undefined;
  readonly parentId: number | undefined;
  readonly elided: number;
}

/** Kinds of holes in a kept body. */
const ARGS = 0;
const PARENT = 1;
/** What `fillHoles` returns when a hole in the chunk is not where the kept body has it. */
const NO_FIT = -2;

/**
 * Reads the holes of `kept` in chunk[s, ...) where the kept body has them (the caller checks
 * the chunk is long enough) and copies them into `kept.bytes`, so that comparing the whole
 * body then compares everything else: the parent id read (-1: no such hole), or NO_FIT when a
 * hole there is not one (a byte a hole cannot hold, a number or argument list of another
 * length). The line ends after each hole are among the bytes compared.
 */
function fillHoles(kept: Body, chunk: Buffer, s: number): number {
  const body = kept.bytes;
  const holes = kept.holes;
  let parent = -1;
  for (let h = 0; h < holes.length; h += 3) {
    const from = holes[h]!;
    const to = holes[h + 1]!;
    if (holes[h + 2] === PARENT) {
      let id = 0;
      for (let i = from; i < to; i++) {
        const c = chunk[s + i]!;
        if (c < 48 || c > 57) return NO_FIT;
        id = id * 10 + c - 48;
        body[i] = c;
      }
      parent = id;
    } else {
      // An argument list as the line-by-line parse accepts it whatever the last frame's hint:
      // no `(` (that would move where the function name ends), `)` last.
      for (let i = from; i < to; i++) {
        const c = chunk[s + i]!;
        if (c === 10 || c === 13 || c === 40) return NO_FIT;
        body[i] = c;
      }
      if (body[to - 1] !== 41) return NO_FIT;
    }
  }
  return parent;
}

/**
 * a[as, as + be - bs) equals b[bs, be); the caller checks that a is long enough. Long runs go to
 * Buffer#compare (memcmp, whose call costs about what a JavaScript loop over 30 bytes does).
 */
function sameBytes(a: Buffer, as: number, b: Buffer, bs: number, be: number): boolean {
  if (be - bs > 32) return a.compare(b, bs, be, as, as + be - bs) === 0;
  for (let i = bs, j = as; i < be; i++, j++) if (a[j] !== b[i]) return false;
  return true;
}

/** No line Go writes in a dump comes near this; a longer one is cut (and is not a dump line). */
const MAX_LINE = 1 << 20;
/** Longest goroutine body kept for the equal-body shortcut (a deep stack's 100 frames fit). */
const MAX_BODY = 1 << 16;
/** Bodies kept at once (one per header text): at most 4 MiB of copies. */
const MAX_BODIES = 64;
/** Entries kept in each byte table; past it lines are still read, just without the cache. */
const MAX_TABLE = 1 << 20;
/** Goroutine ids kept in each kind of warning; the rest are counted. */
const MAX_WARNED = 5;

/** A kind of problem seen in some goroutines, warned about once with a few of their ids. */
class Tally {
  count = 0;
  readonly ids: number[] = [];
  constructor(private readonly what: (n: number) => string) {}
  add(id: number): void {
    if (this.count++ < MAX_WARNED) this.ids.push(id);
  }
  warning(): string | undefined {
    if (this.count === 0) return undefined;
    const more = this.count > this.ids.length ? ', ...' : '';
    return `${this.what(this.count)} (goroutine ${this.ids.join(', ')}${more})`;
  }
}

/**
 * The streaming state machine. Feed it bytes with `feed()` (or single lines with `line()`), then
 * call `finish()`. Lines are handled where they lie in the chunk: a header's bracket, a function
 * name and a position line are looked up by their bytes (`ByteTable`), so a line seen before
 * costs a hash and a compare, and no string is made for it.
 */
export class TracebackParser {
  private readonly interner = new StackInterner();
  private readonly ids = new IdSet();
  private readonly counter = new Counter(this.ids);
  /** Goroutines read so far. */
  private total = 0;
  readonly warnings: string[] = [];
  sawLeakedMark = false;
  /** A frame of runtime/pprof.writeGoroutineLeak: the dump is a goroutineleak profile. */
  sawLeakProfile = false;

  private mode = Mode.Outside;
  /** Header bracket text → what it says. */
  private readonly headers = new ByteTable<Header>();
  /** Function name → its index in `funcs`. */
  private readonly funcIds = new ByteTable<number>();
  private readonly funcs: string[] = [];
  /** Each function's name as bytes (for hints). */
  private readonly funcBytes: Uint8Array[] = [];
  /** The function line matched the hint of the node it came at; the position may too. */
  private hint: LineHint | undefined;
  /** Position line (up to ` fp=`), tagged with the function id → the frame. */
  private readonly positions = new ByteTable<Frame>();
  private repeatedIds = 0;
  private header: Header | undefined;
  private headerId = 0;
  /** The header had `gp=... m=...` (GOTRACEBACK=system or crash). */
  private gpForm = false;
  private node: StackNode;
  private pendingFunc = -1;
  private createdFunc = -1;
  private createdBy: CreationSite | undefined;
  private parentId: number | undefined;
  private elided = 0;
  private unavailable = false;
  private ancestors: { id: number; frames: Frame[] }[] = [];
  private ancestorFrames: Frame[] | undefined;
  /** Frames of the current goroutine, its ancestors' included: capped by maxFrames. */
  private frameCount = 0;
  /** The last line of this goroutine was neither a frame nor anything else we know. */
  private unparsed = false;

  private prefix: RegExp | undefined;
  /**
   * The equal-body shortcut. Goroutines of one group usually print the same lines after the
   * header (the id and the wait time differ, and those are in the header), except for the values
   * of their arguments and, since Go 1.21, the id of the goroutine that created them. When the
   * bytes after a header equal, through the blank line, those of the last goroutine with the same
   * header text that parsed cleanly (no skipped line, warning or ancestors), everywhere but in
   * those places (`Body.holes`), they mean the same: the goroutine takes the state they left,
   * with the parent id read from its own line, and its lines are not parsed. Keyed by header,
   * so that groups printed interleaved (a dump lists goroutines by id, not by group) each keep
   * theirs; at most MAX_BODIES of them.
   */
  private readonly bodies = new Map<Header, Body>();
  /** The chunk `feed` is splitting: lines from any other buffer record no holes. */
  private chunk: Buffer | undefined;
  /** The parent id `sameBody` read from its hole, -1 when the body has none. */
  private heldParent = -1;
  /** The holes of the current goroutine's lines so far, as offsets into `chunk`. */
  private readonly lineHoles: number[] = [];
  private holeCount = 0;
  /** Where the current goroutine's lines start in the chunk being fed; -1 when not in it. */
  private bodyStart = -1;
  /** `skipped` and the warning tallies when the current goroutine started. */
  private bodyMarks = -1;
  /** A header line just started a goroutine (read by `feed`). */
  private started = false;
  /** Goroutines that took the shortcut (for tests and profiling). */
  shortcuts = 0;
  private carry: Buffer | undefined;
  /** Bytes of an over-long line are dropped up to its end. */
  private dropping = false;
  /**
   * Lines inside goroutine blocks that are not frames: register dumps after a crash, `FAIL` lines
   * of go test, other writers' log lines. Expected, so counted (for debugging) but not warned.
   */
  skipped = 0;
  private skipPosition = false;
  private readonly cut = new Tally((n) => `${n} goroutine(s) cut off mid-frame (truncated dump?)`);
  private readonly noFrames = new Tally(
    (n) => `${n} goroutine(s) with no frames, kept as empty stacks`,
  );
  private readonly malformed = new Tally(
    (n) => `${n} frame(s) with a function line that does not parse, left out`,
  );

  constructor(
    private readonly source = 'input',
    private readonly limits: Limits = DEFAULT_LIMITS,
  ) {
    this.node = this.interner.root;
  }

  /** One line of text (already split; read as latin1, one byte per character). */
  line(raw: string): void {
    const b = Buffer.from(raw, 'latin1');
    this.lineAt(b, 0, b.length);
  }

  /** The next chunk of the input: split into lines here, a partial last line kept for later. */
  feed(chunk: Buffer): void {
    // The rare path in a method of its own: V8 optimizes `lines` with feedback from every
    // chunk, not only from the first (a path not taken yet would undo the optimized code).
    const s = this.carry !== undefined || this.dropping ? this.carried(chunk) : 0;
    if (s >= 0) this.lines(chunk, s);
  }

  /**
   * Ends the line an earlier chunk left unfinished: where this chunk's own lines start, or -1
   * when the line goes on past it.
   */
  private carried(chunk: Buffer): number {
    const nl = chunk.indexOf(10);
    if (nl < 0) {
      if (!this.dropping) this.keep(chunk, 0);
      return -1;
    }
    if (this.dropping) this.dropping = false;
    else {
      const b = Buffer.concat([this.carry!, chunk.subarray(0, nl)]);
      this.carry = undefined;
      this.lineAt(b, 0, b.length > 0 && b[b.length - 1] === 13 ? b.length - 1 : b.length);
    }
    return nl + 1;
  }

  /** The lines of `chunk` from `s` on; an unfinished last one is kept for the next chunk. */
  private lines(chunk: Buffer, s: number): void {
    this.bodyStart = -1;
    this.chunk = chunk;
    for (;;) {
      const nl = chunk.indexOf(10, s);
      if (nl < 0) break;
      if (nl === s && this.bodyStart >= 0) this.keepBody(chunk, nl + 1);
      this.lineAt(chunk, s, nl > s && chunk[nl - 1] === 13 ? nl - 1 : nl);
      s = nl + 1;
      if (this.started) {
        this.started = false;
        this.bodyStart = this.prefix === undefined ? s : -1;
        const st = this.bodyStart >= 0 ? this.bodies.get(this.header!) : undefined;
        if (st !== undefined) {
          const end = this.sameBody(st, chunk, s);
          if (end >= 0) {
            this.node = st.node;
            this.createdBy = st.createdBy;
            this.parentId = this.heldParent >= 0 ? this.heldParent : st.parentId;
            this.elided = st.elided;
            this.shortcuts++;
            this.endGoroutine();
            s = end;
          }
        }
      }
    }
    this.chunk = undefined;
    if (s < chunk.length) this.keep(chunk, s);
  }

  /**
   * Whether the lines at chunk[s] are the kept body but for its holes: where they end (after
   * the blank line), or -1. The parent id read from its hole is left in `heldParent` (-1: none).
   */
  private sameBody(kept: Body, chunk: Buffer, s: number): number {
    const end = s + kept.bytes.length;
    if (end <= chunk.length) {
      // Usually every hole is as long as the kept one's: then one compare does it all.
      const parent = fillHoles(kept, chunk, s);
      if (parent !== NO_FIT) {
        if (chunk.compare(kept.bytes, 0, kept.bytes.length, s, end) !== 0) return -1;
        this.heldParent = parent;
        return end;
      }
    }
    return this.sameAround(kept, chunk, s);
  }

  /** `sameBody` for holes of another length: the bytes between them compared one run at a time. */
  private sameAround(kept: Body, chunk: Buffer, s: number): number {
    const body = kept.bytes;
    const holes = kept.holes;
    const n = chunk.length;
    let p = s;
    let q = 0;
    let parent = -1;
    for (let h = 0; h < holes.length; h += 3) {
      const start = holes[h]!;
      if (p + start - q > n || !sameBytes(chunk, p, body, q, start)) return -1;
      p += start - q;
      q = holes[h + 1]!;
      const from = p;
      if (holes[h + 2] === PARENT) {
        let id = 0;
        for (; p < n; p++) {
          const c = chunk[p]!;
          if (c < 48 || c > 57) break;
          id = id * 10 + c - 48;
        }
        if (p === from) return -1;
        parent = id;
      } else {
        // An argument list as the line-by-line parse accepts it whatever the last frame's hint:
        // no `(` (that would move where the function name ends), `)` last.
        for (; p < n; p++) {
          const c = chunk[p]!;
          if (c === 10 || c === 13) break;
          if (c === 40) return -1;
        }
        if (p === from || chunk[p - 1] !== 41) return -1;
      }
    }
    const end = p + body.length - q;
    if (end > n || !sameBytes(chunk, p, body, q, body.length)) return -1;
    this.heldParent = parent;
    return end;
  }

  /**
   * At the blank line that ends a goroutine whose lines are all in this chunk (up to `end`):
   * keep them for the shortcut if they parsed cleanly.
   */
  private keepBody(chunk: Buffer, end: number): void {
    const start = this.bodyStart;
    this.bodyStart = -1;
    if (
      this.header === undefined ||
      this.prefix !== undefined ||
      this.marks() !== this.bodyMarks ||
      this.pendingFunc >= 0 ||
      this.createdFunc >= 0 ||
      this.mode !== Mode.Frames ||
      this.unavailable ||
      this.ancestors.length > 0 ||
      this.node === this.interner.root ||
      end - start > MAX_BODY
    )
      return;
    let holes = new Int32Array(this.lineHoles.slice(0, this.holeCount));
    for (let h = 0; h < holes.length; h += 3) {
      // Holes are recorded in line order; one outside these lines means the body came from
      // elsewhere (a JSON-wrapped line): keep it without holes, to be matched whole.
      if (holes[h]! < start || holes[h + 1]! >= end) {
        holes = new Int32Array(0);
        break;
      }
      holes[h]! -= start;
      holes[h + 1]! -= start;
    }
    const h = this.header;
    if (this.bodies.size >= MAX_BODIES && !this.bodies.has(h)) return;
    this.bodies.set(h, {
      bytes: Buffer.from(chunk.subarray(start, end)),
      holes,
      node: this.node,
      createdBy: this.createdBy,
      parentId: this.parentId,
      elided: this.elided,
    });
  }

  /** Changes whenever a line is skipped or a warning counted. */
  private marks(): number {
    return this.skipped + this.cut.count + this.noFrames.count + this.malformed.count;
  }

  /** Keeps the unfinished last line (a copy, so the chunk can go); an endless one is cut. */
  private keep(chunk: Buffer, s: number): void {
    const tail = chunk.subarray(s);
    this.carry = this.carry === undefined ? Buffer.from(tail) : Buffer.concat([this.carry, tail]);
    if (this.carry.length > MAX_LINE) {
      this.lineAt(this.carry, 0, MAX_LINE);
      this.carry = undefined;
      this.dropping = true;
    }
  }

  private lineAt(b: Buffer, s: number, e: number): void {
    if (b[s] === 123 /* { */) {
      // Docker's json-file logs and `go test -json` wrap each line in a JSON object.
      const inner = unwrapJsonLine(b.toString('latin1', s, e));
      if (inner !== undefined) {
        this.unprefixed(Buffer.from(inner, 'latin1'));
        return;
      }
    }
    if (this.prefix !== undefined) {
      this.unprefixed(b.subarray(s, e));
      return;
    }
    this.bytesLine(b, s, e);
  }

  /** A line of a dump wrapped in log prefixes: strip the learnt prefix (a rare, slower path). */
  private unprefixed(line: Buffer): void {
    if (this.prefix !== undefined) {
      const text = line.toString('latin1');
      const m = this.prefix.exec(text);
      if (m) {
        const rest = Buffer.from(text.slice(m[0].length), 'latin1');
        this.bytesLine(rest, 0, rest.length);
        return;
      }
      // Lines without it are other log output.
      this.endGoroutine();
      this.prefix = undefined;
    }
    this.bytesLine(line, 0, line.length);
  }

  private bytesLine(b: Buffer, s: number, e: number): void {
    if (s === e) {
      this.endGoroutine();
      return;
    }
    const c0 = b[s]!;
    if (c0 === 103 /* g */ && startsWith(b, s, e, GOROUTINE)) {
      if (this.headerLine(b, s, e)) return;
      if (startsWith(b, s, e, OTHER_THREAD)) {
        this.unavailable = true;
        return;
      }
    }
    if (this.mode === Mode.Outside) {
      this.lookForWrappedHeader(b.toString('latin1', s, e));
      return;
    }
    if (c0 === 9 /* \t */) {
      this.position(b, s + 1, e);
      return;
    }
    if (c0 === 32 && (this.pendingFunc >= 0 || this.mode === Mode.CreatedBy)) {
      // A position line whose tab became spaces (pasted through a chat, a browser, `expand`).
      let i = s;
      while (i < e && b[i] === 32) i++;
      if (i < e && b[i] !== 32) {
        this.position(b, i, e);
        return;
      }
    }
    this.other(b, s, e);
  }

  /** A header line at b[s]: starts the goroutine and returns true, or false if it is not one. */
  private headerLine(b: Buffer, s: number, e: number): boolean {
    let i = s + GOROUTINE.length;
    const idStart = i;
    let id = 0;
    for (let c = b[i]!; i < e && c >= 48 && c <= 57; c = b[++i]!) id = id * 10 + c - 48;
    if (i === idStart || e - i < 4 || b[e - 2] !== 93 /* ] */ || b[e - 1] !== 58 /* : */)
      return false;
    let open = i;
    if (b[i] !== 32 || b[i + 1] !== 91 /* [ */) {
      // `goroutine 1 gp=0x... m=0 mp=0x... [running]:` (GOTRACEBACK=system and crash).
      if (b[i + 1] !== 103 /* g */ || b[i + 2] !== 112 /* p */) return false;
      while (open < e - 1 && !(b[open] === 32 && b[open + 1] === 91)) open++;
    }
    const gpForm = open !== i;
    let h = this.headers.find(b, open + 2, e - 2, 0);
    if (h === undefined) {
      h = headerInfo(b.toString('latin1', s, e), 0);
      if (h === undefined) return false;
      if (this.headers.size < MAX_TABLE) this.headers.add(b, open + 2, e - 2, 0, h);
    }
    this.startGoroutine(id, h);
    this.gpForm = gpForm;
    return true;
  }

  /** A header not at column 0: learn the prefix in front of it (log timestamps, `[pod] `). */
  private lookForWrappedHeader(line: string): void {
    const at = line.indexOf('goroutine ');
    if (at <= 0 || !line.endsWith(']:')) return;
    const id = headerId(line, at);
    const h = id >= 0 ? headerInfo(line, at) : undefined;
    if (!h) return;
    this.prefix = prefixPattern(line.slice(0, at));
    this.startGoroutine(id, h);
  }

  private startGoroutine(id: number, h: Header): void {
    this.endGoroutine();
    if (this.total >= this.limits.maxGoroutines)
      throw new LimitError(this.source, 'maxGoroutines', this.limits.maxGoroutines);
    this.header = h;
    this.headerId = id;
    this.mode = Mode.Frames;
    this.started = true;
    this.bodyMarks = this.marks();
    this.holeCount = 0;
  }

  /** The id of the function named by b[s, e). */
  private funcId(b: Buffer, s: number, e: number): number {
    let id = this.funcIds.find(b, s, e, 0);
    if (id === undefined) {
      const name = fromLatin1(b.toString('latin1', s, e));
      // `panic(...)` is how runtime.gopanic prints; keep it as the runtime's function.
      this.funcs.push(name === 'panic' ? 'runtime.gopanic' : name);
      this.funcBytes.push(Uint8Array.prototype.slice.call(b, s, e));
      id = this.funcs.length - 1;
      if (this.funcIds.size < MAX_TABLE) this.funcIds.add(b, s, e, 0, id);
    }
    return id;
  }

  /** A position line, b[s, e) without its indent: `/path/f.go:12 +0x1d fp=.. sp=.. pc=..`. */
  private position(b: Buffer, s: number, e: number): void {
    if (startsWith(b, s, e, OTHER_THREAD)) {
      this.unavailable = true;
      return;
    }
    if (this.skipPosition) {
      this.skipPosition = false;
      return;
    }
    const creating = this.mode === Mode.CreatedBy && this.createdFunc >= 0;
    const hint = this.hint;
    if (hint !== undefined) {
      this.hint = undefined;
      const n = s + hint.pos.length;
      if ((n === e || (b[n] === 32 && startsWith(b, n, e, FP))) && startsWith(b, s, e, hint.pos)) {
        this.found(hint.frame, creating, hint.child);
        return;
      }
    }
    const fn = creating ? this.createdFunc : this.pendingFunc;
    if (fn < 0) {
      if (this.unparsed) {
        // The line before should have named this frame's function.
        this.malformed.add(this.headerId);
        this.unparsed = false;
      }
      this.skipped++;
      return;
    }
    const fp = find(b, s, e, FP);
    const end = fp >= 0 ? fp : e;
    let f = this.positions.find(b, s, end, fn);
    if (f === undefined) {
      const pos = parsePosition(b.toString('latin1', s, end));
      if (!pos) {
        this.skipped++;
        return;
      }
      f = this.interner.frame(this.funcs[fn]!, pos.file, pos.line);
      if (this.positions.size < MAX_TABLE) this.positions.add(b, s, end, fn, f);
      if (f.func === 'runtime/pprof.writeGoroutineLeak') this.sawLeakProfile = true;
    }
    if (this.ancestorFrames !== undefined && !creating) {
      this.found(f, false, undefined);
      return;
    }
    // Remember these lines at this node: the next goroutine of the group prints them too.
    const node = this.node;
    const child = creating ? undefined : this.interner.child(node, f);
    const h: LineHint = {
      fn,
      name: this.funcBytes[fn]!,
      pos: Uint8Array.prototype.slice.call(b, s, end),
      frame: f,
      child,
    };
    if (creating) node.created = h;
    else node.next = h;
    this.found(f, creating, child);
  }

  /** The frame of a position line: the creation site, or the next frame down the stack. */
  private found(f: Frame, creating: boolean, child: StackNode | undefined): void {
    if (creating) {
      this.createdBy = f;
      this.createdFunc = -1;
      if (this.ancestorFrames === undefined) this.mode = Mode.Frames;
      return;
    }
    this.pendingFunc = -1;
    if (++this.frameCount > this.limits.maxFrames)
      throw new LimitError(this.source, 'maxFrames', this.limits.maxFrames);
    if (this.ancestorFrames !== undefined) this.ancestorFrames.push(f);
    else this.node = child ?? this.interner.child(this.node, f);
  }

  private other(b: Buffer, s: number, e: number): void {
    const next = this.ancestorFrames === undefined ? this.node.next : undefined;
    if (next !== undefined) {
      // The function line the last goroutine had here: name, then its argument list. Only
      // where the last `(` opens it, as below: what a line means must not depend on the lines
      // before it (the equal-body shortcut relies on that).
      const n = s + next.name.length;
      let open = e - 1;
      while (open > n && b[open] !== 40 /* ( */) open--;
      if (
        open === n &&
        b[n] === 40 /* ( */ &&
        b[e - 1] === 41 /* ) */ &&
        startsWith(b, s, e, next.name)
      ) {
        this.hole(b, n + 1, e, ARGS);
        this.pendingFunc = next.fn;
        this.hint = next;
        this.unparsed = false;
        return;
      }
    }
    this.hint = undefined;
    if (startsWith(b, s, e, CREATED_BY)) {
      let end = e;
      // `created by F in goroutine N` (Go 1.21+): N is the parent.
      let i = e;
      while (i > s && b[i - 1]! >= 48 && b[i - 1]! <= 57) i--;
      if (
        i < e &&
        i - s > IN_GOROUTINE.length &&
        startsWith(b, i - IN_GOROUTINE.length, e, IN_GOROUTINE)
      ) {
        end = i - IN_GOROUTINE.length;
        if (this.ancestorFrames === undefined) {
          let pid = 0;
          for (let k = i; k < e; k++) pid = pid * 10 + b[k]! - 48;
          this.parentId = pid;
          this.hole(b, i, e, PARENT);
        }
      }
      if (this.ancestorFrames !== undefined) {
        // Creation sites of ancestors are context, not the goroutine's own; skip the position.
        this.createdFunc = -1;
        this.pendingFunc = -1;
        this.skipPosition = true;
        return;
      }
      const created = this.node.created;
      const ns = s + CREATED_BY.length;
      if (
        created !== undefined &&
        ns + created.name.length === end &&
        startsWith(b, ns, end, created.name)
      ) {
        this.createdFunc = created.fn;
        this.hint = created;
      } else this.createdFunc = this.funcId(b, ns, end);
      this.mode = Mode.CreatedBy;
      return;
    }
    const c0 = b[s]!;
    if (c0 === 46 /* . */ && b[s + 1] === 46 && b[s + 2] === 46) {
      // `...N frames elided...` (Go 1.21+) or `...additional frames elided...` (older).
      const line = b.toString('latin1', s, e);
      const n = Number(line.slice(3, line.indexOf(' ')));
      this.elided += Number.isInteger(n) && n > 0 ? n : 1;
      return;
    }
    if (c0 === 91 /* [ */) {
      const line = b.toString('latin1', s, e);
      if (line.startsWith('[originating from goroutine ')) {
        this.ancestorFrames = [];
        this.ancestors.push({ id: Number(line.slice(28, -2)), frames: this.ancestorFrames });
        this.mode = Mode.Ancestor;
        return;
      }
    }
    // A function line `pkg.(*T).M[...](0xc000, ...)`: arguments are hex words, `...`, `{...}`
    // and `?` marks, never parentheses, so the last `(` opens them even in `pkg.(*T).M(...)`.
    if (b[e - 1] === 41 /* ) */) {
      let open = e - 1;
      while (open > s && b[open] !== 40 /* ( */) open--;
      let k = s;
      // A function name has no spaces; a sentence in a log line does.
      while (k < open && b[k] !== 32) k++;
      if (open > s && k === open) {
        this.hole(b, open + 1, e, ARGS);
        this.pendingFunc = this.funcId(b, s, open);
        this.unparsed = false;
        return;
      }
    }
    // Register dumps, `[recovered]`, log lines from other writers: not ours, unless a position
    // line follows (then it was a function line that does not parse, and is warned about).
    this.unparsed = true;
    this.skipped++;
  }

  /** Notes where a line of the current goroutine may differ in the next one (see `Body.holes`). */
  private hole(b: Buffer, start: number, end: number, kind: number): void {
    const at = this.holeCount;
    this.holeCount += 3;
    const ok = b === this.chunk;
    this.lineHoles[at] = ok ? start : -1;
    this.lineHoles[at + 1] = ok ? end : -1;
    this.lineHoles[at + 2] = kind;
  }

  private endGoroutine(): void {
    const h = this.header;
    if (h === undefined) return;
    if (this.pendingFunc >= 0) this.cut.add(this.headerId); // a function line without position
    // runtime.goexit is the bottom of every goroutine (printed for some): not information.
    if (this.node.frame?.func === 'runtime.goexit') this.node = this.node.parent!;
    if (this.headerId === 0) {
      // `goroutine 0` is an M's own stack (g0) in SIGQUIT and GOTRACEBACK=system/crash dumps: a
      // thread, not a goroutine.
    } else {
      if (this.node === this.interner.root && !this.unavailable) this.noFrames.add(this.headerId);
      // Ids are unique within one dump: a repeat means the input holds several dumps...
      const repeated = !this.ids.add(this.headerId);
      // ...except that a GOTRACEBACK=crash dump prints each M's current goroutine once more
      // after that M's own stack: the same goroutine, not another one.
      if (repeated && this.gpForm) {
        this.reset();
        return;
      }
      if (repeated) this.repeatedIds++;
      if (h.leaked) this.sawLeakedMark = true;
      const stack = this.interner.stackAt(this.node, this.createdBy, this.elided);
      const info = this.unavailable ? { ...h, stackUnavailable: true } : h;
      this.total++;
      const anc = this.ancestors.length > 0 ? this.ancestors : undefined;
      this.counter.add(this.headerId, info, stack, this.parentId, anc);
    }
    this.reset();
  }

  private reset(): void {
    this.header = undefined;
    this.gpForm = false;
    this.mode = Mode.Outside;
    this.node = this.interner.root;
    this.pendingFunc = -1;
    this.createdFunc = -1;
    this.createdBy = undefined;
    this.parentId = undefined;
    this.elided = 0;
    this.unavailable = false;
    this.ancestors = [];
    this.ancestorFrames = undefined;
    this.skipPosition = false;
    this.frameCount = 0;
    this.unparsed = false;
    this.hint = undefined;
  }

  finish(): TracebackResult {
    if (this.carry !== undefined) {
      const c = this.carry;
      this.carry = undefined;
      this.lineAt(c, 0, c.length > 0 && c[c.length - 1] === 13 ? c.length - 1 : c.length);
    }
    this.endGoroutine();
    for (const t of [this.cut, this.noFrames, this.malformed]) {
      const w = t.warning();
      if (w !== undefined) this.warnings.push(w);
    }
    if (this.repeatedIds > 0) {
      this.warnings.push(
        `${this.repeatedIds} goroutine id(s) appear more than once: the input holds several dumps, analyzed here as one (split it to analyze each)`,
      );
    }
    const counted = this.counter;
    let expanded: Goroutine[] | undefined;
    return {
      get goroutines() {
        return (expanded ??= counted.expand());
      },
      counted,
      total: this.total,
      warnings: this.warnings,
      sawLeakedMark: this.sawLeakedMark,
      sawLeakProfile: this.sawLeakProfile,
    };
  }
}

/**
 * Goroutine ids seen, to notice repeats: a bit per id for the ids a dump usually has (they count
 * goroutines created since start), a Set for the rare larger ones.
 */
class IdSet {
  private bits = new Uint8Array(1 << 12);
  private readonly big = new Set<number>();
  /** Adds `id`; false if it was there already. */
  add(id: number): boolean {
    if (id >= 1 << 27) {
      const had = this.big.has(id);
      this.big.add(id);
      return !had;
    }
    const byte = id >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (id & 7);
    if ((this.bits[byte]! & mask) !== 0) return false;
    this.bits[byte] = this.bits[byte]! | mask;
    return true;
  }
  has(id: number): boolean {
    if (id >= 1 << 27) return this.big.has(id);
    const byte = id >>> 3;
    return byte < this.bits.length && (this.bits[byte]! & (1 << (id & 7))) !== 0;
  }
}

/** Builds the snapshot from a finished parse. */
export function tracebackSnapshot(
  source: string,
  result: TracebackResult,
  profile: ProfileKind,
  takenAt?: Date,
): Snapshot {
  return {
    source,
    format: 'traceback',
    profile,
    takenAt,
    total: result.total,
    // Built on first use: the analyses read `counted`, and a goroutine object each is what a
    // dump of a million identical goroutines must not cost.
    get goroutines() {
      return result.goroutines;
    },
    leakDetection: profile === 'goroutineleak' || result.sawLeakedMark,
    warnings: result.warnings,
    counted: result.counted,
  };
}
