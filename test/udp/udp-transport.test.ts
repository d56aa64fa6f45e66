/**
 * The UDP transport on loopback through the public API: echo, large (fragmented) messages, the
 * authenticated close, and 1,000 concurrent sessions against one server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, generateKeyPair, SealwireError, type UdpServer, type UdpSession } from '../../src/index.js';

const serverKey = generateKeyPair('x25519');
const clientKey = generateKeyPair('x25519');
const servers: UdpServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function echoServer(extra: Record<string, unknown> = {}): Promise<{ server: UdpServer; port: number }> {
  const server = createServer({ transport: 'udp', key: serverKey, anyClient: true, ...extra }, (s) => s.on('message', (m: Buffer) => s.send(m)));
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port };
}

const nextMessage = (s: UdpSession): Promise<Buffer> => new Promise((resolve) => s.once('message', resolve));

/** UDP may drop a message: send it again every 250 ms until the echo arrives (as an application would). */
function echoed(s: UdpSession, text: string): Promise<string> {
  return new Promise((resolve) => {
    const timer = setInterval(() => s.send(text), 250);
    s.once('message', (m: Buffer) => {
      clearInterval(timer);
      resolve(m.toString());
    });
    s.send(text);
  });
}

describe('UDP transport (box)', () => {
  it('drops a datagram claiming source port 0 (cannot be answered; dgram.send would throw)', async () => {
    const { server, port } = await echoServer();
    const receive = (server as unknown as { onDatagram(m: Buffer, r: { address: string; port: number; family: string; size: number }): void }).onDatagram.bind(server);
    // A record for an unknown connection id, which would draw a "handshake again" notice.
    const datagram = Buffer.concat([Buffer.from([0x10]), Buffer.alloc(8, 1), Buffer.alloc(8), Buffer.alloc(32)]);
    expect(() => receive(datagram, { address: '127.0.0.1', port: 0, family: 'IPv4', size: datagram.length })).not.toThrow();
    expect(server.handshakesInProgress).toBe(0);
    // The server still serves.
    const session = await connect({ transport: 'udp', port, serverKey: serverKey.publicKey, key: clientKey });
    expect(await echoed(session, 'still here')).toBe('still here');
    session.close();
  });

  it('fails a connect to a host that does not resolve with IO, quickly (no handshake timeout)', async () => {
    const started = Date.now();
    await expect(connect({ transport: 'udp', host: 'no-such-host.invalid', port: 9, serverKey: serverKey.publicKey, handshakeTimeout: 30_000 })).rejects.toMatchObject({ code: 'IO' });
    expect(Date.now() - started).toBeLessThan(20_000); // a bound, not a timing: the handshake timeout is 30 s
  });

  it('refuses an unknown transport in connect() as createServer() does', async () => {
    await expect(connect({ transport: 'quic' as never, port: 9 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => createServer({ transport: 'quic' as never, key: serverKey })).toThrow(SealwireError);
  });

  it('echoes messages, verifies both keys, and closes with an authenticated CLOSE', async () => {
    const { server, port } = await echoServer();
    const serverSide = new Promise<UdpSession>((resolve) => server.once('session', resolve));
    const session = await connect({ transport: 'udp', port, serverKey: serverKey.publicKey, key: clientKey });
    expect(session.suite).toBe('box');
    expect(session.peerPublicKey!.equals(serverKey.publicKey)).toBe(true);
    const s = await serverSide;
    expect(s.peerPublicKey!.equals(clientKey.publicKey)).toBe(true);
    const reply = nextMessage(session);
    session.send('hello over udp');
    expect((await reply).toString()).toBe('hello over udp');
    const big = Buffer.alloc(50_000, 7);
    big.write('start');
    const bigReply = nextMessage(session);
    session.send(big);
    expect((await bigReply).equals(big)).toBe(true);
    const serverClosed = new Promise<void>((resolve) => s.once('close', resolve));
    session.close();
    await serverClosed;
    expect(s.error).toBeNull();
    expect(() => session.send('late')).toThrow(SealwireError);
  });

  it('closes every session with its CLOSE record when the server closes', async () => {
    const { server, port } = await echoServer();
    const sessions = await Promise.all([1, 2, 3].map(() => connect({ transport: 'udp', port, serverKey: serverKey.publicKey })));
    const closed = sessions.map((s) => new Promise<void>((resolve) => s.once('close', resolve)));
    await server.close();
    await Promise.all(closed);
    for (const s of sessions) expect(s.error).toBeNull();
  });

  it('refuses a client whose pinned server key is wrong, with TIMEOUT naming the rejected Cookie', async () => {
    const { port } = await echoServer();
    const wrong = generateKeyPair('x25519');
    await expect(connect({ transport: 'udp', port, serverKey: wrong.publicKey, handshakeTimeout: 600 })).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/Cookie/) });
  });

  it('serves 1,000 concurrent sessions on one socket', async () => {
    const { server, port } = await echoServer({ maxHandshakesPerAddress: 2000, maxHandshakes: 2000 });
    const n = 1000;
    const sessions: UdpSession[] = [];
    // Handshakes in waves of 100 (a burst of 1,000 Hellos overflows socket buffers and then waits
    // on retransmission); all 1,000 sessions are open at once afterwards.
    for (let wave = 0; wave < n / 100; wave++) {
      const opened = await Promise.all(
        Array.from({ length: 100 }, () => connect({ transport: 'udp', port, serverKey: serverKey.publicKey, key: clientKey, handshakeTimeout: 30_000 })),
      );
      sessions.push(...opened);
    }
    expect(server.connections).toBe(n);
    const replies = await Promise.all(sessions.map((s, i) => echoed(s, `message ${i}`)));
    replies.forEach((r, i) => expect(r).toBe(`message ${i}`));
    for (const s of sessions) s.close();
  }, 60_000);
});

