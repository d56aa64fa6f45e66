/**
 * X25519 and XSalsa20-Poly1305 through libsodium (sodium-native): the primitives of the `box`
 * suite (seed 003).
 *
 * `Box[X](A -> B)` in the seed is NaCl's crypto_box: X25519 between A's secret and B's public key,
 * then XSalsa20-Poly1305 (secretbox) under the shared key. NaCl splits that into `beforenm` (the
 * X25519 step, once per key pair) and `afternm` (secretbox, per message). sodium-native does not
 * bind `crypto_box_beforenm`, so the precomputation here is libsodium's `crypto_kx`:
 * BLAKE2b-512(X25519(a, B) ‖ client_pk ‖ server_pk), split into one key per direction. That keeps
 * the seed's cipher, computes the X25519 step once per pair, binds both public keys into the key,
 * and gives the two directions separate keys. docs/PROTOCOLS.md lists it as a deviation.
 */
import sodium from 'sodium-native';
import { SealwireError } from '../errors.js';
import {
  BOX_KEY_SIZE,
  BOX_MAC_SIZE,
  X25519_KEY_SIZE,
  checkBlake2bSize,
  checkKey,
  checkNonceAndKey,
  checkSealOutput,
  checkSeed,
  type DirectionKeys,
  type X25519KeyPair,
} from './box-contract.js';

export { X25519_KEY_SIZE, BOX_NONCE_SIZE, BOX_MAC_SIZE, BOX_KEY_SIZE, type X25519KeyPair, type DirectionKeys } from './box-contract.js';

/** A fresh X25519 key pair, derived from a 32-byte seed (from the caller's `Rng`). */
export function x25519KeyPairFromSeed(seed: Uint8Array): X25519KeyPair {
  checkSeed(seed);
  const publicKey = Buffer.alloc(X25519_KEY_SIZE);
  const secretKey = Buffer.alloc(X25519_KEY_SIZE);
  sodium.crypto_box_seed_keypair(publicKey, secretKey, seed);
  return { publicKey, secretKey };
}

/** The public key that belongs to an X25519 secret key. */
export function x25519PublicKey(secretKey: Uint8Array): Buffer {
  checkKey(secretKey, 'X25519 secret key');
  const pk = Buffer.alloc(X25519_KEY_SIZE);
  sodium.crypto_scalarmult_base(pk, secretKey);
  return pk;
}

/**
 * Raw X25519 (`crypto_scalarmult`). Throws `BAD_KEY` when the result is all zeros, which happens
 * exactly for low-order peer points: such a key contributes nothing and is refused.
 */
export function x25519(secretKey: Uint8Array, publicKey: Uint8Array): Buffer {
  checkKey(secretKey, 'X25519 secret key');
  checkKey(publicKey, 'X25519 public key');
  const q = Buffer.alloc(X25519_KEY_SIZE);
  try {
    sodium.crypto_scalarmult(q, secretKey, publicKey);
  } catch {
    throw new SealwireError('BAD_KEY', 'X25519 with a low-order public key');
  }
  return q;
}

/**
 * The precomputed keys for `Box[…](own -> peer)` and `Box[…](peer -> own)`. `role` says which
 * public key comes first in the hash: both sides must agree on who is the "client" of the pair.
 * Throws `BAD_KEY` for a low-order peer key.
 */
export function boxKeys(
  role: 'client' | 'server',
  ownPublic: Uint8Array,
  ownSecret: Uint8Array,
  peerPublic: Uint8Array,
): DirectionKeys {
  checkKey(ownPublic, 'own X25519 public key');
  checkKey(ownSecret, 'own X25519 secret key');
  checkKey(peerPublic, 'peer X25519 public key');
  const receive = Buffer.alloc(BOX_KEY_SIZE);
  const send = Buffer.alloc(BOX_KEY_SIZE);
  try {
    if (role === 'client') sodium.crypto_kx_client_session_keys(receive, send, ownPublic, ownSecret, peerPublic);
    else sodium.crypto_kx_server_session_keys(receive, send, ownPublic, ownSecret, peerPublic);
  } catch {
    throw new SealwireError('BAD_KEY', 'X25519 with a low-order public key');
  }
  return { send, receive };
}

/**
 * Seals `plaintext` into `out` (length `plaintext.length + BOX_MAC_SIZE`) as MAC ‖ ciphertext,
 * the layout of `crypto_secretbox_easy`. Writing into the caller's buffer lets the record layer
 * build a whole frame in one allocation.
 */
export function secretboxSealInto(out: Uint8Array, plaintext: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  checkSealOutput(out, plaintext);
  checkNonceAndKey(nonce, key);
  sodium.crypto_secretbox_easy(out, plaintext, nonce, key);
}

/** Seals into a new buffer (MAC ‖ ciphertext). */
export function secretboxSeal(plaintext: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  checkNonceAndKey(nonce, key);
  const out = Buffer.allocUnsafe(plaintext.length + BOX_MAC_SIZE);
  sodium.crypto_secretbox_easy(out, plaintext, nonce, key);
  return out;
}

/** Opens MAC ‖ ciphertext; returns the plaintext, or `null` when authentication fails. */
export function secretboxOpen(sealed: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | null {
  checkNonceAndKey(nonce, key);
  if (sealed.length < BOX_MAC_SIZE) return null;
  const out = Buffer.allocUnsafe(sealed.length - BOX_MAC_SIZE);
  return sodium.crypto_secretbox_open_easy(out, sealed, nonce, key) ? out : null;
}

/**
 * Opens MAC ‖ ciphertext into the first bytes of `into` (other memory than `sealed`, at least as
 * long as the plaintext) and returns that view, or `null` when it does not authenticate.
 */
export function secretboxOpenInto(sealed: Uint8Array, nonce: Uint8Array, key: Uint8Array, into: Uint8Array): Uint8Array | null {
  checkNonceAndKey(nonce, key);
  if (sealed.length < BOX_MAC_SIZE) return null;
  const n = sealed.length - BOX_MAC_SIZE;
  if (into.length < n) throw new SealwireError('INVALID_ARGUMENT', 'secretbox output buffer too small');
  const out = into.subarray(0, n);
  return sodium.crypto_secretbox_open_easy(out, sealed, nonce, key) ? out : null;
}

/**
 * Opens MAC ‖ ciphertext over its own bytes: returns the plaintext as a view of `sealed` (after
 * the MAC), or `null` when authentication fails, in which case `sealed` is unchanged (libsodium
 * verifies before it writes, and allows the overlap).
 */
export function secretboxOpenInPlace(sealed: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  if (sealed.length < BOX_MAC_SIZE) return null;
  const out = sealed.subarray(BOX_MAC_SIZE);
  return sodium.crypto_secretbox_open_easy(out, sealed, nonce, key) ? out : null;
}

/** BLAKE2b (`crypto_generichash`) of `input`, optionally keyed, `size` bytes (16..64). */
export function blake2b(size: number, input: Uint8Array, key?: Uint8Array): Buffer {
  checkBlake2bSize(size);
  const out = Buffer.alloc(size);
  blake2bInto(out, input, key);
  return out;
}

/** BLAKE2b of `input`, optionally keyed, into `out` (its length, 16..64, is the output size). */
export function blake2bInto(out: Uint8Array, input: Uint8Array, key?: Uint8Array): void {
  checkBlake2bSize(out.length);
  if (key) sodium.crypto_generichash(out, input, key);
  else sodium.crypto_generichash(out, input);
}
