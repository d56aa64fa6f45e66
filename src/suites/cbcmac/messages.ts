/**
 * The `cbcmac` suite's messages (seed 004, "hybrid encryption"), byte by byte. docs/PROTOCOLS.md
 * has the same tables.
 *
 *   0x00 ClientHello  C→S  client_random (32)                     (the seed's "request connection")
 *   0x01 ServerKey    S→C  u16 ‖ S_pub ‖ u16 ‖ E_pub ‖ u16 ‖ sig  (the seed's step 2, signed)
 *                           sig = RSA-PSS-SHA256(S_priv, "sealwire cbcmac ServerKey" ‖ client_random ‖ E_pub)
 *   0x02 KeyExchange  C→S  RSA-OAEP(E_pub, AES-key (16) ‖ MAC-key (16)) ‖ IV (16) ‖ MAC (16) ‖ message
 *   0x03 Finished     S→C  IV (16) ‖ MAC (16) ‖ AES-CBC(empty)
 *   0x10 Data / 0x11 Close, both ways: IV (16) ‖ MAC (16) ‖ AES-256-CBC(data)      (the seed's step 12)
 *
 * S is the server's long-term key, pinned by the client; E is a fresh per-session key from the
 * server's pool, used for this one handshake and then dropped. Record keys per direction come
 * from HKDF-SHA256(AES-key ‖ MAC-key, salt = SHA-256(0x00 ‖ 0x01 ‖ RSA block)); MAC is
 * HMAC-SHA256 truncated to 16 bytes, encrypt-then-MAC over type, sequence number, the bytes
 * before the body, IV and ciphertext (crypto/cbc-hmac.ts).
 */
import { Reader } from '../../wire/reader.js';
import { Writer, vec16Size } from '../../wire/writer.js';
import { MAX_SPKI_SIZE } from '../common.js';

export const MessageType = {
  CLIENT_HELLO: 0x00,
  SERVER_KEY: 0x01,
  KEY_EXCHANGE: 0x02,
  FINISHED: 0x03,
} as const;

export const CLIENT_RANDOM_SIZE = 32;
/** AES-key and MAC-key, 128 bits each as in the seed. */
export const SECRET_SIZE = 32;
export const MAC_SIZE = 16;
export const KEY_EXCHANGE_LABEL = 'sealwire cbcmac KeyExchange';
export const SIGNATURE_CONTEXT = Buffer.from('sealwire cbcmac ServerKey', 'utf8');
/** Largest signature accepted (an 8192-bit key). */
const MAX_SIGNATURE_SIZE = 1024;

export interface ServerKey {
  readonly serverKey: Uint8Array;
  readonly sessionKey: Uint8Array;
  readonly signature: Uint8Array;
}

export function encodeServerKey(m: ServerKey): Buffer {
  const size = vec16Size(m.serverKey.length) + vec16Size(m.sessionKey.length) + vec16Size(m.signature.length);
  return new Writer(size).vec16(m.serverKey).vec16(m.sessionKey).vec16(m.signature).finish();
}

export function parseServerKey(payload: Uint8Array): ServerKey {
  const r = new Reader(payload, 'cbcmac ServerKey', 'HANDSHAKE_FAILED');
  const m = {
    serverKey: r.vec16('server key', MAX_SPKI_SIZE, 1),
    sessionKey: r.vec16('session key', MAX_SPKI_SIZE, 1),
    signature: r.vec16('signature', MAX_SIGNATURE_SIZE, 1),
  };
  r.end();
  return m;
}

/** What the long-term key signs: the context, the client's random and the per-session key. */
export function signedServerKey(clientRandom: Uint8Array, sessionKey: Uint8Array): Buffer {
  return Buffer.concat([SIGNATURE_CONTEXT, clientRandom, sessionKey]);
}
