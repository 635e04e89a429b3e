/**
 * DOM helpers of the dashboard's newer panels (compare, flame, the file analyzer). Strings
 * become text nodes, never markup: whatever a profile holds is shown, never run.
 */

export type Child = Node | string | null | undefined;

/** An element with text children. */
export function el(
  tag: string,
  props: { class?: string; title?: string; id?: string } = {},
  ...kids: Child[]
): HTMLElement {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  if (props.title) e.title = props.title;
  if (props.id) e.id = props.id;
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

/** A series point as the API sends it: `[at (ms), value]`. */
export type Point = [number, number];

export interface Frame {
  func: string;
  pkg: string;
  file: string;
  line: number;
}

/** `func` on one line, `file:line` under it: how Go prints a frame. */
export function frameNodes(f: Frame | null | undefined): Child[] {
  if (!f) return ['—'];
  return [f.func, el('span', { class: 'pos' }, ` ${f.file}:${f.line}`)];
}

/** A time a user reads: local date and time to the second. */
export const clock = (ms: number): string => new Date(ms).toLocaleString();

/** JSON from the dashboard's API; a refusal's own message (`{error}`) when it has one. */
export async function fetchJson<T>(path: string): Promise<T> {
  const r = await fetch(path, { credentials: 'same-origin' });
  const body = (await r.json().catch(() => null)) as { error?: string } | null;
  if (!r.ok) throw new Error(body?.error ?? `${path}: HTTP ${r.status}`);
  return body as T;
}

/** The panels' stylesheet, added once to a page whose shell does not link it. */
export function panelsStyle(): void {
  if (document.querySelector('link[href="/ui/assets/panels.css"]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = '/ui/assets/panels.css';
  document.head.append(link);
}
