/**
 * box's precomputed long-term keys (src/suites/box/long-term.ts): the cache gives the same keys
 * `boxKeys` computes, only keys that opened a V get in, it is bounded, and `wipe()` zeroes it.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/key.js';
import { boxKeys } from '../../src/crypto/box.js';
import { boxSuite } from '../../src/suites/box/index.js';
import { LongTermKeys, clientLongTermKeys } from '../../src/suites/box/long-term.js';
import { SessionPipe } from '../helpers/pipe.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';

const serverKey = generateKeyPair('x25519');

function pipe(clientKey = generateKeyPair('x25519'), pinned = serverKey.publicKey, resources?: LongTermKeys): SessionPipe {
  return new SessionPipe(
    boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: pinned }, rng: seededRngForTestingOnly(String(Math.random())) }),
    boxSuite.server({ key: serverKey, authorize: () => true, rng: seededRngForTestingOnly(String(Math.random())), resources }),
  ).run();
}

describe('box long-term key cache', () => {
  it('computes what boxKeys computes, and returns remembered keys', () => {
    const own = generateKeyPair('x25519');
    const peer = generateKeyPair('x25519').publicKey.bytes;
    const cache = new LongTermKeys('client', own);
    const k = cache.compute(peer);
    expect(k).toEqual(boxKeys('client', own.publicKey.bytes, own.secretKey, peer));
    expect(cache.get(peer)).toBeUndefined();
    cache.remember(peer, k);
    expect(cache.get(peer)).toBe(k);
    cache.wipe();
    expect(k.send.every((b) => b === 0) && k.receive.every((b) => b === 0)).toBe(true);
    expect(cache.get(peer)).toBeUndefined();
  });

  it('is bounded: the oldest entry goes (and is wiped) first', () => {
    const cache = new LongTermKeys('server', serverKey);
    const peers = Array.from({ length: 1025 }, () => generateKeyPair('x25519').publicKey.bytes);
    const first = cache.compute(peers[0]!);
    cache.remember(peers[0]!, first);
    for (const p of peers.slice(1)) cache.remember(p, cache.compute(p));
    expect(cache.get(peers[0]!)).toBeUndefined();
    expect(first.send.every((b) => b === 0)).toBe(true);
    expect(cache.get(peers[1]!)).toBeDefined();
    expect(cache.get(peers[1024]!)).toBeDefined();
  });

  it('never caches the keys of a client the server refuses (authorize says no)', () => {
    const clientKey = generateKeyPair('x25519');
    const serverCache = new LongTermKeys('server', serverKey);
    const p = new SessionPipe(
      boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng: seededRngForTestingOnly('refused client') }),
      boxSuite.server({ key: serverKey, authorize: () => false, rng: seededRngForTestingOnly('refusing server'), resources: serverCache }),
    ).run();
    expect(p.server.phase).not.toBe('open');
    expect(serverCache.get(clientKey.publicKey.bytes)).toBeUndefined();
  });

  it('handshakes fill the caches on both sides and keep working with cached keys', () => {
    const clientKey = generateKeyPair('x25519');
    const serverCache = new LongTermKeys('server', serverKey);
    for (let i = 0; i < 3; i++) {
      const p = pipe(clientKey, serverKey.publicKey, serverCache);
      expect(p.client.phase).toBe('open');
      expect(p.server.phase).toBe('open');
      expect(p.server.peerPublicKey!.equals(clientKey.publicKey)).toBe(true);
    }
    expect(serverCache.get(clientKey.publicKey.bytes)).toEqual(boxKeys('server', serverKey.publicKey.bytes, serverKey.secretKey, clientKey.publicKey.bytes));
    expect(clientLongTermKeys(clientKey).get(serverKey.publicKey.bytes)).toBeDefined();
  });

  it('a handshake with the wrong pinned server key caches nothing', () => {
    const clientKey = generateKeyPair('x25519');
    const wrong = generateKeyPair('x25519').publicKey;
    const p = pipe(clientKey, wrong);
    expect(p.server.phase).toBe('failed');
    expect(p.client.phase).not.toBe('open');
    expect(clientLongTermKeys(clientKey).get(wrong.bytes)).toBeUndefined();
  });

  it('a client whose V does not open does not get into the server cache', () => {
    const clientKey = generateKeyPair('x25519');
    const serverCache = new LongTermKeys('server', serverKey);
    // Poison the client's cache with keys for another pair: its V will not open at the server.
    const bogus = boxKeys('client', clientKey.publicKey.bytes, clientKey.secretKey, generateKeyPair('x25519').publicKey.bytes);
    clientLongTermKeys(clientKey).remember(serverKey.publicKey.bytes, bogus);
    const p = pipe(clientKey, serverKey.publicKey, serverCache);
    expect(p.server.phase).toBe('failed');
    expect(p.server.error!.message).toMatch(/vouch V does not open/);
    expect(serverCache.get(clientKey.publicKey.bytes)).toBeUndefined();
  });
});
