/**
 * The browser crypto backend (src/browser/crypto, @noble/*) gives the same bytes as the Node one
 * (src/crypto, sodium-native): the Wycheproof X25519 vectors through both, then every function
 * cross-checked on random inputs, including failures (low-order keys, tampered boxes, bad sizes).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as node from '../../src/crypto/box.js';
import * as web from '../../src/browser/crypto/box.js';
import { sha256 as nodeSha256 } from '../../src/crypto/hash.js';
import { sha256 as webSha256 } from '../../src/browser/crypto/hash.js';
import * as nodeSecrets from '../../src/crypto/secrets.js';
import * as webSecrets from '../../src/browser/crypto/secrets.js';
import { systemRng as webRng } from '../../src/browser/crypto/random.js';
import { PublicKey as NodePublicKey, KeyPair as NodeKeyPair } from '../../src/keys/key.js';
import { PublicKey as WebPublicKey, KeyPair as WebKeyPair, generateKeyPair as webGenerate } from '../../src/browser/keys/key.js';
import { hex, wycheproofCases } from '../helpers/wycheproof.js';

const RUNS = { numRuns: 150 };
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a));
const code = (c: string) => expect.objectContaining({ code: c });
const same = (a: Uint8Array | null, b: Uint8Array | null): void => {
  expect(a === null).toBe(b === null);
  if (a && b) expect(Buffer.from(a).toString('hex')).toBe(Buffer.from(b).toString('hex'));
};

describe('browser backend: the type of each module is the Node module\'s', () => {
  it('exports what the Node modules export', () => {
    // Compile-time: the browser module can stand in for the Node module wherever it is imported.
    const box: typeof node = web;
    const secrets: typeof nodeSecrets = webSecrets;
    expect(Object.keys(box).sort()).toEqual(Object.keys(node).sort());
    expect(Object.keys(secrets).sort()).toEqual(Object.keys(nodeSecrets).sort());
  });
});

describe('browser backend: Wycheproof X25519, same results as sodium-native', () => {
  const cases = wycheproofCases('x25519');
  it('runs all 518 vectors', () => {
    let zero = 0;
    for (const { test } of cases) {
      const priv = hex(test, 'private');
      const pub = hex(test, 'public');
      const shared = hex(test, 'shared');
      same(web.x25519PublicKey(priv), node.x25519PublicKey(priv));
      if (shared.every((b) => b === 0)) {
        zero++;
        expect(() => web.x25519(priv, pub)).toThrow(code('BAD_KEY'));
        expect(() => web.boxKeys('client', web.x25519PublicKey(priv), priv, pub)).toThrow(code('BAD_KEY'));
        continue;
      }
      same(web.x25519(priv, pub), shared);
      const own = node.x25519PublicKey(priv);
      for (const role of ['client', 'server'] as const) {
        const w = web.boxKeys(role, own, priv, pub);
        const n = node.boxKeys(role, own, priv, pub);
        same(w.send, n.send);
        same(w.receive, n.receive);
      }
    }
    expect(zero).toBeGreaterThanOrEqual(30);
  });
});

describe('browser backend: cross-checked against sodium-native on random inputs', () => {
  it('key pairs from seeds (crypto_box_seed_keypair)', () => {
    fc.assert(
      fc.property(bytes(32), (seed) => {
        const w = web.x25519KeyPairFromSeed(seed);
        const n = node.x25519KeyPairFromSeed(seed);
        same(w.publicKey, n.publicKey);
        same(w.secretKey, n.secretKey);
      }),
      RUNS,
    );
  });

  it('session keys both ways (crypto_kx), agreeing across backends', () => {
    fc.assert(
      fc.property(bytes(32), bytes(32), (s1, s2) => {
        const a = node.x25519KeyPairFromSeed(s1);
        const b = node.x25519KeyPairFromSeed(s2);
        const wc = web.boxKeys('client', a.publicKey, a.secretKey, b.publicKey);
        const ns = node.boxKeys('server', b.publicKey, b.secretKey, a.publicKey);
        same(wc.send, ns.receive);
        same(wc.receive, ns.send);
        same(wc.send, node.boxKeys('client', a.publicKey, a.secretKey, b.publicKey).send);
        same(web.boxKeys('server', b.publicKey, b.secretKey, a.publicKey).send, ns.send);
      }),
      RUNS,
    );
  });

  it('secretbox seal and open, into a buffer and in place, and refusal of any flipped bit', () => {
    fc.assert(
      fc.property(bytes(32), bytes(24), fc.uint8Array({ maxLength: 300 }), fc.nat(), (key, nonce, pt, flip) => {
        const sealed = web.secretboxSeal(pt, nonce, key);
        same(sealed, node.secretboxSeal(pt, nonce, key));
        const into = Buffer.alloc(pt.length + web.BOX_MAC_SIZE);
        web.secretboxSealInto(into, pt, nonce, key);
        same(into, sealed);
        same(web.secretboxOpen(sealed, nonce, key), Buffer.from(pt));
        const copy = Buffer.from(sealed);
        same(web.secretboxOpenInPlace(copy, nonce, key), Buffer.from(pt));
        const bad = Buffer.from(sealed);
        bad[flip % bad.length]! ^= 1 << flip % 8;
        const badCopy = Buffer.from(bad);
        expect(web.secretboxOpen(bad, nonce, key)).toBeNull();
        expect(node.secretboxOpen(bad, nonce, key)).toBeNull();
        expect(web.secretboxOpenInPlace(bad, nonce, key)).toBeNull();
        same(bad, badCopy); // a failed open leaves the bytes alone
      }),
      RUNS,
    );
  });

  it('BLAKE2b, keyed and unkeyed, every output size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 64 }), fc.uint8Array({ maxLength: 200 }), fc.option(fc.uint8Array({ minLength: 16, maxLength: 64 })), (size, input, key) => {
        same(web.blake2b(size, input, key ?? undefined), node.blake2b(size, input, key ?? undefined));
      }),
      RUNS,
    );
    expect(() => web.blake2b(15, Buffer.alloc(1))).toThrow(code('INVALID_ARGUMENT'));
  });

  it('SHA-256, constant-time comparison and wiping', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 50 }), (a, b) => {
        same(webSha256(a, b), nodeSha256(a, b));
        expect(webSecrets.equalConstantTime(a, b)).toBe(nodeSecrets.equalConstantTime(a, b));
        expect(webSecrets.equalConstantTime(a, Buffer.from(a))).toBe(true);
      }),
      RUNS,
    );
    const secret = Buffer.from('secret bytes');
    webSecrets.wipe(secret, null, undefined);
    expect(secret.every((x) => x === 0)).toBe(true);
  });

  it('refuses wrong sizes with the same codes', () => {
    for (const impl of [web, node]) {
      expect(() => impl.x25519KeyPairFromSeed(Buffer.alloc(31))).toThrow(code('INVALID_ARGUMENT'));
      expect(() => impl.x25519PublicKey(Buffer.alloc(16))).toThrow(code('BAD_KEY'));
      expect(() => impl.secretboxSeal(Buffer.alloc(1), Buffer.alloc(23), Buffer.alloc(32))).toThrow(code('INVALID_ARGUMENT'));
      expect(() => impl.secretboxSeal(Buffer.alloc(1), Buffer.alloc(24), Buffer.alloc(31))).toThrow(code('INVALID_ARGUMENT'));
      expect(impl.secretboxOpen(Buffer.alloc(15), Buffer.alloc(24), Buffer.alloc(32))).toBeNull();
    }
  });

  it('random bytes come from the platform CSPRNG, in any amount', () => {
    const a = webRng(100_000);
    expect(a.length).toBe(100_000);
    expect(a.equals(webRng(100_000))).toBe(false);
    expect(new Set(a.subarray(0, 4096)).size).toBeGreaterThan(200);
  });
});

describe('browser keys: the same keys, fingerprints and text as the Node module', () => {
  it('matches for any secret', () => {
    fc.assert(
      fc.property(bytes(32), (sk) => {
        const w = WebKeyPair.fromX25519Secret(sk);
        const n = NodeKeyPair.fromX25519Secret(sk);
        same(w.publicKey.bytes, n.publicKey.bytes);
        expect(w.publicKey.fingerprint).toBe(n.publicKey.fingerprint);
        expect(w.publicKey.toString()).toBe(n.publicKey.toString());
        expect(w.publicKey.equals(WebPublicKey.fromBytes('x25519', n.publicKey.bytes))).toBe(true);
      }),
      { numRuns: 50 },
    );
    expect(webGenerate().publicKey.bytes.length).toBe(32);
    expect(() => WebPublicKey.fromBytes('rsa', NodePublicKey.fromBytes('x25519', Buffer.alloc(32, 9)).bytes)).toThrow(code('BAD_KEY'));
    expect(() => WebPublicKey.fromBytes('x25519', Buffer.alloc(31))).toThrow(code('BAD_KEY'));
  });
});
