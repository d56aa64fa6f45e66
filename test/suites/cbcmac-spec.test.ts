/**
 * A second `cbcmac` client written from docs/PROTOCOLS.md alone, with node:crypto only, run
 * against sealwire's cbcmac server: the signed per-session key, the KeyExchange with its first
 * message (client→server sequence 0, type 0x02, header = the RSA block), the Finished
 * (server→client sequence 0, type 0x03, empty header), data from sequence 0, and the turnover.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { constants, createCipheriv, createDecipheriv, createHmac, createPublicKey, publicEncrypt, randomBytes, verify } from 'node:crypto';
import { cbcmacSuite } from '../../src/suites/cbcmac/index.js';
import { systemRng } from '../../src/crypto/random.js';
import { frameHeader } from '../../src/record/frame.js';
import type { KeyPair } from '../../src/keys/key.js';
import { testKey } from '../helpers/fixtures.js';
import { hkdf, sha256, u64 } from './spec-primitives.js';

interface Keys {
  enc: Buffer;
  mac: Buffer;
}

/** MAC = HMAC-SHA256(mac, aad ‖ IV ‖ c ‖ u64(8·|aad|))[0..16], aad = type ‖ seq ‖ header. */
function mac(k: Keys, type: number, seq: bigint, header: Buffer, iv: Buffer, c: Buffer): Buffer {
  const aad = Buffer.concat([Buffer.of(type), u64(seq), header]);
  return createHmac('sha256', k.mac).update(aad).update(iv).update(c).update(u64(BigInt(aad.length) * 8n)).digest().subarray(0, 16);
}

/** IV (16) ‖ MAC (16) ‖ AES-256-CBC(m). */
function seal(k: Keys, type: number, seq: bigint, header: Buffer, m: Buffer): Buffer {
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', k.enc, iv);
  const ct = Buffer.concat([c.update(m), c.final()]);
  return Buffer.concat([iv, mac(k, type, seq, header, iv, ct), ct]);
}

function open(k: Keys, type: number, seq: bigint, header: Buffer, record: Buffer): Buffer {
  const iv = record.subarray(0, 16);
  const ct = record.subarray(32);
  expect(mac(k, type, seq, header, iv, ct).equals(record.subarray(16, 32))).toBe(true);
  const d = createDecipheriv('aes-256-cbc', k.enc, iv);
  return Buffer.concat([d.update(ct), d.final()]);
}

/** The u16-length-prefixed fields of the ServerKey. */
function vectors(p: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < p.length; ) {
    const n = p.readUInt16BE(at);
    out.push(p.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  return out;
}

let serverKey: KeyPair;
let sessionKey: KeyPair;
beforeAll(async () => {
  [serverKey, sessionKey] = await Promise.all([testKey('rsa', 0), testKey('rsa', 4)]);
});

describe('cbcmac from the spec: a node:crypto client against the cbcmac server', () => {
  it('signed per-session key, first message at sequence 0, Finished, data from sequence 0, turnover as written', () => {
    const server = cbcmacSuite.server({ key: serverKey, authorize: () => true, rng: systemRng, session: sessionKey });
    server.start();
    const clientRandom = randomBytes(32);
    const [serverKeyMsg] = server.receive({ type: 0x00, payload: clientRandom }).send;
    expect(serverKeyMsg!.type).toBe(0x01);
    const p1 = Buffer.from(serverKeyMsg!.payload);
    const [sPub, ePub, sig] = vectors(p1);
    expect(sPub!.equals(serverKey.publicKey.bytes)).toBe(true);
    const signed = Buffer.concat([Buffer.from('sealwire cbcmac ServerKey'), clientRandom, ePub!]);
    const pss = { key: createPublicKey({ key: sPub!, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    expect(verify('sha256', signed, pss, sig!)).toBe(true);

    const secret = randomBytes(32);
    const eKey = createPublicKey({ key: ePub!, format: 'der', type: 'spki' });
    const block = publicEncrypt({ key: eKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('sealwire cbcmac KeyExchange') }, secret);
    const okm = hkdf(secret, sha256(clientRandom, p1, block), 'sealwire cbcmac v1 record keys', 128);
    const c2s = { enc: okm.subarray(0, 32), mac: okm.subarray(32, 64) };
    const s2c = { enc: okm.subarray(64, 96), mac: okm.subarray(96, 128) };

    // KeyExchange: the RSA block, then the first message as client→server record 0, type 0x02, header = the block.
    const step = server.receive({ type: 0x02, payload: Buffer.concat([block, seal(c2s, 0x02, 0n, block, Buffer.from('first'))]) });
    expect(step.data?.map((d) => Buffer.from(d).toString())).toEqual(['first']);
    const [finished] = step.send;
    expect(finished!.type).toBe(0x03);
    expect(open(s2c, 0x03, 0n, Buffer.alloc(0), Buffer.from(finished!.payload)).length).toBe(0);
    const est = step.established!;

    // Data from sequence 0 both ways (header = the frame header).
    const up = Buffer.from('from the spec');
    const h = frameHeader(0x10, 32 + 16);
    expect(Buffer.from(est.receive.open(0x10, 0n, h, seal(c2s, 0x10, 0n, h, up))!).toString()).toBe('from the spec');
    const down = Buffer.concat(est.send.seal(0x10, 0n, h, Buffer.from('to the spec')).slice(1));
    expect(open(s2c, 0x10, 0n, h, down).toString()).toBe('to the spec');

    // Turnover: enc′ ‖ mac′ = HKDF-SHA256(enc ‖ mac, no salt, "sealwire cbcmac rekey", 64), every 2^28 records.
    const seq = 1n << 28n;
    const next = hkdf(Buffer.concat([c2s.enc, c2s.mac]), Buffer.alloc(0), 'sealwire cbcmac rekey', 64);
    const turned = { enc: next.subarray(0, 32), mac: next.subarray(32) };
    expect(est.receive.recordsPerKey).toBe(seq);
    expect(Buffer.from(est.receive.next().open(0x10, seq, h, seal(turned, 0x10, seq, h, up))!).toString()).toBe('from the spec');
  });
});
