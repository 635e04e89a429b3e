/**
 * `.leakwatch.json`: one file for every command, one top-level key per command (`lint`, `test`).
 * This reads the file; each command validates its own key and names the key in its errors.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { messageOf, UserError } from './errors.js';

export const CONFIG_FILE = '.leakwatch.json';

interface ConfigFile {
  /** The parsed JSON object. */
  raw: Record<string, unknown>;
  /** How to name the file in messages. */
  where: string;
  path: string;
}

/** Reads `.leakwatch.json` from `cwd`, or the `explicit` file; undefined if there is none. */
export function readConfigFile(cwd: string, explicit?: string): ConfigFile | undefined {
  const path = explicit ? resolve(cwd, explicit) : join(cwd, CONFIG_FILE);
  const where = explicit ?? CONFIG_FILE;
  if (!explicit && !existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${where}: cannot read config: ${messageOf(err)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${where}: expected a JSON object with "lint" and/or "test" keys`);
  }
  return { raw: raw as Record<string, unknown>, where, path };
}

/** A list of strings at `key` of `obj`, or a UserError naming `name`. */
export function stringList(
  obj: Record<string, unknown>,
  key: string,
  name: string,
  where: string,
): string[] {
  const v = obj[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new UserError(`${where}: "${name}" must be a list of function names (strings)`);
  }
  return v as string[];
}
