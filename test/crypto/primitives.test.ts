/** Unit tests of the crypto wrappers other than HMAC: AEAD, box, HKDF, hashing, randomness, secrets. */
import { describe, expect, it } from 'vitest';
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import sodium from 'sodium-native';
import { GCM_IV_SIZE, GCM_TAG_SIZE, gcmOpen, gcmSeal } from '../../src/crypto/aead.js';
import {
  BOX_MAC_SIZE,
  BOX_NONCE_SIZE,
  blake2b,
  boxKeys,
  secretboxOpen,
  secretboxSeal,
  secretboxSealInto,
  x25519,
  x25519KeyPairFromSeed,
  x25519PublicKey,
} from '../../src/crypto/box.js';
import { sha256 } from '../../src/crypto/hash.js';
import { hkdfSha256 } from '../../src/crypto/hkdf.js';
import { systemRng } from '../../src/crypto/random.js';
import { equalConstantTime, wipe } from '../../src/crypto/secrets.js';
import { SealwireError } from '../../src/errors.js';

const code = (c: string) => expect.objectContaining({ code: c });

describe('crypto/aead (AES-GCM)', () => {
  const iv = Buffer.alloc(GCM_IV_SIZE, 1);
  const aad = Buffer.from('header');
  const pt = Buffer.from('attack at dawn');

  it.each([16, 24, 32])('round-trips with a %i-byte key', (n) => {
    const key = randomBytes(n);
    const { ciphertext, tag } = gcmSeal(key, iv, aad, pt);
    expect(tag.length).toBe(GCM_TAG_SIZE);
    expect(ciphertext.length).toBe(pt.length);
    expect(gcmOpen(key, iv, aad, ciphertext, tag)?.equals(pt)).toBe(true);
  });

  it('round-trips an empty plaintext with and without associated data', () => {
    const key = randomBytes(16);
    for (const a of [Buffer.alloc(0), aad]) {
      const s = gcmSeal(key, iv, a, Buffer.alloc(0));
      expect(gcmOpen(key, iv, a, s.ciphertext, s.tag)?.length).toBe(0);
    }
  });

  it('returns null when the ciphertext, tag, AAD, IV or key differ', () => {
    const key = randomBytes(16);
    const { ciphertext, tag } = gcmSeal(key, iv, aad, pt);
    const flip = (b: Buffer, i = 0): Buffer => {
      const c = Buffer.from(b);
      c[i]! ^= 1;
      return c;
    };
    expect(gcmOpen(key, iv, aad, flip(ciphertext), tag)).toBeNull();
    expect(gcmOpen(key, iv, aad, ciphertext, flip(tag, 15))).toBeNull();
    expect(gcmOpen(key, iv, flip(aad), ciphertext, tag)).toBeNull();
    expect(gcmOpen(key, iv, Buffer.alloc(0), ciphertext, tag)).toBeNull();
    expect(gcmOpen(key, flip(iv), aad, ciphertext, tag)).toBeNull();
    expect(gcmOpen(flip(key), iv, aad, ciphertext, tag)).toBeNull();
  });

  it('returns null for a truncated or over-long tag (no short tags on the wire)', () => {
    const key = randomBytes(16);
    const { ciphertext, tag } = gcmSeal(key, iv, aad, pt);
    expect(gcmOpen(key, iv, aad, ciphertext, tag.subarray(0, 12))).toBeNull();
    expect(gcmOpen(key, iv, aad, ciphertext, Buffer.concat([tag, Buffer.alloc(1)]))).toBeNull();
    expect(gcmOpen(key, iv, aad, ciphertext, Buffer.alloc(0))).toBeNull();
  });

  it('refuses bad key and IV sizes with typed errors', () => {
    expect(() => gcmSeal(Buffer.alloc(15), iv, aad, pt)).toThrow(code('BAD_KEY'));
    expect(() => gcmSeal(Buffer.alloc(16), Buffer.alloc(8), aad, pt)).toThrow(code('INVALID_ARGUMENT'));
    expect(() => gcmOpen(Buffer.alloc(33), iv, aad, pt, Buffer.alloc(16))).toThrow(code('BAD_KEY'));
  });
});

