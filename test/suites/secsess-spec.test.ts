/**
 * A second `secsess` client written from docs/PROTOCOLS.md alone, with node:crypto only, run
 * against sealwire's secsess server: what the spec says of the Confirm (server→client record at
 * sequence 0, header = server_random, type 0x02), of the NONCE (first one 1–10, the Confirm counts
 * for it, data records start at sequence 0), of the record MAC, and of the key turnover.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { constants, createCipheriv, createDecipheriv, createHmac, publicEncrypt, randomBytes } from 'node:crypto';
import { secsessSuite } from '../../src/suites/secsess/index.js';
import { systemRng } from '../../src/crypto/random.js';
import { frameHeader } from '../../src/record/frame.js';
import type { KeyPair } from '../../src/keys/key.js';
import { testKey } from '../helpers/fixtures.js';
import { hkdf, u64 } from './spec-primitives.js';


interface Keys {
  enc: Buffer;
  mac: Buffer;
}

/** HMAC-SHA256(mac, aad ‖ IV ‖ c ‖ u64(8·|aad|)), aad = type ‖ seq (u64) ‖ header. */
function tag(k: Keys, type: number, seq: bigint, header: Buffer, iv: Buffer, c: Buffer): Buffer {
  const aad = Buffer.concat([Buffer.of(type), u64(seq), header]);
  return createHmac('sha256', k.mac).update(aad).update(iv).update(c).update(u64(BigInt(aad.length) * 8n)).digest();
}

/** record[m] = IV (16) ‖ AES-256-CBC(enc, IV, NONCE (u64) ‖ MSG_LENGTH (u32) ‖ m ‖ PKCS#7) ‖ HMAC (32). */
function seal(k: Keys, type: number, seq: bigint, header: Buffer, nonce: bigint, m: Buffer): Buffer {
  const iv = randomBytes(16);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(m.length);
  const c = createCipheriv('aes-256-cbc', k.enc, iv);
  const ct = Buffer.concat([c.update(Buffer.concat([u64(nonce), len, m])), c.final()]);
  return Buffer.concat([iv, ct, tag(k, type, seq, header, iv, ct)]);
}

function open(k: Keys, type: number, seq: bigint, header: Buffer, record: Buffer): { nonce: bigint; m: Buffer } {
  const iv = record.subarray(0, 16);
  const ct = record.subarray(16, record.length - 32);
  expect(tag(k, type, seq, header, iv, ct).equals(record.subarray(record.length - 32))).toBe(true);
  const d = createDecipheriv('aes-256-cbc', k.enc, iv);
  const inner = Buffer.concat([d.update(ct), d.final()]);
  expect(inner.readUInt32BE(8)).toBe(inner.length - 12);
  return { nonce: inner.readBigUInt64BE(0), m: inner.subarray(12) };
}

let serverKey: KeyPair;
beforeAll(async () => {
  serverKey = await testKey('rsa', 0);
});

describe('secsess from the spec: a node:crypto client against the secsess server', () => {
  it('Confirm at sequence 0 counting for the NONCE, data from sequence 0, MAC and turnover as written', () => {
    const server = secsessSuite.server({ key: serverKey, authorize: () => true, rng: systemRng });
    server.start();
    const aesKey = randomBytes(32);
    const hmacKey = randomBytes(32);
    const kx = publicEncrypt(
      { key: serverKey.publicKey.keyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('sealwire secsess KeyExchange') },
      Buffer.concat([aesKey, hmacKey]),
    );
    const step = server.receive({ type: 0x01, payload: kx });
    const [confirm] = step.send;
    expect(confirm!.type).toBe(0x02);
    const payload = Buffer.from(confirm!.payload);
    const serverRandom = payload.subarray(0, 32);
    const okm = hkdf(Buffer.concat([aesKey, hmacKey]), serverRandom, 'sealwire secsess v1 record keys', 128);
    const c2s = { enc: okm.subarray(0, 32), mac: okm.subarray(32, 64) };
    const s2c = { enc: okm.subarray(64, 96), mac: okm.subarray(96, 128) };

    // The Confirm: server→client sequence 0, type 0x02, header = server_random; first NONCE 1–10.
    const c = open(s2c, 0x02, 0n, serverRandom, payload.subarray(32));
    expect(c.m.equals(createHmac('sha256', hmacKey).update(aesKey).update(hmacKey).update(serverRandom).digest())).toBe(true);
    expect(c.nonce >= 1n && c.nonce <= 10n).toBe(true);

    // Server→client data starts at sequence 0 too (header = the 5-byte frame header), and its
    // NONCE rises above the Confirm's (the Confirm counts for the NONCE).
    const est = step.established!;
    const data = Buffer.from('to the spec');
    const h = frameHeader(0x10, est.send.sealedLength!(data.length));
    const record = Buffer.concat(est.send.seal(0x10, 0n, h, data).slice(1));
    const d = open(s2c, 0x10, 0n, h, record);
    expect(d.m.toString()).toBe('to the spec');
    expect(d.nonce > c.nonce && d.nonce <= c.nonce + 10n).toBe(true);

    // Client→server data from sequence 0, NONCE 1..10; then past the turnover (2^28 records),
    // under enc′ ‖ mac′ = HKDF-SHA256(enc ‖ mac, no salt, "sealwire secsess rekey", 64).
    const up = Buffer.from('from the spec');
    const h2 = frameHeader(0x10, 16 + 32 + 32);
    expect(Buffer.from(est.receive.open(0x10, 0n, h2, seal(c2s, 0x10, 0n, h2, 7n, up))!).toString()).toBe('from the spec');
    const next = hkdf(Buffer.concat([c2s.enc, c2s.mac]), Buffer.alloc(0), 'sealwire secsess rekey', 64);
    const turned = { enc: next.subarray(0, 32), mac: next.subarray(32) };
    const seq = 1n << 28n;
    const afterTurn = est.receive.next();
    expect(Buffer.from(afterTurn.open(0x10, seq, h2, seal(turned, 0x10, seq, h2, 9n, up))!).toString()).toBe('from the spec');
    // The NONCE is not reset by the turnover: one that does not rise is refused.
    expect(afterTurn.open(0x10, seq + 1n, h2, seal(turned, 0x10, seq + 1n, h2, 9n, up))).toBeNull();
  });
});
