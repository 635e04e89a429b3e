/**
 * A mistake in what the user gave us: a file that is not a dump, a URL that answers 404, a
 * flag out of range. The CLI prints `message` as one line and exits 2; no stack trace, because
 * the fix is in the user's hands, not in our code.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string) {
    super(message);
  }
}

/** The message of anything thrown, for the one-line error the CLI prints. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
