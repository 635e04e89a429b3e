import { packageOf, type CreationSite, type Frame } from './frame.js';
import type { Stack } from './snapshot.js';

/**
 * Interns frames and stacks so that a dump of 50,000 goroutines sharing a handful of stacks
 * holds a handful of Stack objects. Readers build one per snapshot.
 */
export class StackInterner {
  private readonly frames = new Map<string, Frame>();
  private readonly stacks = new Map<string, Stack>();

  frame(func: string, file: string, line: number): Frame {
    const key = `${func}\u0000${file}\u0000${line}`;
    let f = this.frames.get(key);
    if (f === undefined) {
      const name = detach(func);
      f = { func: name, pkg: packageOf(name), file: detach(file), line };
      this.frames.set(key, f);
    }
    return f;
  }

  stack(frames: readonly Frame[], createdBy: CreationSite | undefined, elided: number): Stack {
    let key = '';
    for (const f of frames) key += `${f.func} ${f.file}:${f.line}\n`;
    if (elided > 0) key += `...elided\n`;
    if (createdBy !== undefined)
      key += `created by ${createdBy.func} ${createdBy.file}:${createdBy.line}`;
    let s = this.stacks.get(key);
    if (s === undefined) {
      s = { key, frames: frames.slice(), createdBy, elided };
      this.stacks.set(key, s);
    }
    return s;
  }
}

/**
 * A copy of `s` that does not share memory with the string it was sliced from. Readers slice
 * names out of 64 KiB chunks; keeping such a slice would keep the whole chunk alive, and with
 * it, little by little, the whole input.
 */
export function detach(s: string): string {
  return (' ' + s).slice(1);
}
