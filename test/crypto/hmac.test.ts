import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { HMAC_SHA256_SIZE, hmacSha256, verifyHmacSha256 } from '../../src/crypto/hmac.js';

const key = Buffer.alloc(32, 7);
const msg = Buffer.from('header|iv|ciphertext');

describe('crypto/hmac', () => {
  it('matches node:crypto over the concatenation of its parts', () => {
    const expected = createHmac('sha256', key).update(msg).digest();
    expect(hmacSha256(key, msg).equals(expected)).toBe(true);
    expect(hmacSha256(key, msg.subarray(0, 6), msg.subarray(6, 9), msg.subarray(9)).equals(expected)).toBe(true);
    expect(hmacSha256(key).length).toBe(HMAC_SHA256_SIZE);
  });

  it('verifies the full tag and truncations of 16..32 bytes', () => {
    const tag = hmacSha256(key, msg);
    for (let n = 16; n <= 32; n++) expect(verifyHmacSha256(key, tag.subarray(0, n), msg)).toBe(true);
  });

  it('rejects a tag with any bit flipped, and a different message or key', () => {
    const tag = hmacSha256(key, msg);
    for (let i = 0; i < tag.length * 8; i += 7) {
      const bad = Buffer.from(tag);
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(verifyHmacSha256(key, bad, msg)).toBe(false);
    }
    expect(verifyHmacSha256(key, tag, Buffer.from('other'))).toBe(false);
    expect(verifyHmacSha256(Buffer.alloc(32, 8), tag, msg)).toBe(false);
  });

  // Bug found here: a tag of the wrong length (a peer's choice) threw INVALID_ARGUMENT instead of
  // failing verification, turning a forged record into an exception of another kind.
  it('returns false, never throws, for tags shorter than 16 or longer than 32 bytes', () => {
    const tag = hmacSha256(key, msg);
    for (const n of [0, 1, 8, 15]) expect(verifyHmacSha256(key, tag.subarray(0, n), msg)).toBe(false);
    expect(verifyHmacSha256(key, Buffer.concat([tag, Buffer.alloc(1)]), msg)).toBe(false);
  });
});
