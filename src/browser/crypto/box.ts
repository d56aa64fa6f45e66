/**
 * The browser backend of crypto/box.ts: the same exports, the same bytes, computed by the audited
 * pure-JS @noble packages instead of libsodium (sodium-native is a Node addon). The browser build
 * (scripts/build-browser.mjs) puts this module where src/crypto/box.ts is imported;
 * test/browser/backend.test.ts checks every function against sodium-native, byte for byte.
 *
 * What each libsodium call is, written with noble's primitives (no primitive is written here):
 *   crypto_box_seed_keypair(seed)  sk = SHA-512(seed)[0..32], pk = X25519(sk, 9)
 *   crypto_scalarmult(sk, pk)      X25519, refused when the result is all zeros (low-order point)
 *   crypto_kx_*_session_keys       BLAKE2b-512(X25519(own sk, peer pk) ‖ client pk ‖ server pk),
 *                                  client: rx = first half, tx = second half; server: the reverse
 *   crypto_secretbox_easy          XSalsa20-Poly1305, output MAC (16) ‖ ciphertext
 *   crypto_generichash             BLAKE2b, optionally keyed
 */
import { x25519 as noble25519 } from '@noble/curves/ed25519.js';
import { secretbox } from '@noble/ciphers/salsa.js';
import { blake2b as nobleBlake2b } from '@noble/hashes/blake2.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { SealwireError } from '../../errors.js';
import {
  BOX_MAC_SIZE,
  X25519_KEY_SIZE,
  checkBlake2bSize,
  checkKey,
  checkNonceAndKey,
  checkSealOutput,
  checkSeed,
  type DirectionKeys,
  type X25519KeyPair,
} from '../../crypto/box-contract.js';

export { X25519_KEY_SIZE, BOX_NONCE_SIZE, BOX_MAC_SIZE, BOX_KEY_SIZE, type X25519KeyPair, type DirectionKeys } from '../../crypto/box-contract.js';

/** A fresh X25519 key pair from a 32-byte seed, as libsodium's `crypto_box_seed_keypair`. */
export function x25519KeyPairFromSeed(seed: Uint8Array): X25519KeyPair {
  checkSeed(seed);
  const hash = sha512(seed);
  const secretKey = Buffer.from(hash.subarray(0, X25519_KEY_SIZE));
  hash.fill(0);
  return { publicKey: Buffer.from(noble25519.getPublicKey(secretKey)), secretKey };
}

/** The public key that belongs to an X25519 secret key. */
export function x25519PublicKey(secretKey: Uint8Array): Buffer {
  checkKey(secretKey, 'X25519 secret key');
  return Buffer.from(noble25519.getPublicKey(secretKey));
}

/** Raw X25519. Throws `BAD_KEY` when the result is all zeros (a low-order peer point). */
export function x25519(secretKey: Uint8Array, publicKey: Uint8Array): Buffer {
  checkKey(secretKey, 'X25519 secret key');
  checkKey(publicKey, 'X25519 public key');
  try {
    return Buffer.from(noble25519.getSharedSecret(secretKey, publicKey));
  } catch {
    throw new SealwireError('BAD_KEY', 'X25519 with a low-order public key');
  }
}

/** libsodium's `crypto_kx` session keys (see crypto/box.ts). Throws `BAD_KEY` for a low-order peer key. */
export function boxKeys(role: 'client' | 'server', ownPublic: Uint8Array, ownSecret: Uint8Array, peerPublic: Uint8Array): DirectionKeys {
  checkKey(ownPublic, 'own X25519 public key');
  checkKey(ownSecret, 'own X25519 secret key');
  checkKey(peerPublic, 'peer X25519 public key');
  const q = x25519(ownSecret, peerPublic);
  const [clientPk, serverPk] = role === 'client' ? [ownPublic, peerPublic] : [peerPublic, ownPublic];
  const h = nobleBlake2b.create({ dkLen: 64 }).update(q).update(clientPk).update(serverPk).digest();
  q.fill(0);
  const first = Buffer.from(h.subarray(0, 32));
  const second = Buffer.from(h.subarray(32, 64));
  h.fill(0);
  return role === 'client' ? { receive: first, send: second } : { send: first, receive: second };
}

/** Seals `plaintext` into `out` (length `plaintext.length + BOX_MAC_SIZE`) as MAC ‖ ciphertext. */
export function secretboxSealInto(out: Uint8Array, plaintext: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  checkSealOutput(out, plaintext);
  checkNonceAndKey(nonce, key);
  out.set(secretbox(key, nonce).seal(plaintext));
}

/** Seals into a new buffer (MAC ‖ ciphertext). */
export function secretboxSeal(plaintext: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  checkNonceAndKey(nonce, key);
  return Buffer.from(secretbox(key, nonce).seal(plaintext));
}

/** Opens MAC ‖ ciphertext; returns the plaintext, or `null` when authentication fails. */
export function secretboxOpen(sealed: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | null {
  checkNonceAndKey(nonce, key);
  if (sealed.length < BOX_MAC_SIZE) return null;
  try {
    return Buffer.from(secretbox(key, nonce).open(sealed));
  } catch {
    return null;
  }
}

/** Opens MAC ‖ ciphertext into the first bytes of `into` (see the Node module). */
export function secretboxOpenInto(sealed: Uint8Array, nonce: Uint8Array, key: Uint8Array, into: Uint8Array): Uint8Array | null {
  const plain = secretboxOpen(sealed, nonce, key);
  if (!plain) return null;
  if (into.length < plain.length) throw new SealwireError('INVALID_ARGUMENT', 'secretbox output buffer too small');
  const out = into.subarray(0, plain.length);
  out.set(plain);
  plain.fill(0);
  return out;
}

/**
 * Opens MAC ‖ ciphertext and writes the plaintext over `sealed` (after the MAC); returns that view,
 * or `null` when authentication fails, in which case `sealed` is unchanged (noble verifies first).
 */
export function secretboxOpenInPlace(sealed: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  const plain = secretboxOpen(sealed, nonce, key);
  if (!plain) return null;
  const out = sealed.subarray(BOX_MAC_SIZE);
  out.set(plain);
  plain.fill(0);
  return out;
}

/** BLAKE2b (`crypto_generichash`) of `input`, optionally keyed, `size` bytes (16..64). */
export function blake2b(size: number, input: Uint8Array, key?: Uint8Array): Buffer {
  checkBlake2bSize(size);
  return Buffer.from(key ? nobleBlake2b(input, { dkLen: size, key }) : nobleBlake2b(input, { dkLen: size }));
}

/** BLAKE2b of `input`, optionally keyed, into `out` (see the Node module). */
export function blake2bInto(out: Uint8Array, input: Uint8Array, key?: Uint8Array): void {
  out.set(blake2b(out.length, input, key));
}
