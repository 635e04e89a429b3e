/**
 * Plain-text views of Go source that the rules search with regular expressions before (or
 * instead of) walking syntax trees: most rules only need "does any code in this package mention
 * `.cancel`", and a regex over text is far cheaper than a walk over native tree nodes.
 */

/**
 * The source with every comment, string and rune literal replaced by spaces (newlines kept), so
 * offsets and line numbers still match the original and a word in a comment or a string never
 * counts as a use.
 */
export function codeOnly(src: string): string {
  // Copies code through in slices and blanks only what it skips: a char array of the whole
  // file (split, then join) costs more than the rest of the scan on large packages.
  const out: string[] = [];
  const n = src.length;
  let copied = 0;
  const blank = (from: number, to: number) => {
    if (to <= from) return;
    out.push(src.slice(copied, from));
    // Most skipped spans (line comments, strings) hold no newline: spaces of the same length,
    // without running a regex over them.
    const nl = src.indexOf('\n', from);
    if (nl < 0 || nl >= to) out.push(spaces(to - from));
    else out.push(src.slice(from, to).replace(/[^\n]/g, ' '));
    copied = to;
  };
  const special = /[/`"']/g;
  let i = 0;
  while (i < n) {
    special.lastIndex = i;
    const m = special.exec(src);
    if (!m) break;
    i = m.index;
    const c = src.charCodeAt(i);
    if (c === 47 /* / */ && src.charCodeAt(i + 1) === 47) {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      blank(i, stop);
      i = stop;
    } else if (c === 47 && src.charCodeAt(i + 1) === 42 /* * */) {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === 96 /* ` */) {
      const end = src.indexOf('`', i + 1);
      const stop = end < 0 ? n : end + 1;
      blank(i + 1, stop - 1);
      i = stop;
    } else if (c === 34 /* " */ || c === 39 /* ' */) {
      let k = i + 1;
      while (k < n) {
        const d = src.charCodeAt(k);
        if (d === 92 /* \ */) k += 2;
        else if (d === c || d === 10) break;
        else k++;
      }
      blank(i + 1, Math.min(k, n));
      i = k + 1;
    } else i++;
  }
  out.push(src.slice(copied));
  return out.join('');
}

const SPACES = ' '.repeat(256);
function spaces(n: number): string {
  return n <= SPACES.length ? SPACES.slice(0, n) : ' '.repeat(n);
}

/** `// Code generated ... DO NOT EDIT.` before the package clause, as the Go convention says. */
export function isGenerated(src: string): boolean {
  const pkg = /^package\s/m.exec(src);
  const head = pkg ? src.slice(0, pkg.index) : src.slice(0, 4096);
  return /^\/\/ Code generated .* DO NOT EDIT\.$/m.test(head);
}

/** A `//go:build ignore` file is not part of any build; the go tool skips it and so do we. */
export function isIgnoredBuild(src: string): boolean {
  const pkg = /^package\s/m.exec(src);
  const head = pkg ? src.slice(0, pkg.index) : src.slice(0, 4096);
  return /^\/\/go:build\s+ignore\s*$/m.test(head);
}

/** The name in the package clause, without parsing the file. */
export function packageName(src: string): string | undefined {
  return /^package\s+([\p{L}_][\p{L}\p{N}_]*)/mu.exec(codeOnlyHead(src))?.[1];
}

function codeOnlyHead(src: string): string {
  const m = /^package\s/m.exec(src);
  return m ? src.slice(m.index, m.index + 200) : '';
}

/** Escapes a Go identifier (never anything else) for use inside a RegExp. */
export function word(name: string): string {
  return name.replace(/[$]/g, '\\$');
}
