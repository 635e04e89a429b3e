/**
 * The real PostgreSQL server of the tests (127.0.0.1:5432, trust auth): which user it lets in,
 * and an admin connection for creating and dropping a test's own database.
 */
import pg from 'pg';

export const PG_HOST = '127.0.0.1';
export const PG_PORT = 5432;

/** The first of PGUSER, root, postgres the server lets in, or why none did. */
export async function pgUser(): Promise<{ user: string } | { why: string }> {
  let why = '';
  for (const user of [process.env.PGUSER, 'root', 'postgres']) {
    if (!user) continue;
    const c = new pg.Client({
      host: PG_HOST,
      port: PG_PORT,
      user,
      database: 'postgres',
      connectionTimeoutMillis: 3000,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.end();
      return { user };
    } catch (err) {
      why = (err as Error).message;
      await c.end().catch(() => undefined);
    }
  }
  return { why: `PostgreSQL at ${PG_HOST}:${PG_PORT} not reachable (${why})` };
}

/** Runs `fn` on a fresh connection to `database` as `user`, closed after. */
export async function pgAdmin<T>(
  user: string,
  fn: (c: pg.Client) => Promise<T>,
  database = 'postgres',
): Promise<T> {
  const c = new pg.Client({ host: PG_HOST, port: PG_PORT, user, database });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
