/**
 * HMAC-SHA256 (node:crypto). `hmacSha256` authenticates the concatenation of its parts without
 * concatenating them; `verifyHmacSha256` recomputes and compares in constant time, optionally
 * against a truncated tag (at least 16 bytes).
 */
import { createHmac } from 'node:crypto';
import { equalConstantTime } from './secrets.js';

export const HMAC_SHA256_SIZE = 32;
/** Shortest truncated tag `verifyHmacSha256` accepts (128 bits). */
const MIN_TAG_SIZE = 16;

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * True when `tag` is the HMAC of `parts` (or its first `tag.length` bytes, 16 to 32). A tag of any
 * other length is false, not an exception: its length comes from the peer, and a forged record
 * must fail the same way whatever its tag looks like.
 */
export function verifyHmacSha256(key: Uint8Array, tag: Uint8Array, ...parts: Uint8Array[]): boolean {
  if (tag.length < MIN_TAG_SIZE || tag.length > HMAC_SHA256_SIZE) return false;
  const full = hmacSha256(key, ...parts);
  return equalConstantTime(full.subarray(0, tag.length), tag);
}
