/**
 * The browser's crypto/record-aead.ts (swapped in by scripts/build-browser.mjs): the same exports,
 * ChaCha20-Poly1305 (RFC 8439) from the audited @noble/ciphers instead of libsodium and OpenSSL, so
 * a page negotiates box's default record cipher with a Node server and gives the same bytes
 * (test/browser/record-aead.test.ts checks it against the Node module and the Wycheproof vectors).
 *
 * There is no OpenSSL here: `OPENSSL_FROM` is Infinity, so the record layer never calls the
 * `*OpenSsl` functions; they seal and open with noble all the same, should anyone call them.
 * Open functions return `null` when the record does not authenticate and leave their output
 * untouched (noble verifies the tag before it decrypts and returns a new buffer).
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { SealwireError } from '../../errors.js';
import { CHACHA_TAG_SIZE, checkChachaNonceAndKey as check, checkChachaSealOutput } from '../../crypto/record-aead-contract.js';

export { BOX_CIPHER_NAMES, CHACHA_KEY_SIZE, CHACHA_NONCE_SIZE, CHACHA_TAG_SIZE, RECORD_AEADS, type BoxCipherName } from '../../crypto/record-aead-contract.js';
export const OPENSSL_FROM = Infinity;


function sealed(plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  check(nonce, key);
  return chacha20poly1305(key, nonce, aad).encrypt(plaintext);
}

export function chachaSealInto(ciphertext: Uint8Array, tag: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  checkChachaSealOutput(ciphertext, tag, plaintext);
  const out = sealed(plaintext, aad, nonce, key);
  ciphertext.set(out.subarray(0, plaintext.length));
  tag.set(out.subarray(plaintext.length));
}

export function chachaSealOpenSsl(plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): [Buffer, Buffer] {
  const out = Buffer.from(sealed(plaintext, aad, nonce, key));
  return [out.subarray(0, plaintext.length), out.subarray(plaintext.length)];
}

export function chachaSeal(plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  return Buffer.from(sealed(plaintext, aad, nonce, key));
}

function open(sealedBytes: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  check(nonce, key);
  if (sealedBytes.length < CHACHA_TAG_SIZE) return null;
  try {
    return chacha20poly1305(key, nonce, aad).decrypt(sealedBytes);
  } catch {
    return null;
  }
}

export function chachaOpenOpenSsl(sealedBytes: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | null {
  const plain = open(sealedBytes, aad, nonce, key);
  return plain === null ? null : Buffer.from(plain.buffer, plain.byteOffset, plain.length);
}

export function chachaOpen(sealedBytes: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array, into?: Uint8Array): Uint8Array | null {
  const n = sealedBytes.length - CHACHA_TAG_SIZE;
  if (into && n >= 0 && into.length !== n) throw new SealwireError('INVALID_ARGUMENT', 'ChaCha20-Poly1305 output size mismatch');
  const plain = open(sealedBytes, aad, nonce, key);
  if (plain === null) return null;
  if (!into) return Buffer.from(plain.buffer, plain.byteOffset, plain.length);
  into.set(plain);
  plain.fill(0);
  return into;
}
