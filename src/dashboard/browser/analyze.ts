/**
 * "Analyze a file" in the dashboard: a dropped dump or profile is read in the browser by
 * leakwatch's own readers and analysis (bundled by build/browser.mjs with a small Buffer, and
 * gunzipped by the browser's DecompressionStream), so the file never leaves the machine. The
 * report is `leakwatch analyze --no-source`'s text, and its suspects as a table.
 */
import { UserError } from '../../errors.js';
import { capBytes, HEAD_BYTES, peek } from '../../input/peek.js';
import { DEFAULT_LIMITS, type Limits } from '../../input/limits.js';
import { readSource } from '../../readers/read.js';
import { analyze } from '../../analysis/suspects.js';
import { reportJson } from '../../render/json.js';
import { renderText } from '../../render/text.js';
import { PLAIN } from '../../render/style.js';
import { terminalText } from '../../render/escape.js';
import { el } from '../assets/dom.js';

/** Larger files are for the CLI: a tab holding more than this is a tab the user loses. */
const MAX_FILE = 256 * 2 ** 20;
/** What a dropped file may inflate to (the CLI's default is 4 GiB: a browser has less room). */
const LIMITS: Limits = { ...DEFAULT_LIMITS, maxBytes: 2 ** 30 };

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

async function* chunksOf(stream: ReadableStream<Uint8Array>, name: string): AsyncGenerator<Buffer> {
  const reader = stream.getReader();
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        // Only the gunzip step fails mid-stream: a bad or cut-off gzip file.
        throw new UserError(
          `${name}: gzip data is corrupt or truncated (${(err as Error).message})`,
        );
      }
      if (r.done) return;
      yield Buffer.from(r.value.buffer as ArrayBuffer, r.value.byteOffset, r.value.byteLength);
    }
  } finally {
    reader.releaseLock();
    void stream.cancel().catch(() => undefined);
  }
}

/** Reads and analyzes a file as `leakwatch analyze --no-source FILE` would. */
async function analyzeFile(file: File) {
  const name = file.name || 'dropped file';
  if (file.size === 0)
    throw new UserError(`${name}: file is empty, expected a goroutine dump or profile`);
  if (file.size > MAX_FILE)
    throw new UserError(
      `${name}: ${mib(file.size)}, more than this page reads (${mib(MAX_FILE)}); run leakwatch analyze on it instead`,
    );
  const magic = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  const gzipped = magic[0] === 0x1f && magic[1] === 0x8b;
  const stream = gzipped
    ? file.stream().pipeThrough(new DecompressionStream('gzip'))
    : file.stream();
  const { head, rest } = await peek(
    capBytes(name, chunksOf(stream, name), LIMITS.maxBytes),
    HEAD_BYTES,
  );
  if (head.length === 0)
    throw new UserError(
      `${name}: ${gzipped ? 'gzip data decompresses to nothing' : 'input is empty'}`,
    );
  const snapshot = await readSource({ name, head, chunks: rest }, LIMITS);
  // The CLI's defaults (analyze --min-count 10 --stuck-minutes 10 --top 10 --frames 12).
  const report = analyze(snapshot, { minCount: 10, stuckMinutes: 10 });
  return {
    json: reportJson(report),
    text: terminalText(renderText(report, { style: PLAIN, top: 10, frames: 12 }), false),
  };
}

function byId(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page lacks #${id}`);
  return e;
}

let running = 0;
async function show(file: File): Promise<void> {
  const mine = ++running;
  const status = byId('drop-status');
  const error = byId('error');
  const result = byId('result');
  error.hidden = true;
  result.hidden = true;
  status.textContent = `Reading ${file.name} (${mib(file.size)}) in this browser…`;
  const started = performance.now();
  try {
    const { json, text } = await analyzeFile(file);
    if (mine !== running) return;
    const ms = Math.round(performance.now() - started);
    status.textContent = `${file.name}: read in ${ms} ms, here; nothing was sent.`;
    const n = json.suspects.length;
    byId('result-summary').textContent = [
      `${json.total} goroutines in ${json.groups.length} groups`,
      n === 0 ? 'no suspects' : `${n} suspect${n === 1 ? '' : 's'}`,
      json.incomplete ? `incomplete: ${json.incomplete}` : null,
    ]
      .filter((s) => s !== null)
      .join(' · ');
    const body = document.querySelector('#suspects tbody') as HTMLElement;
    body.replaceChildren();
    for (const x of json.suspects) {
      const f = x.holdingFrame;
      const row = el(
        'tr',
        {},
        el('td', { class: 'num' }, String(x.count)),
        el('td', {}, x.blockedOn),
        el(
          'td',
          { class: 'code' },
          f ? f.function : '—',
          f ? el('span', { class: 'pos' }, ` ${f.file}:${f.line}`) : null,
        ),
        el(
          'td',
          { class: 'code' },
          x.createdBy ? x.createdBy.function : '—',
          x.createdBy
            ? el('span', { class: 'pos' }, ` ${x.createdBy.file}:${x.createdBy.line}`)
            : null,
        ),
        el('td', {}, x.reasons.join('; ')),
      );
      row.dataset.group = x.id;
      body.append(row);
    }
    byId('report').textContent = text;
    result.hidden = false;
  } catch (err) {
    if (mine !== running) return;
    status.textContent = '';
    error.hidden = false;
    error.textContent =
      err instanceof UserError
        ? `Could not read: ${err.message}`
        : `leakwatch failed on this file (a bug; please report it): ${(err as Error).message}`;
  }
}

const zone = byId('drop');
const input = byId('file') as HTMLInputElement;
input.addEventListener('change', () => {
  const f = input.files?.[0];
  if (f) void show(f);
});
// A drop anywhere on the page; without preventDefault the browser would open the file instead.
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  zone.classList.add('over');
});
document.addEventListener('dragleave', () => zone.classList.remove('over'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  zone.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f) void show(f);
});
