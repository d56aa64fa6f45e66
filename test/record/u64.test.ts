import { describe, expect, it } from 'vitest';
import { readU32BE, readU64BENumber, writeU64BE, writeU64BENumber } from '../../src/record/u64.js';

describe('writeU64BE', () => {
  it('writes the same bytes as writeBigUInt64BE, at the edges of both paths', () => {
    const values = [0n, 1n, 255n, 256n, 0xffff_ffffn, 0x1_0000_0000n, 0x1_0000_0001n, (1n << 52n) + 12345n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 63n) + 7n, (1n << 64n) - 2n, (1n << 64n) - 1n];
    for (let i = 0; i < 200; i++) values.push(BigInt.asUintN(64, BigInt(Math.floor(Math.random() * 2 ** 52)) * BigInt(1 + (i % 4096))));
    for (const v of values) {
      for (const offset of [0, 3, 16]) {
        const got = Buffer.alloc(offset + 10, 0xaa);
        const want = Buffer.alloc(offset + 10, 0xaa);
        writeU64BE(got, offset, v);
        want.writeBigUInt64BE(v, offset);
        expect(got.toString('hex'), `${v} at ${offset}`).toBe(want.toString('hex'));
      }
    }
  });

  it('writes into a view at its own offset, not the underlying buffer\'s', () => {
    const backing = Buffer.alloc(32, 0);
    const view = backing.subarray(7, 23);
    writeU64BE(view, 8, 1n << 60n);
    writeU64BE(view, 0, 5n);
    expect(view.toString('hex')).toBe('00000000000000051000000000000000');
    expect(backing.subarray(0, 7).every((b) => b === 0)).toBe(true);
    expect(backing.subarray(23).every((b) => b === 0)).toBe(true);
    // The bigint path (above 2^53) honours the view's offset too.
    writeU64BE(view, 8, (1n << 64n) - 1n);
    expect(view.subarray(8).toString('hex')).toBe('ffffffffffffffff');
    expect(backing.subarray(23).every((b) => b === 0)).toBe(true);
  });
});

describe('number reads and writes', () => {
  it('writeU64BENumber matches writeBigUInt64BE, and readU64BENumber reads it back, up to 2^53 - 1', () => {
    const values = [0, 1, 255, 256, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0001, 2 ** 52 + 12345, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 200; i++) values.push(Math.floor(Math.random() * Number.MAX_SAFE_INTEGER));
    for (const v of values) {
      const got = Buffer.alloc(11, 0xaa);
      const want = Buffer.alloc(11, 0xaa);
      writeU64BENumber(got, 3, v);
      want.writeBigUInt64BE(BigInt(v), 3);
      expect(got.toString('hex'), String(v)).toBe(want.toString('hex'));
      expect(readU64BENumber(new Uint8Array(got), 3)).toBe(v);
    }
  });

  it('readU64BENumber answers -1 from 2^53 on, where a number is no longer exact', () => {
    for (const v of [1n << 53n, (1n << 53n) + 1n, 1n << 63n, (1n << 64n) - 1n]) {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(v);
      expect(readU64BENumber(b, 0)).toBe(-1);
    }
  });

  it('readU32BE reads unsigned big-endian words at any offset', () => {
    const b = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x01]);
    expect(readU32BE(b, 0)).toBe(0xffff_ffff);
    expect(readU32BE(b, 4)).toBe(0x8000_0001);
    expect(readU32BE(b, 2)).toBe(0xffff_8000);
  });
});
