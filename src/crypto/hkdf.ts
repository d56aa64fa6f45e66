/** HKDF-SHA256 (RFC 5869, node:crypto) for deriving session and rekey keys. */
import { hkdfSync } from 'node:crypto';
import { SealwireError } from '../errors.js';

/** Derives `length` bytes (at most 255 × 32) from `ikm` with `salt` and a context `info`. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string, length: number): Buffer {
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new SealwireError('INVALID_ARGUMENT', `HKDF output length ${length} outside 1..8160`);
  }
  const infoBytes = typeof info === 'string' ? Buffer.from(info, 'utf8') : info;
  return Buffer.from(hkdfSync('sha256', ikm, salt, infoBytes, length));
}
