/**
 * AES-CBC with HMAC-SHA256, encrypt-then-MAC (docs/PROTOCOLS.md), the construction of RFC 7518
 * §5.2 (A128CBC-HS256 / A256CBC-HS512) with separate keys given by the caller:
 *
 *     ciphertext = AES-CBC(encKey, iv, PKCS#7(plaintext))
 *     tag        = HMAC-SHA256(macKey, aad ‖ iv ‖ ciphertext ‖ u64be(bit length of aad)), truncated
 *
 * `etmOpen` recomputes the tag and compares it in constant time *before* it decrypts anything, so
 * a tampered record never reaches the CBC decryption or its padding check (no padding oracle).
 * The seeds' two CBC suites (secsess, cbcmac) lay their records out differently; both use this.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { SealwireError } from '../errors.js';
import { HMAC_SHA256_SIZE } from './hmac.js';
import { hkdfSha256 } from './hkdf.js';
import { equalConstantTime, wipe } from './secrets.js';

export const CBC_BLOCK_SIZE = 16;
export const CBC_IV_SIZE = 16;

/**
 * CBC with random IVs is safe while the blocks under one key stay far below the birthday bound
 * (2^64 blocks of 128 bits): the key turns over every 2^28 records, at most 2^28 × 4 097 ≈ 2^40
 * blocks of 64 KiB records, where the chance of a colliding cipher block input is below 2^-48.
 */
export const CBC_RECORDS_PER_KEY = 1n << 28n;

function cbcAlgorithm(key: Uint8Array): 'aes-128-cbc' | 'aes-256-cbc' {
  if (key.length === 16) return 'aes-128-cbc';
  if (key.length === 32) return 'aes-256-cbc';
  throw new SealwireError('BAD_KEY', `AES-CBC key must be 16 or 32 bytes, got ${key.length}`);
}

/** Length of the CBC ciphertext of `n` plaintext bytes (PKCS#7 always adds 1 to 16 bytes). */
export function cbcCiphertextLength(n: number): number {
  return (Math.floor(n / CBC_BLOCK_SIZE) + 1) * CBC_BLOCK_SIZE;
}

/** AES-CBC encryption with PKCS#7 padding (the key length picks AES-128 or AES-256). */
export function cbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Buffer {
  if (iv.length !== CBC_IV_SIZE) throw new SealwireError('INVALID_ARGUMENT', `CBC IV must be ${CBC_IV_SIZE} bytes`);
  const c = createCipheriv(cbcAlgorithm(key), key, iv);
  const head = c.update(plaintext);
  const tail = c.final();
  return head.length === 0 ? tail : Buffer.concat([head, tail]);
}

/**
 * AES-CBC decryption with PKCS#7 padding; `null` for a ciphertext that is not a whole number of
 * blocks or whose padding is wrong. Only ever called on ciphertext whose MAC has verified.
 */
export function cbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Buffer | null {
  if (iv.length !== CBC_IV_SIZE || ciphertext.length === 0 || ciphertext.length % CBC_BLOCK_SIZE !== 0) return null;
  const d = createDecipheriv(cbcAlgorithm(key), key, iv);
  const head = d.update(ciphertext);
  try {
    const tail = d.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    wipe(head);
    return null;
  }
}

export interface EtmKeys {
  /** AES key, 16 or 32 bytes. */
  readonly enc: Buffer;
  /** HMAC-SHA256 key. */
  readonly mac: Buffer;
}

function etmTag(macKey: Uint8Array, aad: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tagSize: number): Buffer {
  const al = Buffer.alloc(8);
  al.writeBigUInt64BE(BigInt(aad.length) * 8n);
  const h = createHmac('sha256', macKey).update(aad).update(iv).update(ciphertext).update(al).digest();
  return tagSize === HMAC_SHA256_SIZE ? h : h.subarray(0, tagSize);
}

function checkTagSize(tagSize: number): void {
  if (!Number.isInteger(tagSize) || tagSize < 16 || tagSize > HMAC_SHA256_SIZE) {
    throw new SealwireError('INVALID_ARGUMENT', `encrypt-then-MAC tag size ${tagSize} outside 16..32`);
  }
}

/** Encrypt-then-MAC sealing; returns the ciphertext and the (truncated) tag separately. */
export function etmSeal(keys: EtmKeys, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, tagSize: number): { ciphertext: Buffer; tag: Buffer } {
  checkTagSize(tagSize);
  const ciphertext = cbcEncrypt(keys.enc, iv, plaintext);
  return { ciphertext, tag: etmTag(keys.mac, aad, iv, ciphertext, tagSize) };
}

/**
 * Verifies the tag in constant time, then decrypts. `null` when the tag does not verify (nothing
 * is decrypted then) or, for a correctly tagged ciphertext, when its padding is wrong.
 */
export function etmOpen(keys: EtmKeys, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Buffer | null {
  if (tag.length < 16 || tag.length > HMAC_SHA256_SIZE) return null;
  const expected = etmTag(keys.mac, aad, iv, ciphertext, tag.length);
  if (!equalConstantTime(expected, tag)) return null;
  return cbcDecrypt(keys.enc, iv, ciphertext);
}

/**
 * Both directions' encrypt-then-MAC keys (client→server, then server→client, each AES-256 ‖
 * HMAC-SHA256) from one HKDF-SHA256 expansion of `ikm` with `salt` and `info`.
 */
export function deriveEtmKeyPairs(ikm: Uint8Array, salt: Uint8Array, info: string): { c2s: EtmKeys; s2c: EtmKeys } {
  const okm = hkdfSha256(ikm, salt, info, 128);
  return {
    c2s: { enc: okm.subarray(0, 32), mac: okm.subarray(32, 64) },
    s2c: { enc: okm.subarray(64, 96), mac: okm.subarray(96, 128) },
  };
}

/** The next key epoch: HKDF-SHA256(enc ‖ mac, no salt, `info`) split into new enc and mac keys. */
export function rekeyEtm(keys: EtmKeys, info: string): EtmKeys {
  const ikm = Buffer.concat([keys.enc, keys.mac]);
  const okm = hkdfSha256(ikm, Buffer.alloc(0), info, 64);
  wipe(ikm);
  return { enc: okm.subarray(0, 32), mac: okm.subarray(32) };
}
