/**
 * Long-lived maps ("registries"): map fields of structs and package-level map variables, what
 * their values hold, where entries go in and whether anything ever takes them out.
 */
import { type GoFile, type Package, isExported } from './package.js';
import { type Node, topLevel } from './syntax.js';

/** Import paths whose Conn types are connections a peer can abandon. */
export const CONN_PKGS: Record<string, string[]> = {
  'github.com/gorilla/websocket': ['Conn'],
  'github.com/coder/websocket': ['Conn'],
  'nhooyr.io/websocket': ['Conn'],
  'golang.org/x/net/websocket': ['Conn'],
  net: ['Conn', 'TCPConn', 'UnixConn'],
  'crypto/tls': ['Conn'],
};

/**
 * Words one of the types lifecycleOf knows must be written with: `chan`, or the name of a
 * qualified type it accepts. A package whose code has none holds no lifecycle in any map (the
 * `needs` of entry-never-removed); keep it in step with lifecycleOf.
 */
export const LIFECYCLE_WORDS = new RegExp(
  `\\bchan\\b|\\b(CancelFunc|CancelCauseFunc|Ticker|Timer|${[...new Set(Object.values(CONN_PKGS).flat())].join('|')})\\b`,
);

/** What a type holds that has a lifecycle, in words ("a cancel func"), or undefined. */
export function lifecycleOf(
  pkg: Package,
  file: GoFile | undefined,
  t: Node | null | undefined,
  depth = 0,
): string[] {
  if (!t) return [];
  if (t.type === 'pointer_type' || t.type === 'parenthesized_type')
    return lifecycleOf(pkg, file, t.namedChildren[t.namedChildren.length - 1], depth);
  if (t.type === 'channel_type') return ['a channel'];
  if (t.type === 'qualified_type') {
    const q = t.childForFieldName('package')?.text ?? '';
    const name = t.childForFieldName('name')?.text ?? '';
    const path = file?.imports.get(q) ?? q;
    if (path === 'context' && /^Cancel(Cause)?Func$/.test(name)) return ['a cancel func'];
    if (path === 'time' && (name === 'Ticker' || name === 'Timer'))
      return [`a ${name.toLowerCase()}`];
    if (CONN_PKGS[path]?.includes(name)) return ['a connection'];
    return [];
  }
  if (t.type === 'type_identifier' && depth === 0) {
    const fields = pkg.structs.get(t.text);
    if (!fields) return [];
    const out = new Set<string>();
    for (const ft of fields.values()) for (const w of lifecycleOf(pkg, file, ft, 1)) out.add(w);
    return [...out];
  }
  return [];
}

export interface Registry {
  /** Field name (x.name) or package-level variable name. */
  name: string;
  field: boolean;
  /** The map's key type. */
  key: Node | null;
  value: Node;
  file: GoFile;
}

/**
 * Struct fields whose own type is a map, with that type, in tree order. Such a type begins with
 * the keyword: found from the `map`s in the code rather than from every field of every struct
 * (most are not maps). A tree with syntax errors may hold fields anywhere: walked.
 */
function mapFields(pkg: Package): { file: GoFile; node: Node; t: Node }[] {
  const out: { file: GoFile; node: Node; t: Node }[] = [];
  for (const file of pkg.files) {
    const root = file.root;
    if (root.hasError) {
      for (const node of root.descendantsOfType('field_declaration')) {
        const t = node.childForFieldName('type');
        if (t?.type === 'map_type') out.push({ file, node, t });
      }
      continue;
    }
    const re = /\bmap\b/g;
    for (let m = re.exec(file.code); m; m = re.exec(file.code)) {
      const token = root.descendantForIndex(m.index, m.index + 3);
      const t = token.type === 'map' ? token.parent : null;
      const node = t?.type === 'map_type' ? t.parent : null;
      if (node?.type === 'field_declaration' && node.childForFieldName('type')?.id === t!.id)
        out.push({ file, node, t: t! });
    }
  }
  return out;
}

/** Unexported map fields and package-level map variables. */
export function registries(pkg: Package): Registry[] {
  return pkg.memo('registries', () => findRegistries(pkg));
}

function findRegistries(pkg: Package): Registry[] {
  const out: Registry[] = [];
  for (const { file, node, t } of mapFields(pkg)) {
    const value = t.childForFieldName('value');
    if (!value) continue;
    for (const n of node.childrenForFieldName('name'))
      if (!isExported(n.text))
        out.push({ name: n.text, field: true, key: t.childForFieldName('key'), value, file });
  }
  for (const file of pkg.files) {
    for (const decl of topLevel(file.root, 'var_declaration')) {
      for (const spec of decl.descendantsOfType('var_spec')) {
        let t = spec.childForFieldName('type');
        if (!t) {
          const v = spec.childForFieldName('value')?.namedChildren[0];
          if (v?.type === 'composite_literal') t = v.childForFieldName('type');
          if (v?.type === 'call_expression' && v.childForFieldName('function')?.text === 'make')
            t = v.childForFieldName('arguments')?.namedChildren[0] ?? null;
        }
        if (t?.type !== 'map_type') continue;
        const value = t.childForFieldName('value');
        if (!value) continue;
        for (const n of spec.childrenForFieldName('name'))
          if (!isExported(n.text))
            out.push({ name: n.text, field: false, key: t.childForFieldName('key'), value, file });
      }
    }
  }
  return out;
}

function ref(r: Registry): string {
  return r.field ? `\\.\\s*${r.name}` : `(?<![\\p{L}\\p{N}_.])${r.name}`;
}

/** `reg[k] = v` sites. */
export function insertions(pkg: Package, r: Registry): { file: GoFile; node: Node }[] {
  const re = new RegExp(`${ref(r)}\\s*\\[`, 'gu');
  const out: { file: GoFile; node: Node }[] = [];
  for (const { file, index } of pkg.codeSearchWord(r.name, re)) {
    let n: Node | null = file.root.descendantForIndex(index + (r.field ? 1 : 0), index + 1);
    while (n && n.type !== 'index_expression' && n.type !== 'source_file') n = n.parent;
    if (n?.type !== 'index_expression') continue;
    const list = n.parent;
    const stmt = list?.parent;
    if (
      list?.type === 'expression_list' &&
      stmt?.type === 'assignment_statement' &&
      stmt.childForFieldName('left')?.id === list.id &&
      stmt.childForFieldName('operator')?.text === '='
    )
      out.push({ file, node: stmt });
  }
  return out;
}

/**
 * Statements that take entries out or drop the whole map: delete(reg, k), clear(reg),
 * reg = <anything>, or the map handed to a function (which might delete).
 */
export function removals(pkg: Package, r: Registry): { file: GoFile; index: number }[] {
  const R = ref(r);
  const re = new RegExp(
    `(?:\\bdelete\\s*\\(\\s*[^,()]*${R}\\s*,)|(?:\\bclear\\s*\\(\\s*[^()]*${R}\\s*\\))|(?:${R}\\s*=(?!=))|(?:[(,]\\s*[\\p{L}\\p{N}_.]*${R}\\s*[,)])`,
    'gu',
  );
  return pkg
    .codeSearchWord(r.name, re)
    .filter(
      ({ file, index, match }) =>
        // `var reg = map...` declares it; `len(reg)` only reads it.
        !/\bvar\s+$/.test(file.code.slice(Math.max(0, index - 12), index)) &&
        (!/^[(,]/.test(match[0]) ||
          !/\b(len|cap|delete|clear)\s*$/.test(file.code.slice(Math.max(0, index - 12), index))),
    )
    .map(({ file, index }) => ({ file, index }));
}
