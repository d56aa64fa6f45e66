/** Bugs the robustness suite found below the session layer, each pinned by the smallest case. */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ccmOpen, ccmSeal } from '../../src/crypto/aead.js';

describe('robustness: regressions', () => {
  it('AES-CCM seals an empty message whatever kind of empty buffer it is given (ccm close records)', () => {
    const key = randomBytes(16);
    const nonce = randomBytes(12);
    const aad = randomBytes(9);
    // randomBytes(0) has no backing store: Node used to skip the update and OpenSSL failed in final().
    for (const empty of [randomBytes(0), Buffer.alloc(0), new Uint8Array(0), randomBytes(8).subarray(8)]) {
      const { ciphertext, tag } = ccmSeal(key, nonce, aad, empty);
      expect(ciphertext.length).toBe(0);
      expect(ccmOpen(key, nonce, aad, ciphertext, tag)?.length).toBe(0);
    }
  });
});
