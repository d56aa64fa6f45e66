/**
 * The one error type of sealwire.
 *
 * Every failure that crosses a module boundary is a `SealwireError` with a stable `code`, so that
 * callers switch on the code, never on the message. Messages are for the operator: they say which
 * phase failed and what to check, and never contain key material or plaintext. The peer is told
 * nothing (see docs/DESIGN.md §2.7): transports drop or close, they do not echo these messages.
 */

export const ErrorCodes = [
  /** A record failed authentication, or arrived in a state that does not accept it. */
  'BAD_RECORD',
  /** A datagram record's sequence number was already seen or is behind the replay window. */
  'REPLAY',
  /** The handshake failed: bad message, failed verification, or the peer went away during it. */
  'HANDSHAKE_FAILED',
  /** The peer's key is not authorized (server) or does not match the pinned key (client). */
  'UNKNOWN_PEER',
  /** A length or size above its limit, refused before anything was allocated for it. */
  'TOO_LARGE',
  /** A deadline passed: handshake, idle or linger timeout. */
  'TIMEOUT',
  /** The stream ended without the peer's authenticated close record. */
  'TRUNCATED',
  /** A key is malformed, of the wrong type, or too weak (RSA below 2048 bits). */
  'BAD_KEY',
  /** A sequence number reached its hard limit; the session must end. */
  'LIMIT',
  /** The session is closed or failed; the operation is no longer possible. */
  'CLOSED',
  /** A caller passed an invalid argument (a programming error, not a peer's fault). */
  'INVALID_ARGUMENT',
  /** The underlying socket or file failed. */
  'IO',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export class SealwireError extends Error {
  override readonly name = 'SealwireError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A `SealwireError` for something a peer or the network did (a reset, a close without the close
 * record), built without a stack trace: its stack would only show the event-loop callback that
 * noticed, and Node's `destroy(err)` formats it eagerly, which cost a busy server several percent
 * of its CPU when clients hang up (BENCHMARKS.md, fourth pass).
 */
export function peerError(code: ErrorCode, message: string, options?: { cause?: unknown }): SealwireError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new SealwireError(code, message, options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** True when `e` is a `SealwireError`, optionally with the given code. */
export function isSealwireError(e: unknown, code?: ErrorCode): e is SealwireError {
  return e instanceof SealwireError && (code === undefined || e.code === code);
}

/**
 * Wraps anything thrown by a lower layer (a Node API, a native binding) into a `SealwireError`.
 * Used at the edges where a library call on untrusted input may throw its own error type.
 */
export function asSealwireError(e: unknown, code: ErrorCode, context: string): SealwireError {
  if (e instanceof SealwireError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new SealwireError(code, `${context}: ${detail}`, { cause: e });
}
