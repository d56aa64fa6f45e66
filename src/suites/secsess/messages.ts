/**
 * The `secsess` suite's messages (seed 001, "SecSess"), byte by byte. docs/PROTOCOLS.md has the
 * same tables.
 *
 *   0x05 KeyQuery    C→S  empty                        (only when the client has no key for S)
 *   0x06 KeyReply    S→C  S_pub (SubjectPublicKeyInfo DER)
 *   0x01 KeyExchange C→S  RSA-OAEP-SHA256(S_pub, AES_KEY (32) ‖ HMAC_KEY (32))   = |S| bytes
 *   0x02 Confirm     S→C  server_random (32) ‖ record[HMAC(HMAC_KEY, AES_KEY ‖ HMAC_KEY ‖ server_random)]
 *   0x10 Data / 0x11 Close, both ways: record[data]
 *
 *   record[m] = IV (16) ‖ AES-256-CBC(enc, IV, NONCE (8) ‖ MSG_LENGTH (4) ‖ m) ‖ HMAC-SHA256 (32)
 *
 * The HMAC is encrypt-then-MAC over the type, the implicit 64-bit sequence number, the header
 * before the body, IV and ciphertext (records.ts). Per direction: enc and mac keys come from
 * HKDF-SHA256(AES_KEY ‖ HMAC_KEY, salt = server_random); NONCE rises by 1–10 with every record.
 */
import { HMAC_SHA256_SIZE } from '../../crypto/hmac.js';
import { CBC_IV_SIZE, cbcCiphertextLength } from '../../crypto/cbc-hmac.js';
import { SealwireError } from '../../errors.js';

export const MessageType = {
  KEY_EXCHANGE: 0x01,
  CONFIRM: 0x02,
  KEY_QUERY: 0x05,
  KEY_REPLY: 0x06,
} as const;

/** What the client sends inside the RSA block: AES_KEY ‖ HMAC_KEY. */
export const AES_KEY_SIZE = 32;
export const HMAC_KEY_SIZE = 32;
export const KEY_EXCHANGE_PLAIN_SIZE = AES_KEY_SIZE + HMAC_KEY_SIZE;
export const SERVER_RANDOM_SIZE = 32;
export const CONFIRM_VALUE_SIZE = HMAC_SHA256_SIZE;

/** OAEP label of the KeyExchange: a block made for another message or suite does not decrypt. */
export const KEY_EXCHANGE_LABEL = 'sealwire secsess KeyExchange';

export interface Confirm {
  readonly serverRandom: Uint8Array;
  /** The sealed record carrying the confirmation value. */
  readonly record: Uint8Array;
}

/**
 * Bytes of the Confirm's record: IV ‖ CBC(NONCE (8) ‖ MSG_LENGTH (4) ‖ confirmation value) ‖ HMAC
 * (records.ts; the value is always an HMAC-SHA256, so the record has one size).
 */
export const CONFIRM_RECORD_SIZE = CBC_IV_SIZE + cbcCiphertextLength(8 + 4 + CONFIRM_VALUE_SIZE) + HMAC_SHA256_SIZE;
export const CONFIRM_SIZE = SERVER_RANDOM_SIZE + CONFIRM_RECORD_SIZE;

/** Refuses any size but the one a Confirm has, so no prefix or extension of one parses. */
export function parseConfirm(payload: Uint8Array): Confirm {
  if (payload.length !== CONFIRM_SIZE) {
    throw new SealwireError('HANDSHAKE_FAILED', `secsess Confirm of ${payload.length} bytes (a Confirm has ${CONFIRM_SIZE})`);
  }
  return { serverRandom: payload.subarray(0, SERVER_RANDOM_SIZE), record: payload.subarray(SERVER_RANDOM_SIZE) };
}
