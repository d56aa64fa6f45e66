/**
 * The browser backend of crypto/secrets.ts: constant-time comparison (@noble/ciphers'
 * `equalBytes`, whose time depends only on the lengths) and wiping (`fill(0)`: JavaScript gives
 * no stronger guarantee, and the engine may have copied the bytes before).
 */
import { equalBytes } from '@noble/ciphers/utils.js';

/** True when `a` and `b` hold the same bytes; constant time for equal lengths. */
export function equalConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return equalBytes(a, b);
}

/** Overwrites secret bytes with zeros. */
export function wipe(...buffers: (Uint8Array | undefined | null)[]): void {
  for (const b of buffers) if (b && b.length > 0) b.fill(0);
}
