/**
 * The few primitives the spec tests (`*-spec.test.ts`) build their second implementations from,
 * straight from node:crypto: none of sealwire's own helpers, so a test cannot inherit a bug from
 * the code it checks.
 */
import { createHash, hkdfSync } from 'node:crypto';

export const sha256 = (...parts: Buffer[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();

/** HKDF-SHA256 (RFC 5869); an empty salt means 32 zero bytes. */
export const hkdf = (ikm: Buffer, salt: Buffer, info: string, n: number): Buffer => Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info), n));

/** A 64-bit unsigned big-endian integer. */
export const u64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
