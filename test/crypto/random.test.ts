/**
 * crypto/random.ts: `systemRng` serves small requests from a block it fills at once, and zeroes
 * each part it hands out.
 */
import { describe, expect, it } from 'vitest';
import { rngBlockForTestingOnly, systemRng } from '../../src/crypto/random.js';

describe('systemRng', () => {
  it('returns exactly n bytes, each request in memory of its own', () => {
    for (const n of [0, 1, 16, 24, 32, 255, 256, 257, 4096, 70_000]) {
      const a = systemRng(n);
      expect(a.length).toBe(n);
      expect(a.byteOffset).toBe(0);
      expect(a.buffer.byteLength).toBe(n);
    }
  });

  it('never repeats itself across many small requests and block refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(systemRng(16).toString('hex'));
    expect(seen.size).toBe(2000);
    // Every byte value shows up in 64 KiB of small requests (a stuck or zeroed source would not).
    const bytes = Buffer.concat(Array.from({ length: 2048 }, () => systemRng(32)));
    expect(new Set(bytes).size).toBe(256);
    // Roughly half the bits are set.
    let ones = 0;
    for (const b of bytes) for (let k = 0; k < 8; k++) ones += (b >> k) & 1;
    expect(ones / (bytes.length * 8)).toBeGreaterThan(0.48);
    expect(ones / (bytes.length * 8)).toBeLessThan(0.52);
  });

  it('zeroes what it has handed out of its block', () => {
    systemRng(32);
    const before = rngBlockForTestingOnly();
    systemRng(24);
    const after = rngBlockForTestingOnly();
    expect(after.used).toBeGreaterThan(0);
    expect(after.used === before.used + 24 || after.used === 24).toBe(true);
    expect(after.handedOutAreZero).toBe(true);
  });

  it('refuses a negative or fractional count', () => {
    expect(() => systemRng(-1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => systemRng(1.5)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
