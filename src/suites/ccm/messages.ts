/**
 * The `ccm` suite's messages (seed 002, "Secure-Communication"), byte by byte. docs/PROTOCOLS.md
 * has the same tables. Fixed-size or length-prefixed fields replace the seed's `@` delimiters.
 *
 *   0x05 KeyQuery          C→S  empty                              (only when C has no key for S)
 *   0x06 KeyReply          S→C  S_pub (SubjectPublicKeyInfo DER)
 *   0x01 ClientKeyExchange C→S  u16 n ‖ C_pub (n bytes, SPKI DER)
 *                              ‖ RSA-OAEP(S_pub, secret (32) ‖ SHA-256(C_pub) (32))      = |S| bytes
 *   0x02 ServerKeyExchange S→C  RSA-OAEP(C_pub, secret (32) ‖ server_nonce (32))         = |C| bytes
 *   0x03 ClientFinished    C→S  record[th]
 *   0x10 Data / 0x11 Close, both ways: record[data]
 *
 *   th        = SHA-256(payload of 0x01 ‖ payload of 0x02)
 *   keys      = HKDF-SHA256(secret ‖ server_nonce, salt = th, "sealwire ccm v1 record keys")
 *   record[m] = IV (12) ‖ AES-128-CCM(key, IV, aad = type ‖ seq ‖ header, m) ‖ tag (16)
 *   IV        = AES-128-CCM(iv_key, nonce = R, R)[0..12], R = 12 random bytes (the seed's derived IV)
 */
import { Reader } from '../../wire/reader.js';
import { Writer, vec16Size } from '../../wire/writer.js';
import { MAX_SPKI_SIZE } from '../common.js';

export const MessageType = {
  CLIENT_KEY_EXCHANGE: 0x01,
  SERVER_KEY_EXCHANGE: 0x02,
  CLIENT_FINISHED: 0x03,
  KEY_QUERY: 0x05,
  KEY_REPLY: 0x06,
} as const;

export const SECRET_SIZE = 32;
export const SERVER_NONCE_SIZE = 32;
export const CLIENT_BLOCK_PLAIN_SIZE = SECRET_SIZE + 32;
export const SERVER_BLOCK_PLAIN_SIZE = SECRET_SIZE + SERVER_NONCE_SIZE;

export const CLIENT_KEY_EXCHANGE_LABEL = 'sealwire ccm ClientKeyExchange';
export const SERVER_KEY_EXCHANGE_LABEL = 'sealwire ccm ServerKeyExchange';

export interface ClientKeyExchange {
  readonly clientKey: Uint8Array;
  readonly sealed: Uint8Array;
}

export function encodeClientKeyExchange(m: ClientKeyExchange): Buffer {
  return new Writer(vec16Size(m.clientKey.length) + m.sealed.length).vec16(m.clientKey).bytes(m.sealed).finish();
}

/**
 * `blockSize` is the size of the RSA block, the server's modulus in bytes: the parser refuses any
 * other, so no prefix or extension of a ClientKeyExchange parses.
 */
export function parseClientKeyExchange(payload: Uint8Array, blockSize: number): ClientKeyExchange {
  const r = new Reader(payload, 'ccm ClientKeyExchange', 'HANDSHAKE_FAILED');
  const clientKey = r.vec16('client key', MAX_SPKI_SIZE, 1);
  const sealed = r.fixed(blockSize, 'RSA block');
  r.end();
  return { clientKey, sealed };
}
