/**
 * `leakwatch serve`: the dashboard over a saved database, without watching anything: a SQLite
 * file or a fleet's PostgreSQL URL. The file may belong to a running watcher at the same time
 * (WAL lets readers in), so it is opened without claiming it; PostgreSQL has many readers anyway.
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { interrupted, listenDashboard } from '../../dashboard/listen.js';
import { dashboardHandler } from '../../dashboard/server.js';
import { UserError } from '../../errors.js';
import { parseListen } from '../../watch/api.js';
import { openStore } from '../../watch/store/open.js';
import { openSqliteStore } from '../../watch/store/sqlite.js';
import type { Store } from '../../watch/types.js';
import type { Cli } from '../context.js';

interface ServeFlags {
  db: string;
  listen: string;
  token?: string;
  source?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const POSTGRES = /^postgres(ql)?:\/\//i;

/** A SQLite file that must exist: openSqliteStore creates a missing one, and a dashboard over nothing is a typo in --db. */
function openFile(db: string): Store {
  let isFile = false;
  try {
    isFile = statSync(db).isFile();
  } catch {
    throw new UserError(
      `--db ${db}: no such file; expected a database written by leakwatch watch --db`,
    );
  }
  if (!isFile) throw new UserError(`--db ${db}: not a regular file; expected a leakwatch database`);
  return openSqliteStore(db);
}

async function runServe(f: ServeFlags, cli: Cli): Promise<number> {
  const { host, port } = parseListen(f.listen);
  const token = f.token ?? process.env.LEAKWATCH_TOKEN;
  if (!LOOPBACK.has(host) && !token)
    throw new UserError(
      `--listen ${f.listen}: serving beyond this machine needs a token (--token or LEAKWATCH_TOKEN)`,
    );
  let source: string | undefined;
  if (f.source !== undefined) {
    const { enclosingModule } = await import('../../link/gomod.js');
    if (enclosingModule(f.source) === undefined)
      throw new UserError(
        `--source ${f.source}: no go.mod here or above, expected a Go module checkout`,
      );
    source = f.source;
  }
  const store = POSTGRES.test(f.db) ? await openStore(f.db) : openFile(f.db);
  // A saved database's ranges end at each target's last scrape, not at an empty "now".
  const handle = dashboardHandler(store, {
    anchor: 'last-scrape',
    ...(token ? { token } : {}),
    ...(source !== undefined ? { source } : {}),
  });
  const served = await listenDashboard(store, handle, { host, port, listen: f.listen });
  cli.io.stderr.write(`leakwatch: dashboard on ${served.url} (Ctrl-C to stop)\n`);
  await interrupted();
  await served.close();
  return 0;
}

export function register(program: Command, cli: Cli): void {
  program
    .command('serve')
    .description('serve the dashboard over a database written by `leakwatch watch --db`')
    .requiredOption(
      '--db <file|url>',
      'the SQLite database (may be in use by a running watcher) or postgres://USER@HOST:PORT/DB',
    )
    .option('--listen <host:port>', 'where to serve (127.0.0.1 unless --token)', '127.0.0.1:8080')
    .option('--token <t>', 'required on every request (or LEAKWATCH_TOKEN); needed off loopback')
    .option(
      '--source <dir>',
      "checkout of the watched services' Go module: the group view shows the source line and lint findings",
    )
    .action(async (opts: ServeFlags) => {
      cli.exit(await runServe(opts, cli));
    });
}
