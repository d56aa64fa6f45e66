/**
 * Wycheproof vectors through the wrappers the RSA suites use: RSA-OAEP-SHA256 (crypto/rsa.ts),
 * AES-CBC with PKCS#7 and the encrypt-then-MAC construction on top (crypto/cbc-hmac.ts), AES-CCM
 * (crypto/aead.ts) and HMAC-SHA256 (crypto/hmac.ts). Vectors outside what a wrapper supports
 * (AES-192, CCM nonces outside 7..13 bytes) are skipped by rule, and the count of the rest is
 * asserted so that a loader change cannot silently test nothing.
 */
import { describe, expect, it } from 'vitest';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { hex, wycheproofCases } from '../helpers/wycheproof.js';
import { oaepDecrypt, oaepEncrypt, openHybrid, sealHybrid, oaepMaxPlaintext, pssSign, pssVerify } from '../../src/crypto/rsa.js';
import { cbcDecrypt, cbcEncrypt, etmOpen, etmSeal } from '../../src/crypto/cbc-hmac.js';
import { ccmOpen, ccmSeal } from '../../src/crypto/aead.js';
import { hmacSha256, verifyHmacSha256 } from '../../src/crypto/hmac.js';
import { SealwireError } from '../../src/errors.js';

describe('Wycheproof RSA-OAEP-2048 SHA-256/MGF1-SHA-256 through oaepDecrypt', () => {
  const cases = wycheproofCases('rsa_oaep_2048_sha256_mgf1sha256');
  it('decrypts every valid vector and refuses every invalid one with null', () => {
    let valid = 0;
    let invalid = 0;
    for (const { group, test } of cases) {
      const key = createPrivateKey({ key: String(group.privateKeyPem), format: 'pem' });
      const out = oaepDecrypt(key, hex(test, 'ct'), hex(test, 'label'));
      if (test.result === 'valid') {
        expect(out?.toString('hex'), `tcId ${test.tcId}`).toBe(hex(test, 'msg').toString('hex'));
        valid++;
      } else {
        expect(out, `tcId ${test.tcId}`).toBeNull();
        invalid++;
      }
    }
    expect(valid).toBeGreaterThan(10);
    expect(invalid).toBeGreaterThan(10);
  });

  it('round-trips through oaepEncrypt with labels, refuses what does not fit, and decrypts nothing under a wrong label', () => {
    const { group } = cases[0]!;
    const key = createPrivateKey({ key: String(group.privateKeyPem), format: 'pem' });
    const pub = createPublicKey(key);
    const max = oaepMaxPlaintext(pub);
    expect(max).toBe(190);
    const msg = randomBytes(max);
    const ct = oaepEncrypt(pub, msg, 'ctx');
    expect(oaepDecrypt(key, ct, 'ctx')?.equals(msg)).toBe(true);
    expect(oaepDecrypt(key, ct, 'other')).toBeNull();
    expect(oaepDecrypt(key, ct.subarray(1), 'ctx')).toBeNull();
    expect(() => oaepEncrypt(pub, randomBytes(max + 1), 'ctx')).toThrow(SealwireError);
    // Hybrid sealing carries what one block cannot, bound to its context.
    const big = randomBytes(1000);
    const sealed = sealHybrid(pub, big, 'ctx');
    expect(openHybrid(key, sealed, 'ctx')?.equals(big)).toBe(true);
    expect(openHybrid(key, sealed, 'other')).toBeNull();
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(openHybrid(key, tampered, 'ctx')).toBeNull();
    const sig = pssSign(key, big);
    expect(pssVerify(pub, big, sig)).toBe(true);
    expect(pssVerify(pub, Buffer.concat([big, Buffer.of(0)]), sig)).toBe(false);
  });
});

