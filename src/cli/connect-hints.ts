/**
 * Turns a failed connection into one line that says what most likely happened and which flag
 * fixes it. The handshake cannot tell a client why the server did not answer (a server says
 * nothing to an unauthenticated peer, and over UDP drops it silently), so the same symptom has
 * several causes: the line names the likely ones and their flags (`--tcp`, `--suite`,
 * `--server-key`) instead of a nested "handshake did not finish in time".
 */
import { SealwireError } from '../errors.js';
import type { SuiteName } from '../session/handshake.js';

export interface ConnectContext {
  /** HOST:PORT as the user typed it. */
  readonly target: string;
  readonly transport: 'tcp' | 'udp';
  readonly suite: SuiteName;
  /** --server-key as given (a file or a fingerprint), if any. */
  readonly serverKey?: string | undefined;
  /** The command's default transport (`chat`: UDP, `connect`: TCP), for the flag that switches. */
  readonly defaultTransport?: 'tcp' | 'udp';
  /** What to call the server in the hint (default "the server"). */
  readonly what?: string;
}

/** The error to report for a failed connect: the original when there is nothing to add. */
export function explainConnectFailure(e: unknown, ctx: ConnectContext): unknown {
  if (!(e instanceof SealwireError)) return e;
  const { target, transport, suite } = ctx;
  const byDefault = ctx.defaultTransport ?? 'udp';
  const what = ctx.what ?? 'the server';
  const toTcp = byDefault === 'tcp' ? 'drop --udp' : 'add --tcp';
  const toUdp = byDefault === 'udp' ? 'drop --tcp' : 'add --udp';
  const keyHint = ctx.serverKey !== undefined ? `, or its key is not the one pinned (check --server-key ${ctx.serverKey})` : '';
  const suiteHint = `it uses another suite than ${suite} (--suite, as the server's)`;
  switch (e.code) {
    case 'TIMEOUT':
      if (transport === 'udp' && /handshake/.test(e.message)) {
        return new SealwireError(
          'TIMEOUT',
          `no answer over UDP from ${target}: ${what} most likely runs over TCP (${toTcp}), or ${suiteHint}${keyHint}, or it is not running`,
          { cause: e },
        );
      }
      return e;
    case 'IO':
      if (transport === 'tcp' && /ECONNREFUSED/.test(e.message)) {
        return new SealwireError('IO', `nothing accepts TCP connections at ${target}: if ${what} runs over UDP${byDefault === 'udp' ? ' (its default)' : ''}, ${toUdp}; else check that it runs on that port`, {
          cause: e,
        });
      }
      return e;
    case 'HANDSHAKE_FAILED':
      // Past the server's first answer the suite and key are right: keep the specific reason
      // (e.g. this client's key is not in the server's authorized keys).
      if (/closed the connection during the handshake/.test(e.message) && !/authorized/.test(e.message)) {
        return new SealwireError('HANDSHAKE_FAILED', `the server at ${target} ended the handshake: ${suiteHint}${keyHint}`, { cause: e });
      }
      return e;
    case 'BAD_KEY': {
      const m = /needs (\w+) keys, but the server key is (\w+)/.exec(e.message);
      if (m) {
        const rsa = m[2] === 'rsa';
        return new SealwireError(
          'BAD_KEY',
          `the server key ${ctx.serverKey ?? ''} is ${m[2]}, but suite ${suite} needs ${m[1]}: the server runs ${rsa ? 'an RSA suite (add --suite sid, secsess, ccm or cbcmac, as the server does)' : 'suite box (add --suite box)'}, or the wrong key is pinned (--server-key)`.replace('key  is', 'key is'),
          { cause: e },
        );
      }
      return e;
    }
    default:
      return e;
  }
}