describe('crypto/box (X25519, XSalsa20-Poly1305, BLAKE2b)', () => {
  const a = x25519KeyPairFromSeed(Buffer.alloc(32, 1));
  const b = x25519KeyPairFromSeed(Buffer.alloc(32, 2));

  it('derives key pairs deterministically from a seed, and the public key from the secret', () => {
    expect(x25519KeyPairFromSeed(Buffer.alloc(32, 1)).publicKey.equals(a.publicKey)).toBe(true);
    expect(x25519PublicKey(a.secretKey).equals(a.publicKey)).toBe(true);
    expect(a.publicKey.equals(b.publicKey)).toBe(false);
    expect(() => x25519KeyPairFromSeed(Buffer.alloc(31))).toThrow(code('INVALID_ARGUMENT'));
    expect(() => x25519PublicKey(Buffer.alloc(16))).toThrow(code('BAD_KEY'));
  });

  it('agrees on X25519 from both sides', () => {
    expect(x25519(a.secretKey, b.publicKey).equals(x25519(b.secretKey, a.publicKey))).toBe(true);
  });

  it('gives client and server matching, distinct keys per direction', () => {
    const c = boxKeys('client', a.publicKey, a.secretKey, b.publicKey);
    const s = boxKeys('server', b.publicKey, b.secretKey, a.publicKey);
    expect(c.send.equals(s.receive)).toBe(true);
    expect(c.receive.equals(s.send)).toBe(true);
    expect(c.send.equals(c.receive)).toBe(false);
    // Two sides that both claim the client role do not agree: the roles are bound into the keys.
    const s2 = boxKeys('client', b.publicKey, b.secretKey, a.publicKey);
    expect(c.send.equals(s2.receive)).toBe(false);
  });

  it('refuses the all-zero and the other low-order public keys', () => {
    expect(() => x25519(a.secretKey, Buffer.alloc(32))).toThrow(code('BAD_KEY'));
    const one = Buffer.alloc(32);
    one[0] = 1;
    expect(() => boxKeys('client', a.publicKey, a.secretKey, one)).toThrow(code('BAD_KEY'));
    expect(() => boxKeys('server', a.publicKey, a.secretKey, Buffer.alloc(31))).toThrow(code('BAD_KEY'));
  });

  it('seals and opens secretbox (MAC ‖ ciphertext), in place or into a new buffer', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(BOX_NONCE_SIZE);
    const pt = Buffer.from('hello box');
    const sealed = secretboxSeal(pt, nonce, key);
    expect(sealed.length).toBe(pt.length + BOX_MAC_SIZE);
    const into = Buffer.alloc(pt.length + BOX_MAC_SIZE);
    secretboxSealInto(into, pt, nonce, key);
    expect(into.equals(sealed)).toBe(true);
    // Interoperates with libsodium's own crypto_secretbox_open_easy.
    const out = Buffer.alloc(pt.length);
    expect(sodium.crypto_secretbox_open_easy(out, sealed, nonce, key)).toBe(true);
    expect(secretboxOpen(sealed, nonce, key)?.equals(pt)).toBe(true);
    expect(() => secretboxSealInto(Buffer.alloc(3), pt, nonce, key)).toThrow(code('INVALID_ARGUMENT'));
  });

  it('returns null for a forged, truncated or misaddressed secretbox', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(BOX_NONCE_SIZE);
    const sealed = secretboxSeal(Buffer.from('x'), nonce, key);
    const bad = Buffer.from(sealed);
    bad[0]! ^= 1;
    expect(secretboxOpen(bad, nonce, key)).toBeNull();
    expect(secretboxOpen(sealed.subarray(0, BOX_MAC_SIZE - 1), nonce, key)).toBeNull();
    expect(secretboxOpen(Buffer.alloc(0), nonce, key)).toBeNull();
    const otherNonce = Buffer.from(nonce);
    otherNonce[23]! ^= 1;
    expect(secretboxOpen(sealed, otherNonce, key)).toBeNull();
    expect(secretboxOpen(sealed, nonce, randomBytes(32))).toBeNull();
    // An empty plaintext still carries and checks a MAC.
    expect(secretboxOpen(secretboxSeal(Buffer.alloc(0), nonce, key), nonce, key)?.length).toBe(0);
  });

  it('computes BLAKE2b, keyed and unkeyed, of the asked size', () => {
    const h = blake2b(32, Buffer.from('abc'));
    const ref = Buffer.alloc(32);
    sodium.crypto_generichash(ref, Buffer.from('abc'));
    expect(h.equals(ref)).toBe(true);
    expect(blake2b(64, Buffer.from('abc')).length).toBe(64);
    expect(blake2b(32, Buffer.from('abc'), Buffer.alloc(32, 9)).equals(h)).toBe(false);
  });
});

