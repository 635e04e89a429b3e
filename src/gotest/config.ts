/**
 * The `test` key of `.leakwatch.json`: goroutines a project expects to outlive its tests,
 * like goleak's IgnoreTopFunction / IgnoreCreatedBy options.
 *
 *   { "test": { "ignoreTop": ["github.com/x/y.(*pool).run"], "ignoreCreatedBy": ["go.x/z.init"] } }
 */
import { readConfigFile, stringList } from '../config.js';
import { UserError } from '../errors.js';

interface TestConfig {
  ignoreTop: string[];
  ignoreCreatedBy: string[];
}

export function loadTestConfig(cwd: string, explicit?: string): TestConfig {
  const file = readConfigFile(cwd, explicit);
  const t = file?.raw.test;
  if (!file || t === undefined) return { ignoreTop: [], ignoreCreatedBy: [] };
  if (typeof t !== 'object' || t === null || Array.isArray(t))
    throw new UserError(`${file.where}: "test" must be an object`);
  const obj = t as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (k !== 'ignoreTop' && k !== 'ignoreCreatedBy') {
      throw new UserError(
        `${file.where}: unknown key "test.${k}" (known: ignoreTop, ignoreCreatedBy)`,
      );
    }
  }
  return {
    ignoreTop: stringList(obj, 'ignoreTop', 'test.ignoreTop', file.where),
    ignoreCreatedBy: stringList(obj, 'ignoreCreatedBy', 'test.ignoreCreatedBy', file.where),
  };
}
