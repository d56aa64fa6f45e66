/**
 * What both box backends share (src/crypto/box.ts on sodium-native, src/browser/crypto/box.ts on
 * @noble for the browser build): the sizes, the key pair types, and the argument checks, so that the
 * two give the same errors for the same wrong arguments.
 */
import { SealwireError } from '../errors.js';

export const X25519_KEY_SIZE = 32;
export const BOX_NONCE_SIZE = 24;
export const BOX_MAC_SIZE = 16;
export const BOX_KEY_SIZE = 32;
/** Seeds of `x25519KeyPairFromSeed` (libsodium's `crypto_box_SEEDBYTES`). */
export const X25519_SEED_SIZE = 32;

export interface X25519KeyPair {
  readonly publicKey: Buffer;
  readonly secretKey: Buffer;
}

/** One key per direction, as seen from one side. */
export interface DirectionKeys {
  readonly send: Buffer;
  readonly receive: Buffer;
}

export function checkSeed(seed: Uint8Array): void {
  if (seed.length !== X25519_SEED_SIZE) throw new SealwireError('INVALID_ARGUMENT', `X25519 seed must be ${X25519_SEED_SIZE} bytes`);
}

export function checkKey(k: Uint8Array, what: string): void {
  if (k.length !== X25519_KEY_SIZE) {
    throw new SealwireError('BAD_KEY', `${what} must be ${X25519_KEY_SIZE} bytes, got ${k.length}`);
  }
}

/** Nonce and key sizes are the caller's (never the peer's): refused as INVALID_ARGUMENT. */
export function checkNonceAndKey(nonce: Uint8Array, key: Uint8Array): void {
  if (nonce.length !== BOX_NONCE_SIZE) throw new SealwireError('INVALID_ARGUMENT', `secretbox nonce must be ${BOX_NONCE_SIZE} bytes, got ${nonce.length}`);
  if (key.length !== BOX_KEY_SIZE) throw new SealwireError('INVALID_ARGUMENT', `secretbox key must be ${BOX_KEY_SIZE} bytes, got ${key.length}`);
}

export function checkSealOutput(out: Uint8Array, plaintext: Uint8Array): void {
  if (out.length !== plaintext.length + BOX_MAC_SIZE) throw new SealwireError('INVALID_ARGUMENT', 'secretbox output size mismatch');
}

export function checkBlake2bSize(size: number): void {
  if (!Number.isInteger(size) || size < 16 || size > 64) {
    throw new SealwireError('INVALID_ARGUMENT', `BLAKE2b output size ${size} outside 16..64`);
  }
}
