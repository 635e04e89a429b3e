/**
 * Text that comes from a profile (function names, files, labels, a target's HTTP status text, an
 * error message quoting any of them) is written by the target's owner, not by us: it can hold an
 * ESC that drives the terminal, a newline that forges a log line, or markup. Each destination
 * gets its own escaping, applied at the output and nowhere else (the data stays as read):
 *
 *   terminal, log line, stderr  printable(): one line, controls shown as `\n`, `\x1b`, `\u202e`
 *   a report on a terminal      terminalText(): lines kept, our own colors kept, the rest shown
 *   JSON                        json(): JSON.stringify, plus \u escapes for what it leaves raw
 *   Slack mrkdwn                mrkdwn(): &, <, > as entities (no `<!channel>`, no links)
 *   Prometheus label value      promLabel(): `\\`, `\"`, `\n` as the text format defines them
 *   Prometheus label name       promLabelName(): `[a-zA-Z_][a-zA-Z0-9_]*`, other characters `_`
 */

/**
 * What a terminal or a log reader would act on: C0 controls (newline, ESC...), DEL, C1 controls
 * (0x9b opens a CSI on some terminals), the line and paragraph separators some log viewers break
 * on, and the bidirectional overrides that make text read other than it is stored.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** UNSAFE less C0: JSON.stringify escapes those in strings, and its indentation is made of them. */
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function shown(c: string): string {
  const code = c.charCodeAt(0);
  return (
    SHORT[c] ??
    (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`)
  );
}

/**
 * One line with nothing a terminal or a log parser acts on; what was there stays visible as an
 * escape (`deliver\nALERT` reads as such, it does not start a line). Backslashes are kept as
 * they are: Windows paths stay readable, and the point is safety, not a reversible encoding.
 */
export function printable(s: string): string {
  return s.replace(UNSAFE, shown);
}

/**
 * A whole report for a terminal: lines and indentation kept, every other control shown as an
 * escape, except the color sequences (SGR, `ESC[...m`) our own styling writes when `colored`.
 * A hostile SGR in a function name can then change a color at worst; it cannot move the
 * cursor, clear the screen or set the window title.
 */
export function terminalText(s: string, colored: boolean): string {
  // eslint-disable-next-line no-control-regex
  const keep = colored ? /\u001b\[[0-9;]*m|[\n\t]/y : /[\n\t]/y;
  let out = '';
  let last = 0;
  for (const m of s.matchAll(UNSAFE)) {
    const i = m.index;
    keep.lastIndex = i;
    const k = keep.exec(s);
    if (k) continue;
    out += s.slice(last, i) + shown(m[0]);
    last = i + m[0].length;
  }
  return last === 0 ? s : out + s.slice(last);
}

/**
 * JSON that stays safe on a terminal: JSON.stringify escapes C0 controls but leaves DEL, C1 and
 * the bidi and line-separator characters raw; they get `\uXXXX` escapes, which parse back to
 * the same value. Newlines inside strings are escaped, so one value is one line (no indent).
 */
export function json(v: unknown, indent?: number): string {
  return JSON.stringify(v, null, indent).replace(
    RAW_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Slack mrkdwn: `&`, `<` and `>` are its only markup that needs entities (links, mentions). */
export function mrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A label value of the Prometheus text format: backslash, double quote and line feed escaped as
 * the format defines. It defines no other escape, so any other control character (legal there,
 * but an ESC would still reach whoever curls /metrics to a terminal) becomes U+FFFD.
 */
export function promLabel(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(UNSAFE, '\ufffd');
}

/**
 * A label name every Prometheus and Alertmanager accepts, `[a-zA-Z_][a-zA-Z0-9_]*`:
 * `app.kubernetes.io/name` → `app_kubernetes_io_name`; a leading digit gets a `_`.
 */
export function promLabelName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) || s === '' ? `_${s}` : s;
}
