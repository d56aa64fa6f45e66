/**
 * Wycheproof vectors through sealwire's own wrappers (not node:crypto directly), so that what is
 * checked is what the suites call: HMAC-SHA256 (crypto/hmac.ts), HKDF-SHA256 (crypto/hkdf.ts),
 * AES-GCM (crypto/aead.ts), ChaCha20-Poly1305 (crypto/record-aead.ts, box records) and X25519 key agreement (crypto/box.ts), including the low-order
 * public keys whose shared secret is all zeros and must be refused.
 */
import { describe, expect, it } from 'vitest';
import { hex, wycheproofCases } from '../helpers/wycheproof.js';
import { hmacSha256, verifyHmacSha256 } from '../../src/crypto/hmac.js';
import { hkdfSha256 } from '../../src/crypto/hkdf.js';
import { GCM_IV_SIZE, GCM_TAG_SIZE, gcmOpen, gcmSeal } from '../../src/crypto/aead.js';
import { boxKeys, x25519, x25519PublicKey } from '../../src/crypto/box.js';
import { isSealwireError } from '../../src/errors.js';
import { CHACHA_NONCE_SIZE, chachaOpen, chachaOpenOpenSsl, chachaSeal, chachaSealOpenSsl } from '../../src/crypto/record-aead.js';

describe('Wycheproof HMAC-SHA256 through hmac.ts', () => {
  const cases = wycheproofCases('hmac_sha256');
  it('has the vectors', () => expect(cases.length).toBe(174));
  it.each(cases.map(({ group, test }) => [test.tcId, group, test] as const))('tcId %i', (_id, group, test) => {
    const key = hex(test, 'key');
    const msg = hex(test, 'msg');
    const tag = hex(test, 'tag');
    expect(tag.length * 8).toBe(group['tagSize']);
    const full = hmacSha256(key, msg);
    // The message split in two parts authenticates the same as in one.
    expect(hmacSha256(key, msg.subarray(0, 3), msg.subarray(3)).equals(full)).toBe(true);
    expect(full.subarray(0, tag.length).equals(tag)).toBe(test.result === 'valid');
    expect(verifyHmacSha256(key, tag, msg)).toBe(test.result === 'valid');
  });
});

