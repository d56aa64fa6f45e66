/**
 * How the CLI fails: one clear line on stderr, exit 1 for runtime failures and 2 for usage errors
 * (docs/DESIGN.md §7). Never a stack trace for an expected failure; never key material or plaintext.
 */
import { SealwireError } from '../errors.js';
import { escapeText, peerText } from '../text/escape.js';

/** Longest message of an unexpected error printed (code points). */
const MAX_ERROR_CHARS = 1000;

/** A wrong command line: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Prints `sealwire: <message>` for an error and returns the exit code it deserves. The message is
 * escaped (text/escape.ts): it may carry a peer's string, such as a server's refusal reason.
 */
export function reportError(e: unknown, command?: string): number {
  const prefix = command ? `sealwire ${command}` : 'sealwire';
  if (e instanceof UsageError) {
    process.stderr.write(`${prefix}: ${escapeText(e.message)} (see --help)\n`);
    return EXIT_USAGE;
  }
  if (e instanceof SealwireError) {
    process.stderr.write(`${prefix}: ${escapeText(e.message)} [${e.code}]\n`);
    return EXIT_FAILURE;
  }
  const msg = e instanceof Error ? e.message : String(e);
  // Escaped whole (a newline becomes \u000a), so a peer's multi-line reason shows in full on one line.
  process.stderr.write(`${prefix}: ${peerText(msg, MAX_ERROR_CHARS)}\n`);
  return EXIT_FAILURE;
}

/** Writes what is pending on stdout and stderr, then exits. */
export function exitAfterFlush(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
