/** Helpers every suite's handshake uses, so that no suite writes them again. */
import { SealwireError } from '../errors.js';
import type { HandshakeMessage } from '../session/handshake.js';

const hex = (t: number): string => `0x${t.toString(16).padStart(2, '0')}`;

/** A `HANDSHAKE_FAILED` error prefixed with the suite's name. */
export function handshakeError(suite: string, message: string): SealwireError {
  return new SealwireError('HANDSHAKE_FAILED', `${suite}: ${message}`);
}

/**
 * Throws unless `m` has the expected type. The message names what was expected and what came,
 * and suggests the usual cause of a type from outside the suite's numbering: a peer running
 * another suite.
 */
export function expectMessage(suite: string, m: HandshakeMessage, type: number, name: string, knownTypes: readonly number[]): void {
  if (m.type === type) return;
  const hint = knownTypes.includes(m.type) ? '' : ` (is the peer running another suite than '${suite}'?)`;
  throw handshakeError(suite, `expected ${name} (${hex(type)}), got message ${hex(m.type)}${hint}`);
}

/** Throws unless the payload has exactly `size` bytes (checked before anything is parsed). */
export function expectPayloadSize(suite: string, m: HandshakeMessage, size: number, name: string): void {
  if (m.payload.length !== size) throw handshakeError(suite, `${name} of ${m.payload.length} bytes, expected ${size}`);
}
