/**
 * `chat-server --db VALUE`: a PostgreSQL URL selects the shared store, anything else is the path
 * of the embedded SQLite file. The password in a URL never reaches a log line: `redactUrl` is what
 * the server prints.
 */
import { SealwireError } from '../../errors.js';

/** True for `postgres://…` and `postgresql://…`. */
export function isDatabaseUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** The URL with its password replaced by `***` (for logs and errors). Throws `INVALID_ARGUMENT` when it does not parse. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SealwireError('INVALID_ARGUMENT', 'the database URL does not parse (expected postgres://user:password@host:port/database)');
  }
  if (u.password) u.password = '***';
  return u.toString();
}
