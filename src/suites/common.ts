/** Helpers every suite's handshake uses, so that no suite writes them again. */
import { SealwireError } from '../errors.js';
import type { KeyObject } from 'node:crypto';
import { PublicKey, type KeyPair } from '../keys/key.js';
import type { HandshakeMessage, ServerIdentity } from '../session/handshake.js';

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

// --- RSA suites ------------------------------------------------------------------------------

/** Largest SubjectPublicKeyInfo DER accepted in a message (an 8192-bit RSA key is 1 062 bytes). */
export const MAX_SPKI_SIZE = 1100;

/**
 * An RSA public key (SubjectPublicKeyInfo DER) that a peer sent. Throws `BAD_KEY` for bytes that
 * are not an RSA key, or one below 2048 bits, naming whose key it was.
 */
export function peerRsaKey(suite: string, bytes: Uint8Array, whose: 'server' | 'client' | 'per-session'): PublicKey {
  try {
    const key = PublicKey.fromBytes('rsa', bytes);
    if (key.type !== 'rsa') throw new SealwireError('BAD_KEY', 'not an RSA key');
    // One key, one encoding: DER that OpenSSL tolerates but would not itself write (e.g. other
    // algorithm parameters) is refused, so that no altered message parses as the same key.
    if (!key.bytes.equals(bytes)) throw new SealwireError('BAD_KEY', 'not in canonical DER form');
    return key;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new SealwireError('BAD_KEY', `${suite}: the ${whose} key the peer sent is refused: ${why}`);
  }
}

/**
 * The client's check of the server's long-term key: equal to the pinned key, or accepted by the
 * `learn` verifier (fingerprint, known_hosts). Throws `UNKNOWN_PEER` otherwise.
 */
export function checkServerKey(suite: string, identity: ServerIdentity, offered: PublicKey): void {
  if (identity.kind === 'learn') {
    identity.verify(offered);
    return;
  }
  if (!identity.key.equals(offered)) {
    throw new SealwireError(
      'UNKNOWN_PEER',
      `${suite}: the server presented key ${offered.fingerprint}, but ${identity.key.fingerprint} is pinned (wrong server, or the server's key changed)`,
    );
  }
}

/**
 * The KeyReply of the suites whose client may learn the server's RSA key first (secsess, ccm):
 * the key it carries, checked against how the client knows the server.
 */
export function serverKeyFromReply(suite: string, m: HandshakeMessage, type: number, knownTypes: readonly number[], identity: ServerIdentity): PublicKey {
  expectMessage(suite, m, type, 'KeyReply', knownTypes);
  const server = peerRsaKey(suite, m.payload, 'server');
  checkServerKey(suite, identity, server);
  return server;
}

/** Throws `UNKNOWN_PEER` unless the server's `authorize` accepts the client's key. */
export function checkAuthorized(suite: string, authorize: (k: PublicKey) => boolean, client: PublicKey): void {
  if (!authorize(client)) throw new SealwireError('UNKNOWN_PEER', `${suite}: client key ${client.fingerprint} is not authorized`);
}

/** A key's RSA private key object, refusing non-RSA keys with `BAD_KEY`. */
export function rsaPrivate(suite: string, key: KeyPair, whose: string): KeyObject {
  if (key.type !== 'rsa') throw new SealwireError('BAD_KEY', `${suite}: the ${whose} needs an RSA key pair, got ${key.type}`);
  return key.privateKey;
}

/**
 * A KeyQuery (the RSA suites' way for a client that does not know the server's key to ask for it;
 * the server answers with its SubjectPublicKeyInfo DER): the payload must be empty.
 */
export function checkKeyQuery(suite: string, payload: Uint8Array): void {
  if (payload.length !== 0) throw handshakeError(suite, `KeyQuery of ${payload.length} bytes, expected 0`);
}