describe('Wycheproof HKDF-SHA256 through hkdf.ts', () => {
  const cases = wycheproofCases('hkdf_sha256');
  it('has the vectors', () => expect(cases.length).toBe(86));
  it.each(cases.map(({ test }) => [test.tcId, test] as const))('tcId %i', (_id, test) => {
    const ikm = hex(test, 'ikm');
    const salt = hex(test, 'salt');
    const info = hex(test, 'info');
    const size = test['size'] as number;
    if (test.result === 'valid') {
      expect(hkdfSha256(ikm, salt, info, size).toString('hex')).toBe(test['okm']);
    } else {
      // The invalid vectors ask for more than 255 × 32 bytes: a typed refusal, never a RangeError.
      expect(test.flags).toContain('SizeTooLarge');
      expect(() => hkdfSha256(ikm, salt, info, size)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});

describe('Wycheproof AES-GCM through aead.ts', () => {
  const cases = wycheproofCases('aes_gcm');
  it('has the vectors', () => expect(cases.length).toBe(316));
  const supported = cases.filter(({ group }) => group['ivSize'] === GCM_IV_SIZE * 8 && group['tagSize'] === GCM_TAG_SIZE * 8);
  const unsupported = cases.filter((c) => !supported.includes(c));
  it('covers both the 96-bit-IV vectors and the others', () => {
    expect(supported.length).toBeGreaterThan(100);
    expect(unsupported.length).toBeGreaterThan(50);
  });

  it.each(supported.map(({ test }) => [test.tcId, test] as const))('96-bit IV, tcId %i', (_id, test) => {
    const [key, iv, aad, msg, ct, tag] = (['key', 'iv', 'aad', 'msg', 'ct', 'tag'] as const).map((f) => hex(test, f)) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
    const opened = gcmOpen(key, iv, aad, ct, tag);
    if (test.result === 'valid') {
      const sealed = gcmSeal(key, iv, aad, msg);
      expect(sealed.ciphertext.equals(ct)).toBe(true);
      expect(sealed.tag.equals(tag)).toBe(true);
      expect(opened?.equals(msg)).toBe(true);
    } else {
      expect(opened).toBeNull();
    }
  });

  // The wrapper takes only 12-byte IVs (what every suite uses): other IV sizes are refused when
  // sealing and never authenticate when opening, valid vector or not.
  it.each(unsupported.map(({ group, test }) => [test.tcId, group['ivSize'], test] as const))('IV of %i/%i bits is refused', (_id, _bits, test) => {
    const [key, iv, aad, msg, ct, tag] = (['key', 'iv', 'aad', 'msg', 'ct', 'tag'] as const).map((f) => hex(test, f)) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
    expect(iv.length).not.toBe(GCM_IV_SIZE);
    expect(gcmOpen(key, iv, aad, ct, tag)).toBeNull();
    expect(() => gcmSeal(key, iv, aad, msg)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('Wycheproof X25519 through box.ts', () => {
  const cases = wycheproofCases('x25519');
  it('has the vectors, including the all-zero shared secrets', () => {
    expect(cases.length).toBe(518);
    expect(cases.filter(({ test }) => /^0+$/.test(test['shared'] as string)).length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map(({ test }) => [test.tcId, test] as const))('tcId %i', (_id, test) => {
    const priv = hex(test, 'private');
    const pub = hex(test, 'public');
    const shared = hex(test, 'shared');
    const zero = shared.every((b) => b === 0);
    const ownPublic = x25519PublicKey(priv);
    if (zero) {
      // A low-order peer key contributes nothing: raw X25519 and the box key agreement refuse it.
      expect(test.flags).toContain('ZeroSharedSecret');
      expect(() => x25519(priv, pub)).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
      expect(() => boxKeys('client', ownPublic, priv, pub)).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
      expect(() => boxKeys('server', ownPublic, priv, pub)).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
      return;
    }
    expect(test.result).not.toBe('invalid');
    expect(x25519(priv, pub).equals(shared)).toBe(true);
    const keys = boxKeys('client', ownPublic, priv, pub);
    expect(keys.send.equals(keys.receive)).toBe(false);
  });

  it('refuses keys of the wrong size with BAD_KEY', () => {
    const { test } = cases[0]!;
    const priv = hex(test, 'private');
    let err: unknown;
    try {
      x25519(priv, hex(test, 'public').subarray(1));
    } catch (e) {
      err = e;
    }
    expect(isSealwireError(err, 'BAD_KEY')).toBe(true);
  });
});

describe('Wycheproof ChaCha20-Poly1305 through record-aead.ts (box records)', () => {
  const cases = wycheproofCases('chacha20_poly1305');
  it('has the vectors', () => expect(cases.length).toBe(325));
  const supported = cases.filter(({ group }) => group['ivSize'] === CHACHA_NONCE_SIZE * 8);
  const unsupported = cases.filter((c) => !supported.includes(c));
  it('covers the 96-bit-nonce vectors and refuses the other nonce sizes', () => {
    expect(supported.length).toBe(316);
    for (const { test } of unsupported) {
      expect(() => chachaOpen(Buffer.concat([hex(test, 'ct'), hex(test, 'tag')]), hex(test, 'aad'), hex(test, 'iv'), hex(test, 'key'))).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });

  it.each(supported.map(({ test }) => [test.tcId, test] as const))('tcId %i', (_id, test) => {
    const [key, iv, aad, msg, ct, tag] = (['key', 'iv', 'aad', 'msg', 'ct', 'tag'] as const).map((f) => hex(test, f)) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
    const sealed = Buffer.concat([ct, tag]);
    const valid = test.result === 'valid';
    // Both implementations seal, whatever the size (libsodium into buffers, OpenSSL into new ones).
    if (valid) {
      expect(chachaSeal(msg, aad, iv, key).equals(sealed)).toBe(true);
      expect(Buffer.concat(chachaSealOpenSsl(msg, aad, iv, key)).equals(sealed)).toBe(true);
    }
    const opened = chachaOpen(sealed, aad, iv, key);
    expect(opened === null ? null : Buffer.from(opened).toString('hex')).toBe(valid ? msg.toString('hex') : null);
    const openedOpenSsl = chachaOpenOpenSsl(sealed, aad, iv, key);
    expect(openedOpenSsl === null ? null : openedOpenSsl.toString('hex')).toBe(valid ? msg.toString('hex') : null);
    const inPlace = Buffer.from(sealed);
    const openedInPlace = chachaOpen(inPlace, aad, iv, key, inPlace.subarray(0, ct.length));
    expect(openedInPlace === null ? null : Buffer.from(openedInPlace).toString('hex')).toBe(valid ? msg.toString('hex') : null);
    // A refused record opened in place holds no plaintext afterwards (libsodium zeroes its output).
    if (!valid && msg.length > 0) expect(inPlace.subarray(0, ct.length).equals(msg)).toBe(false);
  });
});