describe('Wycheproof AES-CBC-PKCS5 through cbcEncrypt / cbcDecrypt', () => {
  it('matches every valid vector and refuses every bad padding with null (AES-128 and AES-256)', () => {
    let n = 0;
    for (const { group, test } of wycheproofCases('aes_cbc_pkcs5')) {
      if (group.keySize === 192) continue;
      const key = hex(test, 'key');
      const iv = hex(test, 'iv');
      const ct = hex(test, 'ct');
      if (test.result === 'valid') {
        expect(cbcEncrypt(key, iv, hex(test, 'msg')).equals(ct), `tcId ${test.tcId}`).toBe(true);
        expect(cbcDecrypt(key, iv, ct)?.equals(hex(test, 'msg')), `tcId ${test.tcId}`).toBe(true);
      } else {
        expect(cbcDecrypt(key, iv, ct), `tcId ${test.tcId}`).toBeNull();
      }
      n++;
    }
    expect(n).toBeGreaterThan(100);
  });

  it('encrypt-then-MAC: every vector round-trips, and every flipped bit of IV, ciphertext, tag or AAD is refused before decryption', () => {
    const keys = { enc: randomBytes(32), mac: randomBytes(32) };
    for (const { test } of wycheproofCases('aes_cbc_pkcs5').slice(0, 20)) {
      const iv = hex(test, 'iv');
      const aad = Buffer.from(`aad ${test.tcId}`);
      const { ciphertext, tag } = etmSeal(keys, iv, aad, hex(test, 'msg'), 16);
      expect(etmOpen(keys, iv, aad, ciphertext, tag)?.equals(hex(test, 'msg'))).toBe(true);
    }
    const iv = randomBytes(16);
    const aad = Buffer.from('header');
    const { ciphertext, tag } = etmSeal(keys, iv, aad, Buffer.from('attack at dawn'), 32);
    const parts = [iv, ciphertext, tag, aad];
    for (let p = 0; p < parts.length; p++) {
      for (let bit = 0; bit < parts[p]!.length * 8; bit++) {
        const copy = parts.map((x) => Buffer.from(x));
        copy[p]![bit >> 3]! ^= 1 << (bit & 7);
        expect(etmOpen(keys, copy[0]!, copy[3]!, copy[1]!, copy[2]!)).toBeNull();
      }
    }
  });
});

describe('Wycheproof AES-CCM through ccmSeal / ccmOpen', () => {
  it('matches every supported vector (AES-128/256, nonces of 7 to 13 bytes) and refuses every invalid one', () => {
    let n = 0;
    for (const { group, test } of wycheproofCases('aes_ccm')) {
      const ivBytes = Number(group.ivSize) / 8;
      if (group.keySize === 192 || ivBytes < 7 || ivBytes > 13) continue;
      const key = hex(test, 'key');
      const iv = hex(test, 'iv');
      const aad = hex(test, 'aad');
      const tag = hex(test, 'tag');
      const ct = hex(test, 'ct');
      const opened = ccmOpen(key, iv, aad, ct, tag);
      if (test.result === 'valid') {
        const sealed = ccmSeal(key, iv, aad, hex(test, 'msg'), tag.length);
        expect(sealed.ciphertext.equals(ct) && sealed.tag.equals(tag), `tcId ${test.tcId}`).toBe(true);
        expect(opened?.equals(hex(test, 'msg')), `tcId ${test.tcId}`).toBe(true);
      } else {
        expect(opened, `tcId ${test.tcId}`).toBeNull();
      }
      n++;
    }
    expect(n).toBeGreaterThan(200);
  });
});

describe('Wycheproof HMAC-SHA256 through hmacSha256 / verifyHmacSha256', () => {
  it('computes every valid tag and refuses every invalid one', () => {
    let n = 0;
    for (const { group, test } of wycheproofCases('hmac_sha256')) {
      const key = hex(test, 'key');
      const msg = hex(test, 'msg');
      const tag = hex(test, 'tag');
      const size = Number(group.tagSize) / 8;
      expect(tag.length).toBe(size);
      const ok = verifyHmacSha256(key, tag, msg);
      if (test.result === 'valid') {
        expect(hmacSha256(key, msg).subarray(0, size).equals(tag), `tcId ${test.tcId}`).toBe(true);
        expect(ok, `tcId ${test.tcId}`).toBe(true);
      } else {
        expect(ok, `tcId ${test.tcId}`).toBe(false);
      }
      n++;
    }
    expect(n).toBe(174);
  });
});
