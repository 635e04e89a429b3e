/**
 * `leakwatch lint` for people: each finding as `file:line:col: rule`, its message, the source
 * line with a caret under the column, and the fix. Color only where styleFor allows it.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { type Style, num } from '../../render/style.js';
import type { LintResult } from '../run.js';

export interface TextOptions {
  style: Style;
  cwd: string;
}

export function renderLintText(r: LintResult, o: TextOptions): string {
  const { style: s } = o;
  const out: string[] = [];
  const sources = new Map<string, string[]>();
  const linesOf = (file: string): string[] => {
    let l = sources.get(file);
    if (!l) {
      try {
        l = readFileSync(isAbsolute(file) ? file : join(o.cwd, file), 'utf8').split('\n');
      } catch {
        l = [];
      }
      sources.set(file, l);
    }
    return l;
  };
  const main = r.findings.filter((f) => !f.testOnly);
  const notes = r.findings.filter((f) => f.testOnly);
  for (const f of main) {
    const sev = f.severity === 'error' ? s.red('error') : s.yellow('warning');
    out.push(`${s.bold(`${f.file}:${f.line}:${f.column}`)}: ${sev} ${s.cyan(f.rule)}`);
    out.push(`  ${f.message}`);
    const lines = linesOf(f.file);
    const width = String(f.line + 1).length;
    const gutter = (n: number | '') => s.dim(`${String(n).padStart(width)} |`);
    for (let n = f.line - 1; n <= f.line + 1; n++) {
      const text = lines[n - 1];
      if (text === undefined || (n !== f.line && text.trim() === '')) continue;
      out.push(`  ${n === f.line ? s.red('>') : ' '} ${gutter(n)} ${text.replace(/\r$/, '')}`);
      if (n === f.line) {
        // Keep tabs so the caret lines up with the code above it.
        const bytes = Buffer.from(text, 'utf8')
          .subarray(0, f.column - 1)
          .toString('utf8');
        const pad = bytes.replace(/[^\t]/g, ' ');
        out.push(`    ${gutter('')} ${pad}${s.red('^')}`);
      }
    }
    out.push(`  ${s.green('fix:')} ${f.fix}`);
    out.push('');
  }
  if (notes.length > 0) {
    out.push(s.bold('Leaks reachable only after a test has failed (notes, not errors):'));
    for (const f of notes) {
      out.push(`${s.bold(`${f.file}:${f.line}:${f.column}`)}: ${s.dim('note')} ${s.cyan(f.rule)}`);
      out.push(`  ${f.message}`);
      out.push(`  ${s.dim('only after:')} ${f.testOnly!}`);
    }
    out.push('');
  }
  for (const p of r.problems)
    out.push(s.yellow(`${p.file}${p.line > 0 ? `:${p.line}:${p.column}` : ''}: ${p.reason}`));
  if (r.problems.length > 0) out.push('');
  const errors = main.filter((f) => f.severity === 'error').length;
  const warnings = main.length - errors;
  const counts =
    main.length === 0
      ? s.green('no findings')
      : `${num(main.length)} finding${main.length === 1 ? '' : 's'} (${num(errors)} error${errors === 1 ? '' : 's'}, ${num(warnings)} warning${warnings === 1 ? '' : 's'})`;
  const extra = [
    notes.length > 0 ? `${num(notes.length)} after a failed test` : '',
    r.suppressed > 0 ? `${num(r.suppressed)} suppressed` : '',
    r.problems.length > 0
      ? `${num(r.problems.length)} file${r.problems.length === 1 ? '' : 's'} not fully linted`
      : '',
  ].filter(Boolean);
  out.push(
    `${counts} in ${num(r.packages)} package${r.packages === 1 ? '' : 's'}, ${num(r.files)} files, ${num(r.lines)} lines${extra.length > 0 ? `; ${extra.join(', ')}` : ''}`,
  );
  return `${out.join('\n')}\n`;
}
