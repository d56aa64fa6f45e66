/**
 * The browser backend of crypto/random.ts: the platform CSPRNG (`crypto.getRandomValues`, the
 * Web Crypto API, also present in Node), at most 65536 bytes per call as the API requires.
 */

/** Returns `n` fresh random bytes. */
export type Rng = (n: number) => Buffer;

const MAX_PER_CALL = 65536;

export const systemRng: Rng = (n) => {
  const out = Buffer.alloc(n);
  for (let off = 0; off < n; off += MAX_PER_CALL) globalThis.crypto.getRandomValues(out.subarray(off, Math.min(n, off + MAX_PER_CALL)));
  return out;
};
