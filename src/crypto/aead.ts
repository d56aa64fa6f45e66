/**
 * AEAD ciphers from node:crypto (OpenSSL): AES-GCM. The key length picks AES-128 or AES-256.
 *
 * `seal` returns ciphertext and tag as separate buffers so that the record layer can send them
 * with one vectored write instead of concatenating. `open` returns `null` on any authentication
 * failure; callers map that to their own error, so nothing about the failure leaks further.
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';
import { SealwireError } from '../errors.js';

export const GCM_IV_SIZE = 12;
export const GCM_TAG_SIZE = 16;

function gcmAlgorithm(key: Uint8Array): CipherGCMTypes {
  switch (key.length) {
    case 16:
      return 'aes-128-gcm';
    case 24:
      return 'aes-192-gcm';
    case 32:
      return 'aes-256-gcm';
    default:
      throw new SealwireError('BAD_KEY', `AES-GCM key must be 16, 24 or 32 bytes, got ${key.length}`);
  }
}

export interface Sealed {
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/** AES-GCM encryption with a 12-byte IV and 16-byte tag. */
export function gcmSeal(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Sealed {
  if (iv.length !== GCM_IV_SIZE) throw new SealwireError('INVALID_ARGUMENT', `GCM IV must be ${GCM_IV_SIZE} bytes`);
  const c = createCipheriv(gcmAlgorithm(key), key, iv, { authTagLength: GCM_TAG_SIZE });
  if (aad.length > 0) c.setAAD(aad);
  const ciphertext = c.update(plaintext);
  c.final();
  return { ciphertext, tag: c.getAuthTag() };
}

/**
 * AES-GCM decryption; `null` when the tag does not verify. Only 12-byte IVs and full 16-byte tags
 * are accepted: any other IV or tag length is `null` too (no truncated tags on the wire).
 */
export function gcmOpen(
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Buffer | null {
  if (iv.length !== GCM_IV_SIZE || tag.length !== GCM_TAG_SIZE) return null;
  const d = createDecipheriv(gcmAlgorithm(key), key, iv, { authTagLength: GCM_TAG_SIZE });
  d.setAuthTag(tag);
  if (aad.length > 0) d.setAAD(aad);
  const plaintext = d.update(ciphertext);
  try {
    d.final();
  } catch {
    return null;
  }
  return plaintext;
}

// --- AES-CCM ---------------------------------------------------------------------------------

/** CCM nonce size used here: 12 bytes (L = 3, messages up to 16 MiB). */
export const CCM_NONCE_SIZE = 12;
export const CCM_TAG_SIZE = 16;

function ccmAlgorithm(key: Uint8Array): 'aes-128-ccm' | 'aes-256-ccm' {
  if (key.length === 16) return 'aes-128-ccm';
  if (key.length === 32) return 'aes-256-ccm';
  throw new SealwireError('BAD_KEY', `AES-CCM key must be 16 or 32 bytes, got ${key.length}`);
}

/**
 * AES-CCM encryption. Node's CCM needs the plaintext length before the associated data
 * (`plaintextLength`) and exactly one `update`, also for an empty message; this wrapper does both.
 * `tagSize` (4..16, even) other than 16 is for known-answer tests only.
 */
export function ccmSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, tagSize: number = CCM_TAG_SIZE): Sealed {
  if (nonce.length < 7 || nonce.length > 13) throw new SealwireError('INVALID_ARGUMENT', 'CCM nonce must be 7 to 13 bytes');
  const c = createCipheriv(ccmAlgorithm(key), key, nonce, { authTagLength: tagSize });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  // An empty Buffer without a backing store (Buffer.alloc(0) from some paths, randomBytes(0)) makes
  // Node skip the underlying update, and OpenSSL's CCM then fails in final() ("tag not set"); an
  // empty string always reaches OpenSSL. Found by test/robustness (close records of ccm).
  const ciphertext = plaintext.length === 0 ? c.update('', 'latin1') : c.update(plaintext);
  c.final();
  return { ciphertext, tag: c.getAuthTag() };
}

/** AES-CCM decryption; `null` when the tag does not verify (or sizes are impossible). */
export function ccmOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Buffer | null {
  if (nonce.length < 7 || nonce.length > 13) return null;
  if (tag.length < 4 || tag.length > 16 || tag.length % 2 !== 0) return null;
  const maxLength = 2 ** (8 * (15 - nonce.length)) - 1;
  if (ciphertext.length > maxLength) return null;
  try {
    const d = createDecipheriv(ccmAlgorithm(key), key, nonce, { authTagLength: tag.length });
    d.setAuthTag(tag);
    d.setAAD(aad, { plaintextLength: ciphertext.length });
    const plaintext = d.update(ciphertext);
    d.final();
    return plaintext;
  } catch (e) {
    if (e instanceof SealwireError) throw e;
    return null;
  }
}
