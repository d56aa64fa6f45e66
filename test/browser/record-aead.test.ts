/**
 * The browser's record cipher (src/browser/crypto/record-aead.ts, @noble/ciphers) against the Node
 * one (libsodium / OpenSSL): the same exports, the Wycheproof ChaCha20-Poly1305 vectors, and the
 * same bytes on random inputs, so a page and a Node server that negotiate ChaCha20-Poly1305 agree.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import * as node from '../../src/crypto/record-aead.js';
import * as web from '../../src/browser/crypto/record-aead.js';
import { hex, wycheproofCases } from '../helpers/wycheproof.js';

describe('browser record cipher (noble ChaCha20-Poly1305)', () => {
  it('has the Node module’s exports and offers the same ciphers', () => {
    const asNode: Omit<typeof node, 'OPENSSL_FROM'> = web;
    expect(Object.keys(web).sort()).toEqual(Object.keys(node).sort());
    expect(asNode.RECORD_AEADS).toEqual(node.RECORD_AEADS);
    expect(web.OPENSSL_FROM).toBe(Infinity);
  });

  const cases = wycheproofCases('chacha20_poly1305').filter(({ group }) => group['ivSize'] === 96);
  it('passes the 316 Wycheproof vectors with a 96-bit nonce', () => {
    expect(cases.length).toBe(316);
    for (const { test } of cases) {
      const [key, iv, aad, msg, ct, tag] = (['key', 'iv', 'aad', 'msg', 'ct', 'tag'] as const).map((f) => hex(test, f)) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
      const sealed = Buffer.concat([ct, tag]);
      const valid = test.result === 'valid';
      if (valid) expect(web.chachaSeal(msg, aad, iv, key).toString('hex'), `tcId ${test.tcId}`).toBe(sealed.toString('hex'));
      const opened = web.chachaOpen(sealed, aad, iv, key);
      expect(opened === null ? null : Buffer.from(opened).toString('hex'), `tcId ${test.tcId}`).toBe(valid ? msg.toString('hex') : null);
    }
  });

  it.each([0, 1, 17, 1024, 65_536])('gives the same bytes as sodium-native for %i bytes, and opens them in place', (size) => {
    for (let i = 0; i < 5; i++) {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const aad = randomBytes(i * 5);
      const msg = randomBytes(size);
      const ct = Buffer.alloc(size);
      const tag = Buffer.alloc(16);
      web.chachaSealInto(ct, tag, msg, aad, nonce, key);
      const sealed = node.chachaSeal(msg, aad, nonce, key);
      expect(Buffer.concat([ct, tag]).equals(sealed)).toBe(true);
      const inPlace = Buffer.from(sealed);
      const out = web.chachaOpen(inPlace, aad, nonce, key, inPlace.subarray(0, size));
      expect(out && Buffer.from(out).equals(msg)).toBe(true);
    }
  });

  it('refuses an altered record and leaves the output untouched', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const sealed = node.chachaSeal(Buffer.from('pay 100'), Buffer.alloc(0), nonce, key);
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = Buffer.from(sealed);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      const copy = Buffer.from(bad);
      expect(web.chachaOpen(bad, Buffer.alloc(0), nonce, key, bad.subarray(0, sealed.length - 16))).toBeNull();
      expect(bad.equals(copy)).toBe(true);
    }
    expect(web.chachaOpen(sealed.subarray(0, 15), Buffer.alloc(0), nonce, key)).toBeNull();
    expect(() => web.chachaOpen(sealed, Buffer.alloc(0), nonce.subarray(1), key)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
