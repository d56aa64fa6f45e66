/** The browser backend of crypto/hash.ts: SHA-256 from @noble/hashes. */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return Buffer.from(h.digest());
}
