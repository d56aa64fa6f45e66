/** The client's server list: a random start, then round the list on each failure. */
import { describe, expect, it } from 'vitest';
import { ServerRotation, formatAddress } from '../../src/chat/server-list.js';

describe('ServerRotation', () => {
  const list = [
    { host: '127.0.0.1', port: 1 },
    { host: '::1', port: 2 },
    { host: 'chat.example', port: 3 },
  ];
  it('starts where the random number points and moves round the list', () => {
    const r = new ServerRotation(list, () => 0.5);
    expect(r.current.port).toBe(2);
    expect(r.advance().port).toBe(3);
    expect(r.advance().port).toBe(1);
    expect(formatAddress(r.advance())).toBe('[::1]:2');
    expect(new ServerRotation(list, () => 0.9999999).current.port).toBe(3);
    expect(new ServerRotation(list, () => 0).current.port).toBe(1);
  });
  it('spreads starts over the list', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 60; i++) seen.add(new ServerRotation(list).current.port);
    expect([...seen].sort()).toEqual([1, 2, 3]);
  });
  it('refuses an empty list', () => {
    expect(() => new ServerRotation([])).toThrow(RangeError);
  });
});
