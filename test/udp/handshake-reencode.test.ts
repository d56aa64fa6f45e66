/**
 * An on-path observer re-encodes a client's final handshake flight (the padded `type | 0x80` form,
 * another padding size, or the plain form) and races it in from its own address. Before the fix
 * the server took the re-encoding as a new message: the session started at the attacker's address
 * and the real client's own datagram, now "different bytes", was dropped, so it never got its
 * answer. Now a handshake datagram has one encoding per suite (padded only where the suite pads,
 * at exactly its size), repeats are recognised by content, and the real client gets in.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type KeyPair } from '../../src/keys/key.js';
import { boxSuite } from '../../src/suites/box/index.js';
import { MessageType } from '../../src/suites/box/messages.js';
import { sidSuite } from '../../src/suites/sid/index.js';
import { MessageType as SidType } from '../../src/suites/sid/messages.js';
import { testKey } from '../helpers/fixtures.js';
import { DATAGRAM_PREFIX_SIZE, PADDED, encodeHandshakeDatagram, readHandshakeDatagram } from '../../src/record/datagram.js';
import type { Suite } from '../../src/session/handshake.js';
import { DatagramNet } from '../helpers/datagram-net.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';

const serverKey = generateKeyPair('x25519');
const clientKey = generateKeyPair('x25519');
const attacker = { address: '192.0.2.66', port: 6666 };
const PAD = 1200;
/** box with sid's client padding: the same UDP core rules, for a suite that pads. */
const paddedBox: Suite = { ...boxSuite, datagram: { ...boxSuite.datagram, padClientHandshakeTo: PAD } };

/** Re-encodings of a client handshake datagram: same message, other bytes. */
function reencodings(d: Uint8Array, padTo: number): Uint8Array[] {
  const m = readHandshakeDatagram(d, padTo)!;
  const cid = d.subarray(1, DATAGRAM_PREFIX_SIZE);
  const plain = Buffer.concat([Uint8Array.of(m.type), cid, m.payload]);
  const paddedTo = (n: number): Buffer => {
    const out = Buffer.alloc(n);
    out[0] = m.type | PADDED;
    out.set(cid, 1);
    out.writeUInt16BE(m.payload.length, DATAGRAM_PREFIX_SIZE);
    out.set(m.payload, DATAGRAM_PREFIX_SIZE + 2);
    return out;
  };
  const minimal = DATAGRAM_PREFIX_SIZE + 2 + m.payload.length;
  return [plain, paddedTo(minimal), paddedTo(minimal + 7), paddedTo(Math.max(PAD, minimal) + 1)].filter((x) => Buffer.compare(x, Buffer.from(d)) !== 0);
}

interface Keys {
  readonly server: KeyPair;
  readonly client: KeyPair;
}

/** Runs one handshake while the attacker races `variant` of the client's `finalType` message in. */
function race(suite: Suite, variant: number, keys: Keys = { server: serverKey, client: clientKey }, finalType: number = MessageType.VOUCH): { net: DatagramNet; ok: boolean } {
  const net = new DatagramNet({ suite, config: { key: keys.server, authorize: () => true, rng: seededRngForTestingOnly(`server ${variant}`) } });
  const padTo = suite.datagram?.padClientHandshakeTo ?? 0;
  let raced = false;
  net.hook = (d) => {
    // The client's Vouch: the attacker sees it first and sends its re-encoding ahead of it.
    if (!raced && d.from === 'client' && (d.data[0]! & ~PADDED) === finalType) {
      raced = true;
      const forged = reencodings(d.data, padTo)[variant];
      if (forged) net.inject(forged, attacker);
    }
    return [d.data];
  };
  const rng = seededRngForTestingOnly(`client ${variant}`);
  const connectionId = rng(8);
  const hs = suite.client({ key: keys.client, server: { kind: 'pinned', key: keys.server.publicKey }, rng, connectionId });
  const c = net.addClient(hs, connectionId, undefined, { profile: suite.datagram, handshakeTimeoutMs: 5_000 });
  const ok = net.runUntil(() => c.events.some((e) => e.type === 'secure'), 6_000);
  expect(raced).toBe(true);
  return { net, ok };
}

describe('UDP handshake: a re-encoded final flight raced in from another address', () => {
  it.each([0, 1, 2])('box (no padding), re-encoding %i: the real client completes, and its session is at its own address', (variant) => {
    const { net, ok } = race(boxSuite, variant);
    expect(ok).toBe(true);
    const entry = [...net.server.entries()][0]!;
    expect(net.server.size).toBe(1);
    expect(entry.address).toEqual(net.clients[0]!.address);
    net.clientSend(0, 'from the real client');
    net.deliver();
    expect(net.messagesAt(net.clients[0]!)).toEqual(['from the real client']);
    // Nothing at all went to the attacker's address.
    expect(net.serverSteps.filter((s) => s.from.address === attacker.address).every((s) => s.replies.length === 0)).toBe(true);
  });

  it.each([0, 1, 2, 3])('a suite that pads, re-encoding %i: the real client completes', (variant) => {
    const { net, ok } = race(paddedBox, variant);
    expect(ok).toBe(true);
    expect([...net.server.entries()][0]!.address).toEqual(net.clients[0]!.address);
    expect(net.serverSteps.filter((s) => s.from.address === attacker.address).every((s) => s.replies.length === 0)).toBe(true);
  });

  describe('sid (pads to 1 200 bytes), its Confirm (0x04) re-encoded', () => {
    let keys: Keys;
    beforeAll(async () => {
      keys = { server: await testKey('rsa', 0), client: await testKey('rsa', 2) };
    });
    it.each([0, 1, 2, 3])('re-encoding %i: the real client completes, its records reach the server', (variant) => {
      const { net, ok } = race(sidSuite, variant, keys, SidType.CONFIRM);
      expect(ok).toBe(true);
      const entry = [...net.server.entries()][0]!;
      expect(entry.address).toEqual(net.clients[0]!.address);
      net.clientSend(0, 'sid, from the real client');
      net.deliver();
      expect(net.messagesAt(net.clients[0]!)).toEqual(['sid, from the real client']);
      // At most the 9-byte error notice went to the attacker, never a record.
      const toAttacker = net.serverSteps.filter((s) => s.from.address === attacker.address).flatMap((s) => s.replies);
      expect(toAttacker.every((n) => n === 9)).toBe(true);
    });
  });

  it('reads a handshake datagram only in the one encoding its sender writes', () => {
    const cid = Buffer.alloc(8, 7);
    const payload = Buffer.from('handshake message');
    const plain = encodeHandshakeDatagram(0x03, cid, payload);
    expect(readHandshakeDatagram(plain)?.type).toBe(0x03);
    for (const other of reencodings(plain, 0)) expect(readHandshakeDatagram(other)).toBeNull(); // no padding: no padded form
    const padded = encodeHandshakeDatagram(0x03, cid, payload, PAD);
    expect(padded.length).toBe(PAD);
    expect(Buffer.from(readHandshakeDatagram(padded, PAD)!.payload)).toEqual(payload);
    for (const other of reencodings(padded, PAD)) expect(readHandshakeDatagram(other, PAD)).toBeNull();
    // A message too long to pad travels plain, and only plain.
    const long = Buffer.alloc(PAD, 1);
    expect(readHandshakeDatagram(encodeHandshakeDatagram(0x03, cid, long, PAD), PAD)?.payload.length).toBe(PAD);
  });
});
