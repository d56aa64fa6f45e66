/** record/aad.ts: the `type ‖ u64 seq ‖ header` prefix the RSA suites' records authenticate. */
import { describe, expect, it } from 'vitest';
import { recordAad, recordAadScratch } from '../../src/record/aad.js';
import { deriveEtmKeyPairs, rekeyEtm } from '../../src/crypto/cbc-hmac.js';
import { hkdfSha256 } from '../../src/crypto/hkdf.js';

describe('record AAD', () => {
  it('writes type ‖ seq (big-endian u64) ‖ header, reusing the scratch buffer when there is no header', () => {
    const scratch = recordAadScratch();
    const a = recordAad(scratch, 0x10, 0x0102030405060708n, new Uint8Array(0));
    expect(a).toBe(scratch);
    expect(a.toString('hex')).toBe('100102030405060708');
    const b = recordAad(scratch, 0x11, 2n ** 64n - 1n, Buffer.from('hd'));
    expect(b.toString('hex')).toBe('11ffffffffffffffff6864');
  });
});

describe('encrypt-then-MAC key derivation', () => {
  it('splits one HKDF output into c2s and s2c enc ‖ mac keys, and rekeys from enc ‖ mac', () => {
    const ikm = Buffer.alloc(64, 7);
    const salt = Buffer.alloc(32, 9);
    const okm = hkdfSha256(ikm, salt, 'info', 128);
    const { c2s, s2c } = deriveEtmKeyPairs(ikm, salt, 'info');
    expect(Buffer.concat([c2s.enc, c2s.mac, s2c.enc, s2c.mac]).equals(okm)).toBe(true);
    const next = rekeyEtm(c2s, 'rekey');
    expect(Buffer.concat([next.enc, next.mac]).equals(hkdfSha256(Buffer.concat([c2s.enc, c2s.mac]), Buffer.alloc(0), 'rekey', 64))).toBe(true);
    expect(next.enc.equals(c2s.enc)).toBe(false);
  });
});
