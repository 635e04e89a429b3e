/**
 * `//leakwatch:ignore RULE[,RULE...] reason` silences those rules on its own line (as a
 * trailing comment) and on the line below (as a comment of its own). The reason is for the
 * reader; we ask for it in the docs but do not enforce it.
 */
const DIRECTIVE = /\/\/\s*leakwatch:ignore\s+([\w,-]+)/g;

type Suppressions = Map<number, Set<string>>;

/** Line (1-based) → rule ids silenced there. */
export function suppressions(source: string): Suppressions {
  const out: Suppressions = new Map();
  if (!source.includes('leakwatch:ignore')) return out;
  const lines = source.split('\n');
  lines.forEach((text, i) => {
    DIRECTIVE.lastIndex = 0;
    const m = DIRECTIVE.exec(text);
    if (!m) return;
    const ids = m[1]!.split(',').filter(Boolean);
    const own = text.slice(0, m.index).trim() === '';
    // A directive alone on its line covers the next line; a trailing one covers its own.
    const line = own ? i + 2 : i + 1;
    const set = out.get(line) ?? new Set<string>();
    for (const id of ids) set.add(id);
    out.set(line, set);
    if (own) {
      const same = out.get(i + 1) ?? new Set<string>();
      for (const id of ids) same.add(id);
      out.set(i + 1, same);
    }
  });
  return out;
}

export function isSuppressed(s: Suppressions, line: number, rule: string): boolean {
  const ids = s.get(line);
  return !!ids && (ids.has(rule) || ids.has('all'));
}
