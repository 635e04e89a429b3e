/**
 * The dashboard on an HTTP server of its own, for `leakwatch serve` and `demo` (`watch --listen`
 * mounts the handler beside its API instead). A busy or refused address is the user's one-line
 * error, and the store opened for it is closed with it.
 */
import { createServer } from 'node:http';
import { UserError } from '../errors.js';
import type { Store } from '../watch/types.js';
import type { dashboardHandler } from './server.js';

export interface ServedDashboard {
  /** The fleet page, e.g. http://127.0.0.1:8080/ui/ */
  url: string;
  /** Closes open connections, the server, then the store. */
  close(): Promise<void>;
}

/** Serves `handle` on host:port; `listen` is the flag as the user wrote it, for messages. */
export async function listenDashboard(
  store: Store,
  handle: ReturnType<typeof dashboardHandler>,
  at: { host: string; port: number; listen: string },
): Promise<ServedDashboard> {
  const server = createServer((req, res) => {
    if (!handle(req, res)) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found; the dashboard is at /ui/\n');
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, resolve);
    });
  } catch (err) {
    await store.close();
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      `--listen ${at.listen}: ${code === 'EADDRINUSE' ? 'address in use' : (err as Error).message}`,
    );
  }
  const a = server.address() as { address: string; port: number; family: string };
  const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${h}:${a.port}/ui/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await store.close();
    },
  };
}

/** Resolves at the first SIGINT or SIGTERM (a dashboard served until Ctrl-C). */
export function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const on = (): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve();
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
