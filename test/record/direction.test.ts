/**
 * record/direction.ts: 64-bit sequence numbers, the receive side moving only after a record
 * authenticates, key rotation at epoch boundaries on both sides alike, and the hard limit.
 * A transparent fake cipher records what it was asked, so the tests see sequence numbers and keys.
 */
import { describe, expect, it } from 'vitest';
import type { RecordCipher } from '../../src/record/cipher.js';
import { ReceiveDirection, SendDirection } from '../../src/record/direction.js';
import { SEQUENCE_HARD_LIMIT } from '../../src/record/limits.js';
import { ContentType, isRecordType } from '../../src/record/content-type.js';
import { SealwireError } from '../../src/errors.js';

/** A cipher that "seals" as epoch ‖ seq ‖ plaintext and opens only exactly that. */
class FakeCipher implements RecordCipher {
  readonly overhead = 9;
  wiped = false;
  readonly log: { epoch: number; seq: bigint }[];
  constructor(
    readonly recordsPerKey: bigint,
    readonly epoch = 0,
    log: { epoch: number; seq: bigint }[] = [],
  ) {
    this.log = log;
  }
  seal(_type: number, seq: bigint, header: Uint8Array, plaintext: Uint8Array): Uint8Array[] {
    this.check();
    this.log.push({ epoch: this.epoch, seq });
    const tag = Buffer.alloc(9);
    tag[0] = this.epoch;
    tag.writeBigUInt64BE(seq, 1);
    return [header, tag, plaintext];
  }
  open(_type: number, seq: bigint, _header: Uint8Array, body: Uint8Array): Uint8Array | null {
    this.check();
    this.log.push({ epoch: this.epoch, seq });
    const b = Buffer.from(body);
    if (b.length < 9 || b[0] !== this.epoch || b.readBigUInt64BE(1) !== seq) return null;
    return b.subarray(9);
  }
  next(): RecordCipher {
    return new FakeCipher(this.recordsPerKey, this.epoch + 1, this.log);
  }
  wipe(): void {
    this.wiped = true;
  }
  private check(): void {
    if (this.wiped) throw new Error('used after wipe');
  }
}

const body = (chunks: Uint8Array[]): Buffer => Buffer.concat(chunks.slice(1));
const empty = new Uint8Array(0);

