/**
 * Issue 11 §1: a server that authenticates clients (sid, ccm) checks the client's key against its
 * policy as soon as the key is named, before any RSA private-key operation, so an unauthorized
 * peer cannot make it burn CPU on decryptions. A spy on node:crypto's `privateDecrypt` counts the
 * decryptions made with the server's private key.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type * as NodeCrypto from 'node:crypto';

const spy = vi.hoisted(() => ({ calls: [] as unknown[] }));
vi.mock('node:crypto', async (importOriginal) => {
  const mod = await importOriginal<typeof NodeCrypto>();
  const privateDecrypt: typeof mod.privateDecrypt = (key, buffer) => {
    spy.calls.push(key);
    return mod.privateDecrypt(key, buffer);
  };
  return { ...mod, default: { ...mod, privateDecrypt }, privateDecrypt };
});

import type { KeyObject } from 'node:crypto';
import { getSuite } from '../../src/suites/index.js';
import { sidSuite } from '../../src/suites/sid/index.js';
import { MessageType as SidType } from '../../src/suites/sid/messages.js';
import { systemRng } from '../../src/crypto/random.js';
import type { KeyPair } from '../../src/keys/key.js';
import { SessionPipe } from '../helpers/pipe.js';
import { DatagramNet } from '../helpers/datagram-net.js';
import { testKey } from '../helpers/fixtures.js';

let serverKey: KeyPair;
let allowed: KeyPair;
let stranger: KeyPair;
beforeAll(async () => {
  [serverKey, allowed, stranger] = await Promise.all([testKey('rsa', 0), testKey('rsa', 2), testKey('rsa', 3)]);
});

/** Decryptions made with the server's private key since the last call. */
function serverDecryptions(): number {
  const n = spy.calls.filter((o) => {
    const key = (o as { key?: KeyObject }).key ?? o;
    return typeof (key as KeyObject).equals === 'function' && (key as KeyObject).equals(serverKey.privateKey);
  }).length;
  spy.calls.length = 0;
  return n;
}

const onlyAllowed = (k: { equals(o: unknown): boolean }): boolean => k.equals(allowed.publicKey);

describe.each(['sid', 'ccm'] as const)('%s: authorization before any private-key operation', (name) => {
  const suite = () => getSuite(name);
  const pipeFor = (client: KeyPair) =>
    new SessionPipe(
      suite().client({ key: client, server: { kind: 'pinned', key: serverKey.publicKey }, rng: systemRng }),
      suite().server({ key: serverKey, authorize: onlyAllowed, rng: systemRng }),
    ).run();

  it('an authorized client connects (and the spy sees the server decrypt)', () => {
    serverDecryptions();
    const p = pipeFor(allowed);
    expect(p.secure('server')).toBe(true);
    expect(serverDecryptions()).toBeGreaterThan(0);
  });

  it('an unauthorized client is refused with UNKNOWN_PEER and costs the server no RSA decryption', () => {
    serverDecryptions();
    const p = pipeFor(stranger);
    expect(p.secure('server')).toBe(false);
    expect(p.errors('server')[0]?.code).toBe('UNKNOWN_PEER');
    expect(serverDecryptions()).toBe(0);
  });
});

describe('sid over UDP: authorization at 0x00', () => {
  it('answers an unauthorized ClientHello with the Reject (0x05), never with its key, and decrypts nothing', () => {
    const net = new DatagramNet({ suite: sidSuite, config: { key: serverKey, authorize: onlyAllowed, rng: systemRng } });
    const seen: number[] = [];
    net.hook = (d) => {
      if (d.from === 'server') seen.push(d.data[0]!);
      return [d.data];
    };
    const connectionId = systemRng(8);
    const hs = sidSuite.client({ key: stranger, server: { kind: 'pinned', key: serverKey.publicKey }, rng: systemRng, connectionId });
    serverDecryptions();
    const c = net.addClient(hs, connectionId, undefined, { profile: sidSuite.datagram, handshakeTimeoutMs: 2_000 });
    net.runUntil(() => c.events.some((e) => e.type === 'close'), 3_000);
    expect(c.events.some((e) => e.type === 'secure')).toBe(false);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((t) => t === SidType.REJECT)).toBe(true);
    expect(serverDecryptions()).toBe(0);
  });
});
