/** `box` packet mode (seed 003's second diagram): stateless requests and replies. */
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/key.js';
import { BoxPacketClient, BoxPacketServer, MAX_PACKET_MESSAGE, REPLY_OVERHEAD, REQUEST_OVERHEAD } from '../../src/suites/box/packet.js';
import { systemRng } from '../../src/crypto/random.js';

const serverKey = generateKeyPair('x25519');

describe('box packet mode', () => {
  it('carries a request and its reply; every request carries EC and the server keeps no state', () => {
    const client = new BoxPacketClient(serverKey.publicKey, systemRng);
    const server = new BoxPacketServer(serverKey, systemRng);
    const a = client.request(Buffer.from('query one'));
    const b = client.request(Buffer.from('query two'));
    expect(a.packet.length).toBe(REQUEST_OVERHEAD + 9);
    expect(a.packet.subarray(1, 33).equals(b.packet.subarray(1, 33))).toBe(true); // the same EC
    const ra = server.open(a.packet)!;
    const rb = server.open(b.packet)!;
    expect(Buffer.from(ra.message).toString()).toBe('query one');
    const replyB = rb.reply(Buffer.from('answer two'));
    const replyA = ra.reply(Buffer.from('answer one'));
    expect(replyA.length).toBeLessThanOrEqual(a.packet.length);
    const gotB = client.open(replyB)!;
    const gotA = client.open(replyA)!;
    expect([gotA.seq, Buffer.from(gotA.message).toString()]).toEqual([0n, 'answer one']);
    expect([gotB.seq, Buffer.from(gotB.message).toString()]).toEqual([1n, 'answer two']);
  });

  it('answers a replayed request with a fresh nonce, and the client takes one reply per request', () => {
    const client = new BoxPacketClient(serverKey.publicKey, systemRng);
    const server = new BoxPacketServer(serverKey, systemRng);
    const { packet } = client.request(Buffer.from('idempotent query'));
    const r1 = server.open(packet)!.reply(Buffer.from('same answer'));
    const r2 = server.open(packet)!.reply(Buffer.from('same answer'));
    expect(r1.subarray(1, 23).equals(r2.subarray(1, 23))).toBe(false); // random reply nonces
    expect(client.open(r1)).not.toBeNull();
    expect(client.open(r2)).toBeNull();
    expect(client.open(r1)).toBeNull();
  });

  it('rejects every single-bit flip of a request and of a reply', () => {
    const client = new BoxPacketClient(serverKey.publicKey, systemRng);
    const server = new BoxPacketServer(serverKey, systemRng);
    const { packet } = client.request(Buffer.from('flip'));
    const reply = server.open(packet)!.reply(Buffer.from('flop'));
    for (let bit = 0; bit < packet.length * 8; bit++) {
      const bad = Buffer.from(packet);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(server.open(bad)).toBeNull();
    }
    for (let bit = 0; bit < reply.length * 8; bit++) {
      const bad = Buffer.from(reply);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(client.open(bad)).toBeNull();
    }
    expect(Buffer.from(client.open(reply)!.message).toString()).toBe('flop');
  });

  it('never replies with more bytes than the request carried', () => {
    const client = new BoxPacketClient(serverKey.publicKey, systemRng);
    const server = new BoxPacketServer(serverKey, systemRng);
    const { packet } = client.request(Buffer.alloc(20));
    const req = server.open(packet)!;
    const max = packet.length - REPLY_OVERHEAD;
    expect(req.reply(Buffer.alloc(max)).length).toBe(packet.length);
    expect(() => req.reply(Buffer.alloc(max + 1))).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
  });

  it('drops garbage, short packets, low-order keys and replies to requests never sent', () => {
    const server = new BoxPacketServer(serverKey, systemRng);
    for (let n = 0; n < 200; n++) expect(server.open(systemRng(n))).toBeNull();
    const lowOrder = Buffer.concat([Buffer.of(0x20), Buffer.alloc(32), Buffer.alloc(8), Buffer.alloc(20)]);
    expect(server.open(lowOrder)).toBeNull();
    expect(server.open(Buffer.concat([Buffer.of(0x20), systemRng(REQUEST_OVERHEAD + MAX_PACKET_MESSAGE)]))).toBeNull();
    const client = new BoxPacketClient(serverKey.publicKey, systemRng);
    const other = new BoxPacketClient(serverKey.publicKey, systemRng);
    const req = server.open(other.request(Buffer.from('x')).packet)!;
    expect(client.open(req.reply(Buffer.from('y')))).toBeNull(); // for another EC
    client.wipe();
    expect(() => client.request(Buffer.from('after wipe'))).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });
});

describe('box packet mode over UDP', () => {
  it('answers requests on loopback through the public API', async () => {
    const { createPacketServer, packetClient } = await import('../../src/index.js');
    const server = createPacketServer({ key: serverKey }, (req) => req.reply(req.message.toString().toUpperCase()));
    const { port } = await server.listen(0, '127.0.0.1');
    const client = await packetClient({ port, serverKey: serverKey.publicKey });
    try {
      const answers = await Promise.all(['a', 'bb', 'dns query'].map((q) => client.request(q)));
      expect(answers.map((a) => a.toString())).toEqual(['A', 'BB', 'DNS QUERY']);
      const stranger = await packetClient({ port, serverKey: generateKeyPair('x25519').publicKey, timeoutMs: 400 });
      await expect(stranger.request('who')).rejects.toMatchObject({ code: 'TIMEOUT' });
      stranger.close();
      // A host that cannot be resolved fails the call (it used to hang): '.invalid' never resolves.
      await expect(packetClient({ host: 'no-such-host.invalid', port, serverKey: serverKey.publicKey })).rejects.toMatchObject({ code: 'IO' });
    } finally {
      client.close();
      await server.close();
    }
  });
});