describe('record/direction', () => {
  it('numbers records from 0 and opens them in order', () => {
    const send = new SendDirection(new FakeCipher(100n));
    const recv = new ReceiveDirection(new FakeCipher(100n));
    for (let i = 0; i < 5; i++) {
      expect(send.sequence).toBe(BigInt(i));
      const rec = send.seal(ContentType.DATA, empty, Buffer.from([i]));
      expect(Buffer.from(recv.open(ContentType.DATA, empty, body(rec)))).toEqual(Buffer.from([i]));
    }
    expect(recv.sequence).toBe(5n);
    expect(send.overhead).toBe(9);
  });

  it('does not advance the receive sequence when a record fails to authenticate', () => {
    const send = new SendDirection(new FakeCipher(100n));
    const recv = new ReceiveDirection(new FakeCipher(100n));
    const r0 = body(send.seal(ContentType.DATA, empty, Buffer.from('a')));
    const forged = Buffer.from(r0);
    forged[1]! ^= 0xff;
    for (let i = 0; i < 3; i++) expect(() => recv.open(ContentType.DATA, empty, forged)).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
    expect(recv.sequence).toBe(0n);
    // The genuine record still opens afterwards.
    expect(Buffer.from(recv.open(ContentType.DATA, empty, r0)).toString()).toBe('a');
    // A replay of it does not (it now expects sequence 1).
    expect(() => recv.open(ContentType.DATA, empty, r0)).toThrow(SealwireError);
  });

  it('rotates the key at each epoch boundary on both sides, wiping the old one', () => {
    const first = new FakeCipher(3n);
    const send = new SendDirection(first);
    const recvCipher = new FakeCipher(3n);
    const recv = new ReceiveDirection(recvCipher);
    for (let i = 0; i < 10; i++) recv.open(ContentType.DATA, empty, body(send.seal(ContentType.DATA, empty, Buffer.from([i]))));
    expect(first.log.map((e) => e.epoch)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3]);
    expect(recvCipher.log.map((e) => e.epoch)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3]);
    expect(first.wiped && recvCipher.wiped).toBe(true);
  });

  it('a forged record at an epoch boundary does not desynchronise the key schedule', () => {
    const send = new SendDirection(new FakeCipher(2n));
    const recv = new ReceiveDirection(new FakeCipher(2n));
    for (let i = 0; i < 2; i++) recv.open(ContentType.DATA, empty, body(send.seal(ContentType.DATA, empty, empty)));
    const r2 = body(send.seal(ContentType.DATA, empty, Buffer.from('x')));
    const forged = Buffer.from(r2);
    forged[0] = 0; // claims epoch 0
    expect(() => recv.open(ContentType.DATA, empty, forged)).toThrow(SealwireError);
    expect(Buffer.from(recv.open(ContentType.DATA, empty, r2)).toString()).toBe('x');
    expect(recv.sequence).toBe(3n);
  });

  it('starts a direction near its limits through the test seam, in the right epoch', () => {
    const start = (1n << 40n) + 2n;
    const cipher = new FakeCipher(1n << 20n);
    const send = new SendDirection(cipher, { initialSequenceForTestingOnly: start });
    send.seal(ContentType.DATA, empty, empty);
    expect(cipher.log).toEqual([{ epoch: 0, seq: start }]);
    expect(send.sequence).toBe(start + 1n);
  });

  it('keeps 64-bit sequence numbers exact above 2^32 and 2^53', () => {
    for (const start of [0xffff_ffffn, (1n << 53n) + 1n]) {
      const send = new SendDirection(new FakeCipher(1n << 62n), { initialSequenceForTestingOnly: start });
      const recv = new ReceiveDirection(new FakeCipher(1n << 62n), { initialSequenceForTestingOnly: start });
      for (let i = 0n; i < 3n; i++) {
        const rec = body(send.seal(ContentType.DATA, empty, empty));
        expect(rec.readBigUInt64BE(1)).toBe(start + i);
        recv.open(ContentType.DATA, empty, rec);
      }
    }
  });

  it('refuses to seal or open at the 64-bit hard limit with LIMIT, before the counter wraps', () => {
    const near = SEQUENCE_HARD_LIMIT - 1n;
    const send = new SendDirection(new FakeCipher(1n << 63n), { initialSequenceForTestingOnly: near });
    send.seal(ContentType.DATA, empty, empty);
    expect(() => send.seal(ContentType.DATA, empty, empty)).toThrow(expect.objectContaining({ code: 'LIMIT' }));
    expect(send.sequence).toBe(SEQUENCE_HARD_LIMIT);
    const recv = new ReceiveDirection(new FakeCipher(1n << 63n), { initialSequenceForTestingOnly: SEQUENCE_HARD_LIMIT });
    expect(() => recv.open(ContentType.DATA, empty, Buffer.alloc(9))).toThrow(expect.objectContaining({ code: 'LIMIT' }));
  });

  it('throws CLOSED after wipe()', () => {
    const cipher = new FakeCipher(10n);
    const send = new SendDirection(cipher);
    send.wipe();
    expect(cipher.wiped).toBe(true);
    expect(() => send.seal(ContentType.DATA, empty, empty)).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    expect(() => send.overhead).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    send.wipe();
  });

  // Bug found here: a cipher with recordsPerKey = 0 made the constructor divide by zero (a
  // RangeError from bigint division) instead of a typed refusal.
  it('refuses a cipher whose recordsPerKey is not positive, with a SealwireError', () => {
    for (const n of [0n, -1n]) {
      expect(() => new SendDirection(new FakeCipher(n))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => new ReceiveDirection(new FakeCipher(n))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('refuses a next() cipher whose recordsPerKey is not positive', () => {
    const bad: RecordCipher = Object.assign(new FakeCipher(1n), { next: () => new FakeCipher(0n, 1) });
    const send = new SendDirection(bad);
    send.seal(ContentType.DATA, empty, empty);
    expect(() => send.seal(ContentType.DATA, empty, empty)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('record/content-type', () => {
  it('knows DATA and CLOSE and nothing else', () => {
    expect(ContentType.DATA).toBe(0x10);
    expect(ContentType.CLOSE).toBe(0x11);
    const types = Array.from({ length: 256 }, (_, t) => t).filter(isRecordType);
    expect(types).toEqual([0x10, 0x11]);
  });
});
