import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect, createServer, generateKeyPair } from '../../src/index.js';

describe('tcp smoke', () => {
  it('echoes 4 MiB', async () => {
    const key = generateKeyPair('x25519');
    const server = createServer({ key, anyClient: true }, (s) => s.pipe(s));
    const { port } = await server.listen(0, '127.0.0.1');
    const session = await connect({ port, serverKey: key.publicKey });
    const data = randomBytes(4 * 1024 * 1024);
    const chunks: Buffer[] = [];
    session.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => session.on('end', r));
    session.end(data);
    await ended;
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    await server.close();
  });
});
