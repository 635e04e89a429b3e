/**
 * `--db`: a `postgres://` (or `postgresql://`) URL selects the PostgreSQL store, anything else
 * is the path of a SQLite file.
 *
 * URL form: `postgres://USER@HOST:PORT/DB[?schema=NAME&sslmode=disable|require|verify-full]`.
 * A password in the URL is refused (it would show in `ps`, shell history and logs), as target
 * URLs with credentials are: PostgreSQL's own PGPASSWORD (or ~/.pgpass) supplies it.
 */
import { UserError } from '../../errors.js';
import type { Store } from '../types.js';
import { openPostgresStore, type PgStoreOptions, type PgTarget } from './postgres.js';
import { openSqliteStore } from './sqlite.js';

interface OpenStoreOptions {
  /** SQLite: claim the file for this watcher (see SqliteStoreOptions.exclusive). */
  exclusive?: boolean;
  postgres?: PgStoreOptions;
}

export async function openStore(spec: string, opts: OpenStoreOptions = {}): Promise<Store> {
  if (!/^postgres(ql)?:\/\//i.test(spec)) {
    return openSqliteStore(spec, { exclusive: opts.exclusive === true });
  }
  const { target, schema } = parsePostgresUrl(spec);
  const pgOpts: PgStoreOptions = { ...opts.postgres };
  if (schema !== undefined) pgOpts.schema = schema;
  return openPostgresStore(target, pgOpts);
}

/** Splits a `postgres://` URL into where to connect and the schema; refusals are one line. */
export function parsePostgresUrl(spec: string): { target: PgTarget; schema?: string } {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new UserError(`--db ${redact(spec)}: not a URL (expected postgres://USER@HOST:PORT/DB)`);
  }
  const shown = redact(spec);
  if (url.password)
    throw new UserError(
      `--db ${shown}: a password in the URL is refused (it would show in ps and logs); set PGPASSWORD`,
    );
  if (!url.hostname)
    throw new UserError(`--db ${shown}: no host (expected postgres://USER@HOST:PORT/DB)`);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database || database.includes('/'))
    throw new UserError(
      `--db ${shown}: expected one database name after the host, as in postgres://USER@HOST:5432/leakwatch`,
    );
  const port = url.port ? Number(url.port) : 5432;
  const target: PgTarget = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    database,
  };
  if (url.username) target.user = decodeURIComponent(url.username);
  let schema: string | undefined;
  for (const [k, v] of url.searchParams) {
    if (k === 'schema') schema = v;
    else if (k === 'sslmode') {
      if (v === 'disable') target.ssl = false;
      else if (v === 'require') target.ssl = { rejectUnauthorized: false };
      else if (v === 'verify-full') target.ssl = { rejectUnauthorized: true };
      else
        throw new UserError(
          `--db ${shown}: sslmode=${v}: expected disable, require or verify-full`,
        );
    } else throw new UserError(`--db ${shown}: unknown parameter "${k}" (known: schema, sslmode)`);
  }
  return schema === undefined ? { target } : { target, schema };
}

/** The URL with any password masked, for messages. */
function redact(spec: string): string {
  return spec.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
