import { describe, expect, it } from 'vitest';
import { writeU64BE } from '../../src/record/u64.js';

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
