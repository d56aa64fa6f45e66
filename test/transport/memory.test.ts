/**
 * The public API over the in-memory pair: `connect({ socket })` and `server.handleConnection()`
 * with a tamper hook in the middle, as an application would test its own protocol.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect, createServer, generateKeyPair, memoryPair, SealwireError, type ChunkTamper, type SecureSession } from '../../src/index.js';
import { collect, withTimeout } from '../helpers/streams.js';

const serverKey = generateKeyPair('x25519');
const clientKey = generateKeyPair('x25519');

function setup(tamper?: ChunkTamper) {
  const sessions: SecureSession[] = [];
  const errors: SealwireError[] = [];
  const server = createServer({ key: serverKey, anyClient: true }, (s) => {
    sessions.push(s);
    s.pipe(s);
  });
  server.on('handshakeError', (e: SealwireError) => errors.push(e));
  server.on('sessionError', (e: SealwireError) => errors.push(e));
  const [a, b] = memoryPair({ tamper });
  server.handleConnection(b);
  return { server, sessions, errors, socket: a };
}

describe('memory transport through the public API', () => {
  it('runs a session and pipes data with backpressure', async () => {
    const { socket, sessions, server } = setup();
    const session = await connect({ socket, serverKey: serverKey.publicKey, key: clientKey });
    expect(session.fingerprint).toBe(serverKey.publicKey.fingerprint);
    const data = randomBytes(3 * 1024 * 1024);
    const back = collect(session);
    session.end(data);
    expect((await back).equals(data)).toBe(true);
    expect(sessions[0]!.peerPublicKey?.equals(clientKey.publicKey)).toBe(true);
    await server.close();
  });

  it('ends only the tampered session, with a SealwireError on both sides', async () => {
    let flipped = false;
    const { socket, errors, server } = setup((from, chunk) => {
      if (from === 'a' && chunk.length > 100 && !flipped && chunk[4] === 0x10) {
        flipped = true;
        chunk[chunk.length - 1]! ^= 0x01;
      }
      return [chunk];
    });
    const session = await connect({ socket, serverKey: serverKey.publicKey, key: clientKey });
    const sessionErrors: SealwireError[] = [];
    session.on('error', (e: SealwireError) => sessionErrors.push(e));
    const closed = new Promise((resolve) => session.once('close', resolve));
    session.write(randomBytes(1000));
    await withTimeout(closed, 5_000, 'tampered session did not end');
    expect(flipped).toBe(true);
    expect(errors.some((e) => e.code === 'BAD_RECORD')).toBe(true);
    // The client learns only that its connection ended without a close record.
    expect(sessionErrors.map((e) => e.code)).toEqual(['TRUNCATED']);

    // The server still serves a fresh connection.
    const [a, b] = memoryPair();
    server.handleConnection(b);
    const ok = await connect({ socket: a, serverKey: serverKey.publicKey, key: clientKey });
    const back = collect(ok);
    ok.end('fine');
    expect((await back).toString()).toBe('fine');
    await server.close();
  });

  it('at maxHandshakes, drops the oldest handshake in progress to make room for the new connection', async () => {
    const server = createServer({ key: serverKey, anyClient: true, maxHandshakes: 2 });
    const errors: SealwireError[] = [];
    server.on('handshakeError', (e: SealwireError) => errors.push(e));
    const ends = Array.from({ length: 3 }, () => memoryPair());
    for (const [, b] of ends) server.handleConnection(b);
    await new Promise((r) => setImmediate(r));
    expect(errors.map((e) => e.code)).toEqual(['LIMIT']);
    expect(ends.map(([, b]) => b.destroyed)).toEqual([true, false, false]);
    expect(server.connections).toBe(2);
    await server.close();
    expect(server.connections).toBe(0);
  });
});
