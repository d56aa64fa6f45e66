/**
 * Every server of a suite that authenticates clients (box, sid, ccm) names its client policy:
 * `authorizedKeys`, `authorize` or `anyClient: true`. Without one, `createServer` (TCP and UDP)
 * throws `INVALID_ARGUMENT`; with `anyClient: true` any client key gets in, with a list only the
 * listed ones.
 */
import { describe, expect, it } from 'vitest';
import { createServer, connect, type SecureSession, type UdpSession } from '../../src/index.js';
import { SealwireError } from '../../src/errors.js';
import { thrown } from '../helpers/errors.js';
import { generateKeyPair } from '../../src/keys/key.js';
import { testKey } from '../helpers/fixtures.js';


describe('client policy', () => {
  it.each(['box', 'sid', 'ccm'] as const)('%s: createServer over TCP refuses a server without one, naming the three options', async (suite) => {
    const key = suite === 'box' ? generateKeyPair('x25519') : await testKey('rsa', 0);
    const e = thrown(() => createServer({ key, suite }, () => {}));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/authorizedKeys.*authorize.*anyClient/);
  });

  it.each(['box', 'sid'] as const)('%s: createServer over UDP refuses a server without one', async (suite) => {
    const key = suite === 'box' ? generateKeyPair('x25519') : await testKey('rsa', 0);
    const e = thrown(() => createServer({ transport: 'udp', key, suite }, () => {}));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/authorizedKeys.*authorize.*anyClient/);
  });

  it('anyClient: true admits an unlisted key; a list beside it still decides', async () => {
    const serverKey = generateKeyPair('x25519');
    const alice = generateKeyPair('x25519');
    const mallory = generateKeyPair('x25519');
    const open = createServer({ key: serverKey, anyClient: true }, (s: SecureSession) => s.pipe(s));
    const listed = createServer({ key: serverKey, anyClient: true, authorizedKeys: [alice.publicKey] }, (s: SecureSession) => s.pipe(s));
    try {
      const a = await open.listen(0, '127.0.0.1');
      const b = await listed.listen(0, '127.0.0.1');
      const session = await connect({ port: a.port, key: mallory, serverKey: serverKey.publicKey });
      expect(session.fingerprint).toBe(serverKey.publicKey.fingerprint);
      session.end();
      await expect(connect({ port: b.port, key: mallory, serverKey: serverKey.publicKey, handshakeTimeout: 5000 })).rejects.toBeInstanceOf(SealwireError);
      const ok = await connect({ port: b.port, key: alice, serverKey: serverKey.publicKey });
      ok.end();
    } finally {
      await Promise.all([open.close(), listed.close()]);
    }
  });

  it('anyClient: true works over UDP', async () => {
    const serverKey = generateKeyPair('x25519');
    const server = createServer({ transport: 'udp', key: serverKey, anyClient: true }, (s: UdpSession) => s.on('message', (m: Buffer) => s.send(m)));
    try {
      const { port } = await server.listen(0, '127.0.0.1');
      const session = await connect({ transport: 'udp', port, key: generateKeyPair('x25519'), serverKey: serverKey.publicKey });
      const echoed = new Promise<Buffer>((resolve) => session.once('message', resolve));
      session.send('hi');
      expect((await echoed).toString()).toBe('hi');
      session.close();
    } finally {
      await server.close();
    }
  });
});
