/**
 * ChaCha20-Poly1305 (RFC 8439, 96-bit nonce, 128-bit tag): the faster record cipher of `box`,
 * and the list of record ciphers this build can offer in a `box` handshake.
 *
 * One primitive, two implementations with the same bytes out, chosen per call by size:
 * - libsodium (`crypto_aead_chacha20poly1305_ietf_*_detached`) writes into the caller's buffers
 *   (no allocation) and costs ~1.5 µs for 1 KiB, where a `node:crypto` cipher object costs ~5 µs
 *   before its first byte;
 * - OpenSSL through `node:crypto`, from `OPENSSL_FROM` bytes on. Its vectorised ChaCha20 seals a
 *   64 KiB buffer ~20 % faster than libsodium on a quiet machine, but node:crypto returns a new
 *   buffer per call, and on the shared benchmark machine those 64 KiB allocations cost more than
 *   the cipher saves (BENCHMARKS.md, "record cipher per size"). So `OPENSSL_FROM` is off
 *   (Infinity) unless the environment variable `SEALWIRE_CHACHA_OPENSSL_FROM` (bytes) sets it, for
 *   measuring on other machines; the bytes on the wire are the same either way.
 *
 * This is the only module where `box` records touch node:crypto. A browser build swaps it for one
 * whose `RECORD_AEADS` lists only what it has (XSalsa20-Poly1305, which crypto/box.ts provides,
 * or a ChaCha20-Poly1305 of its own), and the handshake offers exactly that list.
 *
 * Open functions return `null` when the record does not authenticate (libsodium verifies the tag
 * before it decrypts; OpenSSL's output is discarded).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import sodium from 'sodium-native';
import { SealwireError } from '../errors.js';
import { CHACHA_TAG_SIZE, checkChachaNonceAndKey as check, checkChachaSealOutput } from './record-aead-contract.js';

export { BOX_CIPHER_NAMES, CHACHA_KEY_SIZE, CHACHA_NONCE_SIZE, CHACHA_TAG_SIZE, RECORD_AEADS, type BoxCipherName } from './record-aead-contract.js';

/** From this many plaintext bytes on, OpenSSL seals and opens (default: never; see above). */
export const OPENSSL_FROM = thresholdFromEnv(process.env['SEALWIRE_CHACHA_OPENSSL_FROM']);

function thresholdFromEnv(value: string | undefined): number {
  const n = value === undefined ? NaN : Number(value);
  return Number.isInteger(n) && n >= 0 ? n : Infinity;
}

const ALG = 'chacha20-poly1305';
const TAG_OPTIONS = { authTagLength: CHACHA_TAG_SIZE } as const;


/**
 * Seals `plaintext` into `ciphertext` (same length, may be the same memory) and `tag` (16 bytes),
 * with libsodium. For records below `OPENSSL_FROM`; any size works.
 */
export function chachaSealInto(ciphertext: Uint8Array, tag: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  check(nonce, key);
  checkChachaSealOutput(ciphertext, tag, plaintext);
  sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(ciphertext, tag, plaintext, aad, null, nonce, key);
}

/**
 * Seals with OpenSSL: returns the ciphertext and the tag as two new buffers (node:crypto cannot
 * write into the caller's memory; the record layer sends them as chunks of one vectored write).
 */
export function chachaSealOpenSsl(plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): [Buffer, Buffer] {
  check(nonce, key);
  const c = createCipheriv(ALG, key, nonce, TAG_OPTIONS);
  c.setAAD(aad, { plaintextLength: plaintext.length });
  const ciphertext = c.update(plaintext);
  c.final();
  return [ciphertext, c.getAuthTag()];
}

/** Seals into a new buffer `ciphertext ‖ tag`, with whichever implementation suits the size. */
export function chachaSeal(plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  if (plaintext.length >= OPENSSL_FROM) return Buffer.concat(chachaSealOpenSsl(plaintext, aad, nonce, key));
  const out = Buffer.allocUnsafe(plaintext.length + CHACHA_TAG_SIZE);
  chachaSealInto(out.subarray(0, plaintext.length), out.subarray(plaintext.length), plaintext, aad, nonce, key);
  return out;
}

/** Opens with OpenSSL into a new buffer (`chachaOpen` picks it from `OPENSSL_FROM` bytes on). */
export function chachaOpenOpenSsl(sealed: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | null {
  check(nonce, key);
  if (sealed.length < CHACHA_TAG_SIZE) return null;
  const n = sealed.length - CHACHA_TAG_SIZE;
  return openOpenSsl(sealed.subarray(0, n), sealed.subarray(n), aad, nonce, key);
}

function openOpenSsl(ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | null {
  const d = createDecipheriv(ALG, key, nonce, TAG_OPTIONS);
  d.setAAD(aad, { plaintextLength: ciphertext.length });
  d.setAuthTag(tag);
  const plain = d.update(ciphertext);
  try {
    d.final();
  } catch {
    return null;
  }
  return plain;
}

/**
 * Opens `ciphertext ‖ tag` (`sealed`). With `into` (as long as the plaintext; may be `sealed`'s
 * own first bytes, decrypting in place) the plaintext is written there; else it is a new buffer.
 * Returns the plaintext, or `null` when `sealed` does not authenticate. libsodium checks the tag
 * before it decrypts and zeroes its output on failure, so after a `null` the bytes of `into` are
 * unspecified (zero): a caller that decrypts in place owns the record and drops it on failure.
 * (An earlier version decrypted into a scratch buffer and copied, to keep `into` intact; the copy
 * cost every record a second pass over its bytes and bought nothing, since no caller reads a
 * refused record again.)
 */
export function chachaOpen(sealed: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array, into?: Uint8Array): Uint8Array | null {
  check(nonce, key);
  if (sealed.length < CHACHA_TAG_SIZE) return null;
  const n = sealed.length - CHACHA_TAG_SIZE;
  if (into && into.length !== n) throw new SealwireError('INVALID_ARGUMENT', 'ChaCha20-Poly1305 output size mismatch');
  const ciphertext = sealed.subarray(0, n);
  const tag = sealed.subarray(n);
  if (n >= OPENSSL_FROM && !into) return openOpenSsl(ciphertext, tag, aad, nonce, key);
  const out = into ?? Buffer.allocUnsafe(n);
  try {
    sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, null, ciphertext, tag, aad, nonce, key);
  } catch {
    return null;
  }
  return out;
}
