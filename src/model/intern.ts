import { packageOf, type CreationSite, type Frame } from './frame.js';
import type { Stack } from './snapshot.js';

/**
 * A node of the stack trie: the path from the root is a sequence of frames, innermost first.
 * Readers walk it frame by frame as they parse, so finding a goroutine's shared Stack costs a
 * Map lookup per frame and never builds a key string for stacks already seen.
 */
export interface StackNode {
  readonly frame: Frame | undefined;
  readonly parent: StackNode | undefined;
  readonly depth: number;
  /** Children by frame object (frames are interned, so identity is equality). */
  children: Map<Frame, StackNode> | undefined;
  /** Finished stacks ending here, by creation site and elision. */
  stacks: Map<Frame | undefined | string, Stack> | undefined;
  /** The lines that last led from here to a child (a reader's guess for the next goroutine). */
  next: LineHint | undefined;
  /** The `created by` lines last seen after a stack ending here. */
  created: LineHint | undefined;
}

/**
 * The bytes of a frame's two lines as a text reader last saw them: the function name (arguments
 * vary, so they are not part of it) and the position line. Goroutines of one group print the
 * same lines, so a reader compares against these before looking anything up.
 */
export interface LineHint {
  readonly fn: number;
  readonly name: Uint8Array;
  readonly pos: Uint8Array;
  readonly frame: Frame;
  readonly child: StackNode | undefined;
}

/**
 * Interns frames and stacks so that a dump of 50,000 goroutines sharing a handful of stacks
 * holds a handful of Stack objects. Readers build one per snapshot.
 */
export class StackInterner {
  private readonly frames = new Map<string, Frame>();
  readonly root: StackNode = {
    frame: undefined,
    parent: undefined,
    depth: 0,
    children: undefined,
    stacks: undefined,
    next: undefined,
    created: undefined,
  };

  frame(func: string, file: string, line: number): Frame {
    const key = `${func}\u0000${file}\u0000${line}`;
    let f = this.frames.get(key);
    if (f === undefined) {
      const name = fromLatin1(func);
      f = { func: name, pkg: packageOf(name), file: fromLatin1(file), line };
      this.frames.set(key, f);
    }
    return f;
  }

  /** One step down the trie. */
  child(node: StackNode, frame: Frame): StackNode {
    let kids = node.children;
    if (kids === undefined) node.children = kids = new Map();
    let c = kids.get(frame);
    if (c === undefined) {
      c = {
        frame,
        parent: node,
        depth: node.depth + 1,
        children: undefined,
        stacks: undefined,
        next: undefined,
        created: undefined,
      };
      kids.set(frame, c);
    }
    return c;
  }

  /** The shared Stack for the frames on the path to `node`. */
  stackAt(node: StackNode, createdBy: CreationSite | undefined, elided: number): Stack {
    let m = node.stacks;
    if (m === undefined) node.stacks = m = new Map();
    const k =
      elided > 0
        ? `${elided}\u0000${createdBy?.func ?? ''}\u0000${createdBy?.file ?? ''}:${createdBy?.line ?? 0}`
        : createdBy;
    let s = m.get(k);
    if (s === undefined) {
      const frames: Frame[] = new Array<Frame>(node.depth);
      for (let n: StackNode | undefined = node; n && n.frame; n = n.parent)
        frames[n.depth - 1] = n.frame;
      s = makeStack(frames, createdBy, elided);
      m.set(k, s);
    }
    return s;
  }

  /** The shared Stack for a whole list of frames (readers that see a stack at once). */
  stack(frames: readonly Frame[], createdBy: CreationSite | undefined, elided: number): Stack {
    let n = this.root;
    for (const f of frames) n = this.child(n, f);
    return this.stackAt(n, createdBy, elided);
  }
}

function makeStack(frames: Frame[], createdBy: CreationSite | undefined, elided: number): Stack {
  let key = '';
  for (const f of frames) key += `${f.func} ${f.file}:${f.line}\n`;
  if (elided > 0) key += `...elided\n`;
  if (createdBy !== undefined)
    key += `created by ${createdBy.func} ${createdBy.file}:${createdBy.line}`;
  return { key, frames, createdBy, elided };
}

/**
 * A copy of `s` that does not share memory with the string it was sliced from. Readers slice
 * names out of 64 KiB chunks; keeping such a slice would keep the whole chunk alive, and with
 * it, little by little, the whole input.
 */
export function detach(s: string): string {
  return (' ' + s).slice(1);
}

/**
 * A detached copy of text the line splitter read as latin1 (one byte, one character), decoded
 * as the UTF-8 it really is. Pure ASCII, the usual case, is only copied.
 */
export function fromLatin1(s: string): string {
  if (!/[\u0080-\u00ff]/.test(s)) return detach(s);
  return Buffer.from(s, 'latin1').toString('utf8');
}

/**
 * A hash table keyed by a run of bytes (plus a number, `tag`), so readers can find what a line
 * of input means without making a string of it. Keys are copied on insert; lookups hash the
 * bytes where they lie (FNV-1a) and compare them byte by byte.
 */
export class ByteTable<V> {
  private keys: Uint8Array[] = [];
  private tags: number[] = [];
  private hashes: number[] = [];
  private readonly values: V[] = [];
  private slots = new Int32Array(1024).fill(-1);
  /** Where the last `find` stopped: the slot `add` fills. */
  private slot = 0;
  private hash = 0;

  get size(): number {
    return this.values.length;
  }

  /** The value stored for b[s, e) and `tag`, or undefined; prepares `add` for the same key. */
  find(b: Uint8Array, s: number, e: number, tag: number): V | undefined {
    let h = 0x811c9dc5 ^ tag;
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 16777619);
    this.hash = h;
    const mask = this.slots.length - 1;
    let slot = h & mask;
    for (;;) {
      const k = this.slots[slot]!;
      if (k < 0) break;
      if (this.hashes[k] === h && this.tags[k] === tag && same(this.keys[k]!, b, s, e))
        return this.values[k];
      slot = (slot + 1) & mask;
    }
    this.slot = slot;
    return undefined;
  }

  /** Stores `v` for the key the last `find` missed. */
  add(b: Uint8Array, s: number, e: number, tag: number, v: V): void {
    const k = this.values.length;
    // A copy (Buffer#slice would be a view, pinning the chunk it was read from).
    const key = new Uint8Array(e - s);
    key.set(b.subarray(s, e));
    this.keys.push(key);
    this.tags.push(tag);
    this.hashes.push(this.hash);
    this.values.push(v);
    this.slots[this.slot] = k;
    if (this.values.length * 2 > this.slots.length) this.grow();
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let k = 0; k < this.hashes.length; k++) {
      let slot = this.hashes[k]! & mask;
      while (slots[slot]! >= 0) slot = (slot + 1) & mask;
      slots[slot] = k;
    }
    this.slots = slots;
  }
}

function same(key: Uint8Array, b: Uint8Array, s: number, e: number): boolean {
  if (key.length !== e - s) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== b[s + i]) return false;
  return true;
}
