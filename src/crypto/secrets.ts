/**
 * Handling of secret bytes: constant-time comparison and wiping.
 *
 * `equalConstantTime` compares MACs, tags and confirmation values. Its running time depends only
 * on the lengths (which are public), never on where the first difference is.
 */
import { timingSafeEqual } from 'node:crypto';
import sodium from 'sodium-native';

/** True when `a` and `b` hold the same bytes; constant time for equal lengths. */
export function equalConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Overwrites secret bytes with zeros (libsodium's `sodium_memzero`, which the compiler keeps). */
export function wipe(...buffers: (Uint8Array | undefined | null)[]): void {
  for (const b of buffers) if (b && b.length > 0) sodium.sodium_memzero(b);
}
