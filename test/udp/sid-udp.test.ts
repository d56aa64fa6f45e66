/**
 * `sid` (seed 000) over UDP: the 0x00–0x04 handshake with connection id = client cid, 0x10
 * records, the error reply (0x05) and the "handshake again" notice (0x06), through the in-memory
 * datagram network and on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sidSuite } from '../../src/suites/sid/index.js';
import { AesAlgo, MessageType, SESSION_OFFER_CONTEXT, encodeOfferPlain } from '../../src/suites/sid/messages.js';
import { sealHybrid } from '../../src/crypto/rsa.js';
import { connect, createServer, type KeyPair, type UdpServer, type UdpSession } from '../../src/index.js';
import { DatagramType } from '../../src/record/datagram.js';
import { DatagramNet, type InFlight } from '../helpers/datagram-net.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';
import { testKey } from '../helpers/fixtures.js';
import { systemRng } from '../../src/crypto/random.js';

let serverKey: KeyPair;
let clientKey: KeyPair;
beforeAll(async () => {
  serverKey = await testKey('rsa', 0);
  clientKey = await testKey('rsa', 1);
});

function sidNet(): DatagramNet {
  return new DatagramNet({ suite: sidSuite, config: { key: serverKey, authorize: () => true, rng: systemRng } });
}

function sidClient(net: DatagramNet, seed: string) {
  const rng = seededRngForTestingOnly(seed);
  const connectionId = rng(8);
  const hs = sidSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng: systemRng, connectionId });
  return net.addClient(hs, connectionId, undefined, { profile: sidSuite.datagram });
}

describe('sid over UDP (in memory)', () => {
  it('runs 0x00–0x04 with the client cid as connection id, then carries 0x10 records both ways', () => {
    const net = sidNet();
    const log: InFlight[] = [];
    net.hook = (d) => {
      log.push(d);
      return [d.data];
    };
    const c = sidClient(net, 'sid one');
    expect(net.runUntil(() => c.events.some((e) => e.type === 'secure'))).toBe(true);
    const types = log.map((d) => `${d.from}:${(d.data[0]! & 0x7f).toString(16)}`);
    expect(types.slice(0, 5)).toEqual(['client:0', 'server:1', 'client:2', 'server:3', 'client:4']);
    // Every datagram names the client's cid right after the type byte.
    for (const d of log) expect(Buffer.from(d.data.subarray(1, 9)).equals(Buffer.from(c.session.connectionId))).toBe(true);
    net.clientSend(0, 'hello!');
    net.deliver();
    expect(net.messagesAt(c)).toEqual(['hello!']);
    const entry = [...net.server.entries()][0]!;
    net.server.send(entry, Buffer.from('yes!'), net.now);
    net.advance(10);
    expect(c.messages).toEqual(['yes!']);
    const record = log.find((d) => d.from === 'client' && d.data[0] === DatagramType.DATA)!;
    expect(record.data.length).toBe(1 + 8 + 8 + 8 + 6 + 16); // 0x10 ‖ cid ‖ seq ‖ GCM(sid ‖ data) ‖ tag
  });

  it('completes under 20% loss, and never answers more bytes than an unauthenticated datagram carried', () => {
    const net = sidNet();
    const rng = seededRngForTestingOnly('sid loss');
    net.hook = (d) => (rng(1)[0]! < 51 ? [] : [d.data]);
    const clients = Array.from({ length: 5 }, (_, i) => sidClient(net, `sid lossy ${i}`));
    expect(net.runUntil(() => clients.every((c) => c.events.some((e) => e.type === 'secure')), 9_000)).toBe(true);
    for (const s of net.serverSteps.filter((x) => !x.authenticated)) {
      expect(s.replies.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(s.inSize);
    }
    expect(net.server.amplificationDrops).toBe(0);
  });

  it('answers a malformed 0x00 with the error reply 0x05 and a record for an unknown cid with 0x06', () => {
    const net = sidNet();
    const cid = Buffer.alloc(8, 0x42);
    const bad = Buffer.concat([Buffer.of(MessageType.CLIENT_HELLO), cid, Buffer.from('not an RSA key')]);
    net.server.receive(bad, { address: '192.0.2.1', port: 1 }, 0);
    expect(net.server.takeOutput().map((o) => Buffer.from(o.data).toString('hex'))).toEqual([Buffer.concat([Buffer.of(MessageType.REJECT), cid]).toString('hex')]);
    const record = Buffer.concat([Buffer.of(0x10), cid, Buffer.alloc(8), Buffer.alloc(30)]);
    net.server.receive(record, { address: '192.0.2.1', port: 1 }, 0);
    expect(net.server.takeOutput().map((o) => Buffer.from(o.data).toString('hex'))).toEqual([Buffer.concat([Buffer.of(MessageType.HANDSHAKE_AGAIN), cid]).toString('hex')]);
    expect(net.server.size).toBe(0);
  });

  it('refuses a SessionOffer forged by an on-path attacker who knows the cid and C_pub (both in clear), and still takes the real one', () => {
    const net = sidNet();
    let forged = 0;
    net.hook = (d) => {
      if (d.from === 'server' && (d.data[0]! & 0x7f) === MessageType.SESSION_OFFER) {
        // Everything the attacker needs is public: the cid (in every datagram) and C_pub (the 0x00).
        const cid = d.data.subarray(1, 9);
        const plain = encodeOfferPlain({ cid, challenge: Buffer.alloc(16), sid: Buffer.alloc(8, 1), key: Buffer.alloc(16, 2), algo: AesAlgo.AES_128_GCM, binding: Buffer.alloc(32) });
        const fake = Buffer.concat([Buffer.of(MessageType.SESSION_OFFER), cid, sealHybrid(clientKey.publicKey.keyObject, plain, SESSION_OFFER_CONTEXT)]);
        forged++;
        return [fake, d.data];
      }
      return [d.data];
    };
    const c = sidClient(net, 'sid forged offer');
    expect(net.runUntil(() => c.events.some((e) => e.type === 'secure'))).toBe(true);
    expect(forged).toBeGreaterThan(0);
    // The session runs under the server's key, not the attacker's: data reaches the server.
    net.clientSend(0, 'for the real server');
    net.deliver();
    expect(net.messagesAt(c)).toEqual(['for the real server']);
  });

  it('drops a handshake whose server side cannot start (the suite throws) and keeps serving', () => {
    let refuse = true;
    const flaky = {
      ...sidSuite,
      server: (config: Parameters<typeof sidSuite.server>[0]) => {
        if (refuse) {
          refuse = false;
          throw new Error('no per-session resources ready');
        }
        return sidSuite.server(config);
      },
    };
    const net = new DatagramNet({ suite: flaky, config: { key: serverKey, authorize: () => true, rng: systemRng } });
    const first = sidClient(net, 'sid refused once');
    // The first Hello is dropped (nothing thrown out of receive), the retransmission succeeds.
    expect(net.runUntil(() => first.events.some((e) => e.type === 'secure'))).toBe(true);
    expect(refuse).toBe(false); // the refusal did happen
    const second = sidClient(net, 'sid after');
    expect(net.runUntil(() => second.events.some((e) => e.type === 'secure'))).toBe(true);
  });

  it('refuses the TCP-only suites over UDP with a clear error', async () => {
    for (const suite of ['secsess', 'ccm', 'cbcmac'] as const) {
      expect(() => createServer({ transport: 'udp', key: serverKey, suite })).toThrow(/runs over TCP only/);
      await expect(connect({ transport: 'udp', port: 9, suite, serverKey: serverKey.publicKey })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('refuses a handshake whose sealed cid differs from the connection id', () => {
    const net = sidNet();
    net.hook = (d) => {
      if (d.from === 'client' && (d.data[0]! & 0x7f) === MessageType.CLIENT_IDENTITY) {
        // Move the 0x02 (and so the session) to another connection id.
        const moved = Buffer.from(d.data);
        moved[1]! ^= 0xff;
        return [moved];
      }
      return [d.data];
    };
    const c = sidClient(net, 'sid moved');
    net.advance(1_000);
    expect(c.events.some((e) => e.type === 'secure')).toBe(false);
    expect(net.serverEvents.some((e) => e.type === 'handshakeError')).toBe(true);
  });

  it('rejects every single-bit flip of a sid record', () => {
    const net = sidNet();
    const c = sidClient(net, 'sid flips');
    expect(net.runUntil(() => c.events.some((e) => e.type === 'secure'))).toBe(true);
    let record: Uint8Array | undefined;
    net.hook = (d) => {
      record ??= d.data;
      return [];
    };
    net.clientSend(0, 'flip');
    net.hook = undefined;
    for (let bit = 0; bit < record!.length * 8; bit++) {
      const bad = Buffer.from(record!);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      net.inject(bad, c.address);
    }
    net.deliver();
    expect(net.messagesAt(c)).toEqual([]);
    net.inject(record!, c.address);
    net.deliver();
    expect(net.messagesAt(c)).toEqual(['flip']);
  });
});

describe('sid over UDP (loopback)', () => {
  let server: UdpServer;
  afterAll(async () => {
    await server?.close();
  });

  it('echoes messages through the public API', async () => {
    server = createServer({ transport: 'udp', suite: 'sid', key: serverKey, anyClient: true }, (s: UdpSession) => s.on('message', (m: Buffer) => s.send(m)));
    const { port } = await server.listen(0, '127.0.0.1');
    const session = await connect({ transport: 'udp', suite: 'sid', port, serverKey: serverKey.publicKey, key: clientKey });
    expect(session.suite).toBe('sid');
    const reply = new Promise<Buffer>((resolve) => session.once('message', resolve));
    session.send('hello over sid');
    expect((await reply).toString()).toBe('hello over sid');
    session.close();
  });
});
