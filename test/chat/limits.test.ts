/** The rate limiter's export and import of one key's bucket (what a server saves when a member leaves). */
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/chat/limits.js';

describe('RateLimiter export/import', () => {
  it('exports a key refilled to now, and a full bucket for a key never seen', () => {
    const a = new RateLimiter(2, 10); // 2 per second, burst 10
    expect(a.export('x', 0)).toEqual({ tokens: 10, at: 0 });
    for (let i = 0; i < 10; i++) expect(a.take('alice', 1000)).toBe(true);
    expect(a.take('alice', 1000)).toBe(false);
    expect(a.export('alice', 1000)).toEqual({ tokens: 0, at: 1000 });
    expect(a.export('alice', 2500)).toEqual({ tokens: 3, at: 2500 });
    expect(a.export('alice', 60_000)).toEqual({ tokens: 10, at: 60_000 });
    // Exporting takes nothing: the bucket is as it was.
    expect(a.take('alice', 1500)).toBe(true);
    expect(a.take('alice', 1500)).toBe(false);
  });

  it('an imported bucket carries the spent tokens to another limiter and refills at its rate from then', () => {
    const a = new RateLimiter(2, 10);
    for (let i = 0; i < 10; i++) a.take('alice', 5000);
    const saved = a.export('alice', 5000);
    // Another limiter on another clock: the bucket was saved 1500 ms before its `now` of 100.
    const b = new RateLimiter(2, 10);
    b.import('alice', { tokens: saved.tokens, at: 100 - 1500 });
    expect(b.export('alice', 100).tokens).toBe(3);
    expect(b.take('alice', 100, 3)).toBe(true);
    expect(b.take('alice', 100)).toBe(false);
    expect(b.take('alice', 600)).toBe(true); // 0.5 s later: one more
    expect(b.take('alice', 600)).toBe(false);
    // Other keys are untouched.
    expect(b.export('bob', 600).tokens).toBe(10);
  });

  it('clamps imported tokens to [0, burst] and treats damaged values safely', () => {
    const r = new RateLimiter(1, 5);
    r.import('a', { tokens: 1e9, at: 0 });
    expect(r.export('a', 0).tokens).toBe(5);
    r.import('b', { tokens: -7, at: 0 });
    expect(r.export('b', 0).tokens).toBe(0);
    expect(r.take('b', 0)).toBe(false);
    r.import('c', { tokens: Number.NaN, at: 0 });
    expect(r.export('c', 0).tokens).toBe(5);
    r.import('d', { tokens: 0, at: Number.NaN });
    expect(Number.isFinite(r.export('d', 1000).tokens)).toBe(true);
  });
});
