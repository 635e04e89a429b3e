/**
 * The lint config: `.leakwatch.json` in the working directory (or the file given with
 * --config). Only the `lint` key is ours:
 *
 *   { "lint": { "rules": { "goroutine-without-exit": "warning", "nil-channel-op": "off" },
 *               "tests": false } }
 *
 * Every rule is "error" unless the config says otherwise. Mistakes in the file are the user's to
 * fix, so they are UserErrors naming the file and the key.
 */
import { readConfigFile } from '../config.js';
import { UserError } from '../errors.js';
import type { Severity } from './rule.js';
import { RULE_IDS } from './rules/index.js';

export { CONFIG_FILE } from '../config.js';

interface LintConfig {
  /** Rule id → severity; rules switched off are absent. */
  rules: Map<string, Severity>;
  tests: boolean;
  /** The file read, if any. */
  path?: string;
}

export function loadConfig(cwd: string, explicit?: string): LintConfig {
  const rules = new Map<string, Severity>(RULE_IDS.map((id) => [id, 'error']));
  const file = readConfigFile(cwd, explicit);
  if (!file) return { rules, tests: false };
  const { raw, where, path } = file;
  const lint = raw.lint;
  if (lint === undefined) return { rules, tests: false, path };
  if (typeof lint !== 'object' || lint === null || Array.isArray(lint))
    throw new UserError(`${where}: "lint" must be an object`);
  const l = lint as { rules?: unknown; tests?: unknown };
  let tests = false;
  if (l.tests !== undefined) {
    if (typeof l.tests !== 'boolean')
      throw new UserError(`${where}: "lint.tests" must be true or false`);
    tests = l.tests;
  }
  if (l.rules !== undefined) {
    if (typeof l.rules !== 'object' || l.rules === null || Array.isArray(l.rules))
      throw new UserError(
        `${where}: "lint.rules" must be an object of rule id → "off" | "warning" | "error"`,
      );
    for (const [id, level] of Object.entries(l.rules)) {
      if (!RULE_IDS.includes(id))
        throw new UserError(
          `${where}: unknown rule "${id}" in lint.rules (known: ${RULE_IDS.join(', ')})`,
        );
      if (level === 'off') rules.delete(id);
      else if (level === 'warning' || level === 'error') rules.set(id, level);
      else
        throw new UserError(
          `${where}: lint.rules["${id}"] must be "off", "warning" or "error", got ${JSON.stringify(level)}`,
        );
    }
  }
  return { rules, tests, path };
}
