/**
 * Hostile handshakes against every RSA suite over loopback TCP: a malformed RSA ciphertext, an
 * RSA block of the wrong size, and a peer key below 2048 bits. Each ends only its own session
 * with a `SealwireError` (reported as `handshakeError`), the server keeps serving a good client
 * on the side, and the hostile peer observes the same thing in every case: its connection closes
 * and not one byte comes back after its bad message. A client handed a weak server key refuses it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { connect, createServer, SealwireError, type SealwireServer } from '../../src/index.js';
import { encodeFrame, StreamDeframer } from '../../src/record/frame.js';
import { Writer } from '../../src/wire/writer.js';
import type { SuiteName } from '../../src/session/handshake.js';
import { RecyclingKeyPoolForTestingOnly } from '../../src/keys/rsa-pool.js';
import { testKey } from '../helpers/fixtures.js';
import { collect, withTimeout } from '../helpers/streams.js';
import { getSuite } from '../../src/suites/index.js';
import { systemRng } from '../../src/crypto/random.js';
import { encodeServerKey } from '../../src/suites/cbcmac/messages.js';

const weakSpki = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' });

interface Hostile {
  readonly name: string;
  /** The steps to play, given the server's and a valid client's public key (SPKI DER). */
  readonly script: (serverKeySpki: Buffer, clientKeySpki: Buffer) => Step[];
  readonly code: SealwireError['code'];
}

/** Send these frames, then (if `await` is set) wait for that many frames from the server. */
interface Step {
  readonly send: Buffer[];
  readonly await?: number;
}

const vec16 = (b: Uint8Array): Buffer => new Writer(2 + b.length).vec16(b).finish();

const HOSTILE: Record<Exclude<SuiteName, 'box'>, Hostile[]> = {
  secsess: [
    { name: 'malformed RSA ciphertext', code: 'HANDSHAKE_FAILED', script: () => [{ send: [encodeFrame(0x01, randomBytes(256))] }] },
    { name: 'RSA block of the wrong size', code: 'HANDSHAKE_FAILED', script: () => [{ send: [encodeFrame(0x01, randomBytes(128))] }] },
  ],
  ccm: [
    {
      name: 'malformed RSA ciphertext',
      code: 'HANDSHAKE_FAILED',
      script: (_s, c) => [{ send: [encodeFrame(0x01, Buffer.concat([vec16(c), randomBytes(256)]))] }],
    },
    {
      name: 'RSA block of the wrong size',
      code: 'HANDSHAKE_FAILED',
      script: (_s, c) => [{ send: [encodeFrame(0x01, Buffer.concat([vec16(c), randomBytes(255)]))] }],
    },
    {
      name: 'client key of 1024 bits',
      code: 'BAD_KEY',
      script: () => [{ send: [encodeFrame(0x01, Buffer.concat([vec16(weakSpki), randomBytes(256)]))] }],
    },
  ],
  sid: [
    { name: 'client key of 1024 bits', code: 'BAD_KEY', script: () => [{ send: [encodeFrame(0x00, weakSpki)] }] },
    { name: 'client key cut short (200 of 294 bytes)', code: 'BAD_KEY', script: (_s, c) => [{ send: [encodeFrame(0x00, c.subarray(0, 200))] }] },
    {
      name: 'malformed RSA ciphertext',
      code: 'HANDSHAKE_FAILED',
      script: (_s, c) => [{ send: [encodeFrame(0x00, c)], await: 1 }, { send: [encodeFrame(0x02, randomBytes(256 + 300 + 16))] }],
    },
    {
      name: 'RSA block of the wrong size',
      code: 'HANDSHAKE_FAILED',
      script: (_s, c) => [{ send: [encodeFrame(0x00, c)], await: 1 }, { send: [encodeFrame(0x02, randomBytes(100))] }],
    },
  ],
  cbcmac: [
    {
      name: 'malformed RSA ciphertext',
      code: 'HANDSHAKE_FAILED',
      script: () => [{ send: [encodeFrame(0x00, randomBytes(32))], await: 1 }, { send: [encodeFrame(0x02, randomBytes(256 + 16 + 16 + 16))] }],
    },
    {
      name: 'RSA block of the wrong size',
      code: 'HANDSHAKE_FAILED',
      script: () => [{ send: [encodeFrame(0x00, randomBytes(32))], await: 1 }, { send: [encodeFrame(0x02, randomBytes(100))] }],
    },
  ],
};

