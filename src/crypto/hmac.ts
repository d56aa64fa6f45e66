/**
 * HMAC-SHA256 (node:crypto). `hmacSha256` authenticates the concatenation of its parts without
 * concatenating them; `verifyHmacSha256` recomputes and compares in constant time, optionally
 * against a truncated tag (at least 16 bytes).
 */
import { createHmac } from 'node:crypto';
import { SealwireError } from '../errors.js';
import { equalConstantTime } from './secrets.js';

export const HMAC_SHA256_SIZE = 32;

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** True when `tag` is the HMAC of `parts` (or its first `tag.length` bytes, 16 to 32). */
export function verifyHmacSha256(key: Uint8Array, tag: Uint8Array, ...parts: Uint8Array[]): boolean {
  if (tag.length < 16 || tag.length > HMAC_SHA256_SIZE) {
    throw new SealwireError('INVALID_ARGUMENT', `HMAC tag length ${tag.length} outside 16..32`);
  }
  const full = hmacSha256(key, ...parts);
  return equalConstantTime(full.subarray(0, tag.length), tag);
}
