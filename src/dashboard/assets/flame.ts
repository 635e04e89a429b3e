/**
 * An icicle of the goroutine stacks at one moment: the root is every goroutine, each row below
 * splits by the next frame inward (outermost frame on top, the blocking frame at the bottom), a
 * bar's width is its goroutines. Ours rather than speedscope's static build: it is a few DOM
 * boxes placed through the CSSOM, so it runs under the dashboard's strict CSP (no inline style
 * attribute, no eval, no wasm), its text is text nodes only, and it needs no profile file
 * round trip. Click a bar to zoom in; click a faded bar above it to zoom back out.
 */
import { el, type Frame } from './dom.js';

export interface StackRow {
  id: string;
  count: number;
  leaked: number;
  /** Outermost first. */
  frames: Frame[];
  createdBy: Frame | null;
  blockedOn: string;
}

interface FlameNode {
  name: string;
  frame: Frame | null;
  value: number;
  children: Map<string, FlameNode>;
  parent: FlameNode | null;
}

const ROW = 19;
/** Bounds of the drawing: deeper rows and more boxes than this only slow the page down. */
const MAX_DEPTH = 80;
const MAX_BOXES = 4000;
/** Narrower than this share of the focus (about 2 px on a laptop) is not drawn. */
const MIN_SHARE = 0.0015;

function tree(stacks: StackRow[]): FlameNode {
  const root: FlameNode = {
    name: 'all goroutines',
    frame: null,
    value: 0,
    children: new Map(),
    parent: null,
  };
  for (const s of stacks) {
    root.value += s.count;
    let n = root;
    const steps: [string, Frame | null][] =
      s.frames.length > 0
        ? s.frames.map((f) => [f.func, f])
        : [[`group ${s.id} (stack not stored yet)`, null]];
    for (const [name, frame] of steps) {
      let c = n.children.get(name);
      if (!c) {
        c = { name, frame, value: 0, children: new Map(), parent: n };
        n.children.set(name, c);
      }
      c.value += s.count;
      n = c;
    }
  }
  return root;
}

/** `example.com/notify.(*Service).heartbeat` → `notify.(*Service).heartbeat`. */
function shortName(func: string): string {
  return func.slice(func.lastIndexOf('/') + 1);
}

/** Standard library and runtime in cool grey; other code in warm hues, stable per package. */
function color(f: Frame | null): string {
  if (!f) return 'hsl(210, 10%, 88%)';
  const first = f.pkg.split('/')[0] ?? '';
  if (!first.includes('.') && f.pkg !== 'main') return 'hsl(210, 22%, 80%)';
  let h = 0;
  for (let i = 0; i < f.pkg.length; i++) h = (h * 31 + f.pkg.charCodeAt(i)) >>> 0;
  return `hsl(${(h % 45) + 5}, 85%, ${72 + (h % 9)}%)`;
}

/** Draws the icicle of `stacks` into `host`, focused on `focus` (the root when omitted). */
export function showFlame(host: HTMLElement, stacks: StackRow[]): void {
  const root = tree(stacks);
  const draw = (focus: FlameNode): void => {
    host.replaceChildren();
    let boxes = 0;
    let deepest = 0;
    const box = (n: FlameNode, x: number, w: number, depth: number, faded: boolean): void => {
      boxes++;
      deepest = Math.max(deepest, depth);
      const pct = root.value > 0 ? ((n.value / root.value) * 100).toFixed(1) : '0';
      const where = n.frame ? `\n${n.frame.file}:${n.frame.line}` : '';
      const b = el(
        'div',
        {
          class: faded ? 'fl ancestor' : 'fl',
          title: `${n.frame?.func ?? n.name}${where}\n${n.value} goroutines (${pct}% of all)`,
        },
        n.frame ? shortName(n.frame.func) : n.name,
      );
      b.dataset.func = n.frame?.func ?? '';
      b.dataset.count = String(n.value);
      // CSSOM, not a style attribute: allowed under style-src 'self'.
      b.style.left = `${x * 100}%`;
      b.style.width = `${w * 100}%`;
      b.style.top = `${depth * ROW}px`;
      b.style.backgroundColor = color(n.frame);
      b.addEventListener('click', () => draw(n));
      host.append(b);
    };
    // The path from the root down to the focus, full width and faded: click one to zoom out.
    const path: FlameNode[] = [];
    for (let n: FlameNode | null = focus.parent; n; n = n.parent) path.unshift(n);
    path.forEach((n, i) => box(n, 0, 1, i, true));
    const lay = (n: FlameNode, x: number, depth: number): void => {
      const w = focus.value > 0 ? n.value / focus.value : 0;
      if (w < MIN_SHARE || depth > MAX_DEPTH || boxes >= MAX_BOXES) return;
      box(n, x, w, depth, false);
      let cx = x;
      for (const c of [...n.children.values()].sort((p, q) => q.value - p.value)) {
        lay(c, cx, depth + 1);
        cx += focus.value > 0 ? c.value / focus.value : 0;
      }
    };
    lay(focus, 0, path.length);
    host.style.height = `${(deepest + 1) * ROW + 2}px`;
  };
  draw(root);
}