describe('crypto/hkdf, hash, random, secrets', () => {
  it('HKDF matches node:crypto, takes string or byte info, and bounds its length', () => {
    const ikm = Buffer.alloc(32, 3);
    const salt = Buffer.alloc(16, 4);
    const ref = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('ctx'), 64));
    expect(hkdfSha256(ikm, salt, 'ctx', 64).equals(ref)).toBe(true);
    expect(hkdfSha256(ikm, salt, Buffer.from('ctx'), 64).equals(ref)).toBe(true);
    expect(hkdfSha256(ikm, salt, 'ctx', 255 * 32).length).toBe(8160);
    for (const n of [0, -1, 1.5, 8161, Number.NaN]) expect(() => hkdfSha256(ikm, salt, 'ctx', n)).toThrow(code('INVALID_ARGUMENT'));
  });

  it('SHA-256 hashes the concatenation of its parts', () => {
    const ref = createHash('sha256').update('abcdef').digest();
    expect(sha256(Buffer.from('abc'), Buffer.from('def')).equals(ref)).toBe(true);
    expect(sha256().equals(createHash('sha256').digest())).toBe(true);
  });

  it('systemRng returns fresh bytes of the asked size', () => {
    expect(systemRng(0).length).toBe(0);
    const x = systemRng(32);
    expect(x.length).toBe(32);
    expect(x.equals(systemRng(32))).toBe(false);
  });

  it('compares in constant time only equal lengths, and wipes buffers', () => {
    expect(equalConstantTime(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
    expect(equalConstantTime(Buffer.from('abc'), Buffer.from('abd'))).toBe(false);
    expect(equalConstantTime(Buffer.from('abc'), Buffer.from('ab'))).toBe(false);
    expect(equalConstantTime(Buffer.alloc(0), Buffer.alloc(0))).toBe(true);
    const s1 = Buffer.alloc(16, 0xaa);
    const s2 = new Uint8Array(8).fill(0x55);
    wipe(s1, undefined, null, s2, Buffer.alloc(0));
    expect(s1.every((v) => v === 0) && s2.every((v) => v === 0)).toBe(true);
  });

  it('errors are SealwireError', () => {
    expect(() => gcmSeal(Buffer.alloc(1), Buffer.alloc(12), Buffer.alloc(0), Buffer.alloc(0))).toThrow(SealwireError);
  });
});

describe('crypto/box: argument sizes', () => {
  // Bug found here: a wrong nonce or key size reached libsodium, which threw its own
  // AssertionError instead of a SealwireError.
  it('refuses wrong nonce and key sizes with INVALID_ARGUMENT, and BLAKE2b sizes outside 16..64', () => {
    const pt = Buffer.from('x');
    const good = { nonce: Buffer.alloc(BOX_NONCE_SIZE), key: Buffer.alloc(32) };
    for (const [nonce, key] of [[Buffer.alloc(23), good.key], [good.nonce, Buffer.alloc(31)]] as const) {
      expect(() => secretboxSeal(pt, nonce, key)).toThrow(code('INVALID_ARGUMENT'));
      expect(() => secretboxSealInto(Buffer.alloc(pt.length + BOX_MAC_SIZE), pt, nonce, key)).toThrow(code('INVALID_ARGUMENT'));
      expect(() => secretboxOpen(Buffer.alloc(32), nonce, key)).toThrow(code('INVALID_ARGUMENT'));
    }
    for (const n of [15, 65]) expect(() => blake2b(n, pt)).toThrow(code('INVALID_ARGUMENT'));
  });
});
