/**
 * The RSA suites' record keys and key turnover, as docs/PROTOCOLS.md writes them down (issue 11
 * §6, §7), so that the spec and the code cannot drift:
 *
 * - known answers: fixed keys in, the expected keys out, for each suite's initial derivation and
 *   its turnover (`RecordCipher.next()`). The expected values were computed with an independent
 *   HKDF-SHA256 (Python's hmac/hashlib, RFC 5869), not with this code;
 * - the CBC suites (secsess, cbcmac) turn their keys over every 2^28 records, far below the
 *   birthday bound of a 128-bit block cipher: a direction started just below the limit crosses it,
 *   both ends turn over at the same record, and the record past the limit no longer opens under
 *   the first key.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { SendDirection, ReceiveDirection } from '../../src/record/direction.js';
import type { RecordCipher } from '../../src/record/cipher.js';
import { CBC_RECORDS_PER_KEY, type EtmKeys } from '../../src/crypto/cbc-hmac.js';
import { SecsessRecordCipher, deriveSecsessKeys } from '../../src/suites/secsess/records.js';
import { CbcmacRecordCipher, deriveCbcmacKeys } from '../../src/suites/cbcmac/records.js';
import { CcmRecordCipher, deriveCcmKeys } from '../../src/suites/ccm/records.js';
import { SidRecordCipher, deriveSidKeys } from '../../src/suites/sid/records.js';
import { Direction as SidDirection } from '../../src/suites/sid/messages.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';

/** `n` bytes start, start+1, … (mod 256). */
const run = (n: number, start = 0): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (start + i) & 0xff));
const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const th = createHash('sha256').update('transcript').digest();
const rng = seededRngForTestingOnly('turnover');
const HEADER = Buffer.from([0, 0, 0, 9, 0x10]);

/** True when a record sealed by `sealer` at `seq` opens with `opener` (both at the same sequence number). */
function opensWith(sealer: RecordCipher, opener: RecordCipher, seq = 0n): boolean {
  const record = Buffer.concat(sealer.seal(0x10, seq, HEADER, Buffer.from('turnover')).slice(1));
  const plain = opener.open(0x10, seq, HEADER, record);
  return plain !== null && Buffer.from(plain).toString() === 'turnover';
}

const etm = (okm: Buffer): EtmKeys => ({ enc: okm.subarray(0, 32), mac: okm.subarray(32, 64) });

describe('known answers: initial record keys', () => {
  it('th is SHA-256("transcript")', () => {
    expect(th.toString('hex')).toBe('54e6289e14c7b0e7ad9acc2dfc4c1e3d027d0eef7f5c4c3fe7c292761d0e06a6');
  });

  it('sid: HKDF-SHA256(AES_key, salt = th, "sealwire sid v2 record keys", 32) = c2s ‖ s2c', () => {
    const k = deriveSidKeys(run(16, 0x60), th);
    expect(Buffer.concat([k.c2s, k.s2c]).toString('hex')).toBe('fb9be1a267c66c5ea590841a99627409ed2b02de380023e5e82e985bb0ed81d1');
  });

  it('ccm: HKDF-SHA256(secret ‖ server_nonce, salt = th, "sealwire ccm v1 record keys", 64)', () => {
    const k = deriveCcmKeys(run(32), run(32, 0x80), th);
    expect(Buffer.concat([k.c2s.key, k.c2s.ivKey, k.s2c.key, k.s2c.ivKey]).toString('hex')).toBe(
      'a40272ebc68b806ccc875513e59d34e008d5304b168fc33104f86fbf2a5fa53c13fe785a065474a6a2774d69ab5eb107da0b07f536cce68d4e670dadb70616a9',
    );
  });

  it('secsess: HKDF-SHA256(AES_KEY ‖ HMAC_KEY, salt = server_random, "sealwire secsess v1 record keys", 128)', () => {
    const k = deriveSecsessKeys(run(32), run(32, 0x20), run(32, 0xa0));
    expect(Buffer.concat([k.c2s.enc, k.c2s.mac, k.s2c.enc, k.s2c.mac]).toString('hex')).toBe(
      '94d80754850bede334fe05dbb464865f992599000848c456f71f29afd9fe010d2cb0468a26c6854c91acc29d8f30df531c6b7cab2914ee346494e8f9a46b4fb9' +
        '7c3ba63b11e75847d468bbfe8125f60cc05a72a3d892446d9709db0960e586d49821277d429b3dd4940e5021bae8e525ccde84318fae69890dafdf6882c85715',
    );
  });

  it('cbcmac: HKDF-SHA256(AES-key ‖ MAC-key, salt = th, "sealwire cbcmac v1 record keys", 128)', () => {
    const k = deriveCbcmacKeys(run(32), th);
    expect(Buffer.concat([k.c2s.enc, k.c2s.mac, k.s2c.enc, k.s2c.mac]).toString('hex')).toBe(
      'd01afde2f974068f3198587734efc9d04eb11b21859f9dea62bcb7e78381577acbd7041d4069a9f75f8165c39a5576730d8c5bffac5292dcfe5086a3e042cfb2' +
        '0e3cf13d2b556bbdaafd860d2579039f96c191d2c69feaef0933d6e32e6ad775bdac29d0755c77f5906628acc79717daa87fd4c5d9f4fd50623c4329c828a779',
    );
  });
});

