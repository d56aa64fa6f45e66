/**
 * A second `ccm` client written from docs/PROTOCOLS.md alone, with node:crypto only, run against
 * sealwire's ccm server: the key exchange, the transcript hash and record keys, the
 * ClientFinished (client→server record at sequence 0, type 0x03, empty header), the derived IV,
 * data from sequence 0 in both directions, and the key turnover.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { ccmSuite } from '../../src/suites/ccm/index.js';
import { systemRng } from '../../src/crypto/random.js';
import { frameHeader } from '../../src/record/frame.js';
import type { KeyPair } from '../../src/keys/key.js';
import { testKey } from '../helpers/fixtures.js';
import { hkdf, sha256, u64 } from './spec-primitives.js';


function ccm(key: Buffer, iv: Buffer, aad: Buffer, m: Buffer): Buffer {
  const c = createCipheriv('aes-128-ccm', key, iv, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: m.length });
  const ct = m.length === 0 ? c.update('', 'latin1') : c.update(m);
  c.final();
  return Buffer.concat([ct, c.getAuthTag()]);
}

interface Keys {
  key: Buffer;
  ivKey: Buffer;
}

/** record[m] = IV (12) ‖ AES-128-CCM(key, IV, aad = type ‖ seq ‖ header, m) ‖ tag, IV = CCM(iv_key, R, R)[0..12]. */
function seal(k: Keys, type: number, seq: bigint, header: Buffer, m: Buffer): Buffer {
  const r = randomBytes(12);
  const iv = ccm(k.ivKey, r, Buffer.alloc(0), r).subarray(0, 12);
  return Buffer.concat([iv, ccm(k.key, iv, Buffer.concat([Buffer.of(type), u64(seq), header]), m)]);
}

function open(k: Keys, type: number, seq: bigint, header: Buffer, record: Buffer): Buffer {
  const iv = record.subarray(0, 12);
  const ct = record.subarray(12, record.length - 16);
  const d = createDecipheriv('aes-128-ccm', k.key, iv, { authTagLength: 16 });
  d.setAuthTag(record.subarray(record.length - 16));
  d.setAAD(Buffer.concat([Buffer.of(type), u64(seq), header]), { plaintextLength: ct.length });
  const m = ct.length === 0 ? d.update('', 'latin1') : d.update(ct);
  d.final();
  return m;
}

let serverKey: KeyPair;
let clientKey: KeyPair;
beforeAll(async () => {
  [serverKey, clientKey] = await Promise.all([testKey('rsa', 0), testKey('rsa', 2)]);
});

describe('ccm from the spec: a node:crypto client against the ccm server', () => {
  it('key exchange, Finished at sequence 0, data from sequence 0 both ways, turnover as written', () => {
    const server = ccmSuite.server({ key: serverKey, authorize: () => true, rng: systemRng });
    server.start();
    const cPub = clientKey.publicKey.bytes;
    const secret = randomBytes(32);
    const label = (l: string) => ({ padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(l) });
    const block = publicEncrypt({ key: serverKey.publicKey.keyObject, ...label('sealwire ccm ClientKeyExchange') }, Buffer.concat([secret, sha256(cPub)]));
    const n = Buffer.alloc(2);
    n.writeUInt16BE(cPub.length);
    const p1 = Buffer.concat([n, cPub, block]);
    const [reply] = server.receive({ type: 0x01, payload: p1 }).send;
    expect(reply!.type).toBe(0x02);
    const p2 = Buffer.from(reply!.payload);
    const back = privateDecrypt({ key: clientKey.privateKey, ...label('sealwire ccm ServerKeyExchange') }, p2);
    expect(back.subarray(0, 32).equals(secret)).toBe(true);
    const th = sha256(p1, p2);
    const okm = hkdf(Buffer.concat([secret, back.subarray(32)]), th, 'sealwire ccm v1 record keys', 64);
    const c2s = { key: okm.subarray(0, 16), ivKey: okm.subarray(16, 32) };
    const s2c = { key: okm.subarray(32, 48), ivKey: okm.subarray(48, 64) };

    // ClientFinished: record[th], client→server sequence 0, type 0x03, empty header.
    const step = server.receive({ type: 0x03, payload: seal(c2s, 0x03, 0n, Buffer.alloc(0), th) });
    const est = step.established!;
    expect(est.peerPublicKey!.equals(clientKey.publicKey)).toBe(true);

    // Data from sequence 0 both ways, header = the frame header.
    const up = Buffer.from('from the spec');
    const h = frameHeader(0x10, 12 + up.length + 16);
    expect(Buffer.from(est.receive.open(0x10, 0n, h, seal(c2s, 0x10, 0n, h, up))!).toString()).toBe('from the spec');
    const down = Buffer.concat(est.send.seal(0x10, 0n, h, Buffer.from('to the spec')).slice(1));
    expect(open(s2c, 0x10, 0n, h, down).toString()).toBe('to the spec');

    // Turnover: key′ ‖ iv_key′ = HKDF-SHA256(key ‖ iv_key, no salt, "sealwire ccm rekey", 32).
    const seq = 1n << 21n;
    const next = hkdf(Buffer.concat([c2s.key, c2s.ivKey]), Buffer.alloc(0), 'sealwire ccm rekey', 32);
    const turned = { key: next.subarray(0, 16), ivKey: next.subarray(16) };
    expect(Buffer.from(est.receive.next().open(0x10, seq, h, seal(turned, 0x10, seq, h, up))!).toString()).toBe('from the spec');
  });
});
