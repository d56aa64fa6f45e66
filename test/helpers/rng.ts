/** A deterministic Rng for reproducible transcripts (tests only). */
import sodium from 'sodium-native';
import { createHash } from 'node:crypto';
import type { Rng } from '../../src/crypto/random.js';

export function seededRngForTestingOnly(seed: string): Rng {
  let counter = 0;
  return (n: number) => {
    const s = createHash('sha256').update(`${seed}/${counter++}`).digest();
    const out = Buffer.alloc(n);
    sodium.randombytes_buf_deterministic(out, s);
    return out;
  };
}