/**
 * Turnover known answers: the cipher's `next()` seals records that open under a cipher built
 * from the expected keys, and no longer under the old ones.
 */
describe('known answers: key turnover (next())', () => {
  function checkTurnover(current: () => RecordCipher, expectedNext: RecordCipher): void {
    const next = current().next();
    expect(opensWith(next, expectedNext)).toBe(true);
    expect(opensWith(expectedNext, next)).toBe(true);
    expect(opensWith(next, current())).toBe(false);
  }

  it('secsess: HKDF-SHA256(enc ‖ mac, no salt, "sealwire secsess rekey", 64) = enc′ ‖ mac′', () => {
    const expected = hex('171907efbf28aa6b22702e6b06d3a84fe404133aaf43feb67b07821582497c7d4fda120b489594ef63799bc972f5a789099b06e56acdfafbfbddffd32e1bd6fe');
    checkTurnover(() => new SecsessRecordCipher({ enc: run(32), mac: run(32, 0x20) }, rng), new SecsessRecordCipher(etm(expected), rng));
  });

  it('cbcmac: HKDF-SHA256(enc ‖ mac, no salt, "sealwire cbcmac rekey", 64) = enc′ ‖ mac′', () => {
    const expected = hex('5265846f9ce57363e11cdcb511abf8c2d85fbe365c40e120f7544c0ecf65e0f22b88828d95d21dae10ce6696f12bbd6eb9b7260bc1b973024449e6081cb3fa3d');
    checkTurnover(() => new CbcmacRecordCipher({ enc: run(32), mac: run(32, 0x20) }, rng), new CbcmacRecordCipher(etm(expected), rng));
  });

  it('ccm: HKDF-SHA256(key ‖ iv_key, no salt, "sealwire ccm rekey", 32) = key′ ‖ iv_key′', () => {
    const expected = hex('05eee61729132d0a4710caab65de19d1d2f432507bca2458c1f02058bfbb5b60');
    checkTurnover(
      () => new CcmRecordCipher({ key: run(16, 0x40), ivKey: run(16, 0x50) }, rng),
      new CcmRecordCipher({ key: expected.subarray(0, 16), ivKey: expected.subarray(16) }, rng),
    );
  });

  it('sid: HKDF-SHA256(key, no salt, "sealwire sid rekey C" (or "… S"), 16) per direction', () => {
    const ids = { cid: run(8, 0xc0), sid: run(8, 0xd0) };
    checkTurnover(
      () => new SidRecordCipher({ key: run(16, 0x60), ...ids, direction: SidDirection.CLIENT_TO_SERVER }),
      new SidRecordCipher({ key: hex('5160b66e518158c9aec4b701985b3fe9'), ...ids, direction: SidDirection.CLIENT_TO_SERVER }),
    );
    checkTurnover(
      () => new SidRecordCipher({ key: run(16, 0x60), ...ids, direction: SidDirection.SERVER_TO_CLIENT }),
      new SidRecordCipher({ key: hex('74c3048d7ddf63352d0f0f3b6f805c51'), ...ids, direction: SidDirection.SERVER_TO_CLIENT }),
    );
  });
});

describe('CBC suites turn keys over every 2^28 records (far below the birthday bound)', () => {
  const suites = {
    secsess: (k: EtmKeys) => new SecsessRecordCipher(k, rng),
    cbcmac: (k: EtmKeys) => new CbcmacRecordCipher(k, rng),
  };
  const fresh = (): EtmKeys => ({ enc: run(32, 0x11), mac: run(32, 0x77) });

  it.each(Object.keys(suites) as (keyof typeof suites)[])('%s: a direction started just below 2^28 crosses the turnover on both ends', (name) => {
    const make = suites[name];
    expect(CBC_RECORDS_PER_KEY).toBe(1n << 28n);
    expect(make(fresh()).recordsPerKey).toBe(CBC_RECORDS_PER_KEY);
    const start = CBC_RECORDS_PER_KEY - 2n;
    const send = new SendDirection(make(fresh()), { initialSequenceForTestingOnly: start });
    const receive = new ReceiveDirection(make(fresh()), { initialSequenceForTestingOnly: start });
    const firstKey = make(fresh());
    for (let i = 0; i < 4; i++) {
      const seq = send.sequence;
      const text = `record ${seq}`;
      const chunks = send.seal(0x10, HEADER, Buffer.from(text));
      const body = Buffer.concat(chunks.slice(1));
      // Under the first key until the limit, under the next one from record 2^28 on.
      const underFirstKey = firstKey.open(0x10, seq, HEADER, body) !== null;
      expect(underFirstKey).toBe(seq < CBC_RECORDS_PER_KEY);
      expect(Buffer.from(receive.open(0x10, HEADER, body)).toString()).toBe(text);
    }
    expect(send.sequence).toBe(CBC_RECORDS_PER_KEY + 2n);
  });
});
