import type { CreationSite, Frame } from './frame.js';

/**
 * A goroutine stack as the model keeps it: interned, so the 50,000 goroutines parked on the same
 * line share one Stack object and grouping is a pointer comparison.
 */
export interface Stack {
  /** Identity of the stack: every frame's function and position, plus the creation site. */
  readonly key: string;
  /** Innermost (the blocking call) first. */
  readonly frames: readonly Frame[];
  readonly createdBy?: CreationSite;
  /** The runtime cut frames out of the middle of a deep stack (`...N frames elided...`). */
  readonly elided: number;
}

/**
 * One goroutine from a full traceback, or one counted record (`count` > 1) from a profile
 * that does not list goroutines one by one.
 */
export interface Goroutine {
  /** Goroutine id; absent in counted profiles (debug=1, protobuf). */
  readonly id?: number;
  /** How many goroutines this entry stands for: 1 in tracebacks. */
  readonly count: number;
  /**
   * The state as the runtime printed it, with the flags (leaked)/(scan)/(durable) removed:
   * a wait reason such as `chan send` or `select (no cases)`, or a status such as `running`.
   * Unknown reasons are kept verbatim. Empty when the format carries no state (profiles).
   */
  readonly state: string;
  /** The runtime proved this goroutine can never run again (Go's goroutine leak detector). */
  readonly leaked: boolean;
  /** Whole minutes blocked, as the runtime printed it; absent when under a minute or unknown. */
  readonly waitMinutes?: number;
  readonly lockedToThread: boolean;
  /** Id of the testing/synctest bubble the goroutine belongs to. */
  readonly synctestBubble?: number;
  /** The runtime printed `goroutine running on other thread; stack unavailable`. */
  readonly stackUnavailable: boolean;
  /** pprof labels (runtime/pprof.Do / SetGoroutineLabels). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly stack: Stack;
  /** Id of the goroutine that started this one (`created by F in goroutine N`, Go 1.21+). */
  readonly parentId?: number;
  /** Creation chains printed with GODEBUG=tracebackancestors=N, nearest ancestor first. */
  readonly ancestors?: readonly { id: number; frames: readonly Frame[] }[];
}

/** What kind of input a snapshot was read from. */
type SourceFormat = 'traceback' | 'debug1' | 'proto';

/** Which runtime profile the snapshot came from. */
export type ProfileKind = 'goroutine' | 'goroutineleak';

/** Everything one input held: the single model every reader produces and every analysis reads. */
export interface Snapshot {
  /** The input as the user named it (path, URL or `-`). */
  readonly source: string;
  readonly format: SourceFormat;
  readonly profile: ProfileKind;
  /** When the snapshot was taken, if the input says (protobuf time_nanos, HTTP Date). */
  readonly takenAt?: Date;
  /** Total goroutines: the sum of counts. */
  readonly total: number;
  readonly goroutines: readonly Goroutine[];
  /**
   * The runtime's leak detector ran for this snapshot: goroutines not marked leaked were
   * checked and found reachable. False means `leaked` is simply unknown.
   */
  readonly leakDetection: boolean;
  /** Things the reader tolerated but the user should know (a cut-off dump, skipped lines). */
  readonly warnings: readonly string[];
  /**
   * Tracebacks: the same goroutines, counted, for the analyses (grouping, evidence), so that
   * memory grows with distinct stacks and runs of ids, not with identical goroutines. The
   * traceback reader then builds `goroutines`, one object each, only when something asks.
   */
  readonly counted?: CountedGoroutines;
}

/**
 * Goroutines counted: one record per distinct (stack, header) pair, and the ids in runs. A run
 * is goroutines `first`, `first`+1, ... (`len` of them, in dump order) of one record, all started
 * by one parent. A leak's goroutines usually come in long runs; at worst a run is one goroutine,
 * 24 bytes in typed arrays.
 */
export interface CountedGoroutines {
  /** Each record stands for `count` goroutines; its `id` and `parentId` are unset. */
  readonly records: readonly Goroutine[];
  /** How many runs; the arrays below may be longer. */
  readonly runs: number;
  /** Per run: its index in `records`. */
  readonly rec: Int32Array;
  /** Per run: the first goroutine id. */
  readonly first: Float64Array;
  readonly len: Int32Array;
  /** Per run: the parent goroutine id, -1 when none was printed. */
  readonly parent: Float64Array;
  /** Whether a goroutine with this id is in the snapshot. */
  has(id: number): boolean;
}
