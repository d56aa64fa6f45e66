/**
 * What both record-cipher backends of `box` share (src/crypto/record-aead.ts on libsodium and
 * OpenSSL, src/browser/crypto/record-aead.ts on @noble for the browser build): the cipher names,
 * the list a build offers, the ChaCha20-Poly1305 sizes and the argument check, so the two give the
 * same errors for the same wrong arguments.
 */
import { SealwireError } from '../errors.js';

/** The record ciphers of `box`, by the names the options and the CLI use. */
export type BoxCipherName = 'xsalsa20-poly1305' | 'chacha20-poly1305';
export const BOX_CIPHER_NAMES: readonly BoxCipherName[] = ['chacha20-poly1305', 'xsalsa20-poly1305'];

/** The record ciphers both builds have, most preferred first (XSalsa20-Poly1305 is always there). */
export const RECORD_AEADS: readonly BoxCipherName[] = ['chacha20-poly1305', 'xsalsa20-poly1305'];

export const CHACHA_KEY_SIZE = 32;
export const CHACHA_NONCE_SIZE = 12;
export const CHACHA_TAG_SIZE = 16;

export function checkChachaNonceAndKey(nonce: Uint8Array, key: Uint8Array): void {
  if (nonce.length !== CHACHA_NONCE_SIZE) throw new SealwireError('INVALID_ARGUMENT', `ChaCha20-Poly1305 nonce must be ${CHACHA_NONCE_SIZE} bytes, got ${nonce.length}`);
  if (key.length !== CHACHA_KEY_SIZE) throw new SealwireError('INVALID_ARGUMENT', `ChaCha20-Poly1305 key must be ${CHACHA_KEY_SIZE} bytes, got ${key.length}`);
}

export function checkChachaSealOutput(ciphertext: Uint8Array, tag: Uint8Array, plaintext: Uint8Array): void {
  if (ciphertext.length !== plaintext.length || tag.length !== CHACHA_TAG_SIZE) {
    throw new SealwireError('INVALID_ARGUMENT', 'ChaCha20-Poly1305 output size mismatch');
  }
}