/** Runs a script on a raw socket; resolves with the bytes the server sent after the last step. */
async function runHostile(port: number, steps: Step[]): Promise<{ after: number; closed: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const deframer = new StreamDeframer();
  let frames = 0;
  let lastStepAt = -1;
  let received = 0;
  const waiters: (() => void)[] = [];
  socket.on('data', (c: Buffer) => {
    received += c.length;
    deframer.push(c);
    while (deframer.next()) frames++;
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let expected = 0;
  for (const step of steps) {
    lastStepAt = received;
    for (const f of step.send) socket.write(f);
    if (step.await) {
      expected += step.await;
      while (frames < expected) await new Promise<void>((r) => waiters.push(r));
    }
  }
  await withTimeout(closed, 10_000, 'the server did not close the hostile connection');
  return { after: received - lastStepAt, closed: true };
}

for (const [name, cases] of Object.entries(HOSTILE) as [Exclude<SuiteName, 'box'>, Hostile[]][]) {
  describe(`suite '${name}': hostile RSA input over TCP`, () => {
    let server: SealwireServer;
    let port: number;
    const errors: SealwireError[] = [];
    let serverSpki: Buffer;
    let clientSpki: Buffer;

    beforeAll(async () => {
      const [serverKey, clientKey, session] = await Promise.all([testKey('rsa', 0), testKey('rsa', 2), testKey('rsa', 10)]);
      serverSpki = serverKey.publicKey.bytes;
      clientSpki = clientKey.publicKey.bytes;
      server = createServer(
        { key: serverKey, suite: name, anyClient: true, openServerForTestingOnly: () => ({ resources: new RecyclingKeyPoolForTestingOnly([session]), close: () => {} }) },
        (s) => s.pipe(s),
      );
      server.on('handshakeError', (e: SealwireError) => errors.push(e));
      ({ port } = await server.listen(0, '127.0.0.1'));
    });
    afterAll(() => server?.close());

    it.each(cases.map((c) => [c.name, c] as const))('%s ends only its own session, silently toward the peer', async (_n, c) => {
      const before = errors.length;
      const result = await runHostile(port, c.script(serverSpki, clientSpki));
      expect(result.closed).toBe(true);
      expect(result.after).toBe(0); // nothing that would tell this failure from another
      await withTimeout(
        (async () => {
          while (errors.length === before) await new Promise((r) => setTimeout(r, 5));
        })(),
        5_000,
        'no handshakeError',
      );
      const err = errors[before]!;
      expect(err).toBeInstanceOf(SealwireError);
      expect(err.code).toBe(c.code);
      // The server still serves a good client.
      const clientKey = getSuite(name).clientKeys === 'required' ? await testKey('rsa', 2) : undefined;
      const session = await connect({ port, suite: name, serverKey: (await testKey('rsa', 0)).publicKey, key: clientKey });
      const echoed = collect(session);
      session.end('still serving');
      expect((await echoed).toString()).toBe('still serving');
    });

    it('a client refuses a server key below 2048 bits with BAD_KEY', async () => {
      const suite = getSuite(name);
      const key = suite.clientKeys === 'required' ? await testKey('rsa', 2) : null;
      const good = (await testKey('rsa', 0)).publicKey.bytes;
      const weakMessages: { type: number; payload: Uint8Array }[] =
        name === 'cbcmac'
          ? [
              { type: 0x01, payload: encodeServerKey({ serverKey: weakSpki, sessionKey: good, signature: randomBytes(256) }) },
              { type: 0x01, payload: encodeServerKey({ serverKey: good, sessionKey: weakSpki, signature: randomBytes(256) }) },
            ]
          : [{ type: name === 'sid' ? 0x01 : 0x06, payload: weakSpki }];
      for (const m of weakMessages) {
        const client = suite.client({ key, server: { kind: 'learn', verify: () => {} }, rng: systemRng });
        client.start();
        let thrown: unknown;
        try {
          client.receive(m);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(SealwireError);
        expect((thrown as SealwireError).code).toBe('BAD_KEY');
        expect((thrown as SealwireError).message).toMatch(/1024 bits/);
      }
    });
  });
}
