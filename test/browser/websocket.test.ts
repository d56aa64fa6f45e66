/**
 * The WebSocket transport on loopback: Node's client (`connectWebSocket` over `ws`) and the
 * browser's session API (src/browser/session.ts, run in Node with `ws`'s browser-compatible
 * WebSocket class) against `SealwireWebSocketServer`. Same limits and bad-input handling as TCP:
 * wrong pinned key, text messages, oversize messages, garbage, the handshake deadline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { generateKeyPair } from '../../src/keys/key.js';
import { SealwireWebSocketServer, connectWebSocket as connectNode } from '../../src/transport/websocket.js';
import { connectWebSocket as connectBrowser, type WebSocketConstructor } from '../../src/browser/session.js';
import { MAX_WEBSOCKET_MESSAGE } from '../../src/browser/websocket-mapping.js';
import type { SealwireError } from '../../src/errors.js';
import type { SecureSession } from '../../src/transport/secure-session.js';

const serverKey = generateKeyPair('x25519');
const servers: SealwireWebSocketServer[] = [];

async function echoServer(opts: { handshakeTimeout?: number } = {}): Promise<{ url: string; server: SealwireWebSocketServer; errors: SealwireError[] }> {
  const server = new SealwireWebSocketServer({ key: serverKey, anyClient: true, path: '/s', ...opts }, (s) => s.pipe(s));
  const errors: SealwireError[] = [];
  server.on('handshakeError', (e: SealwireError) => errors.push(e));
  server.on('sessionError', (e: SealwireError) => errors.push(e));
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { url: `ws://127.0.0.1:${port}/s`, server, errors };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const until = async (cond: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

async function readAll(s: SecureSession, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const c of s) {
    chunks.push(c as Buffer);
    got += (c as Buffer).length;
    if (got >= bytes) break;
  }
  return Buffer.concat(chunks);
}

describe('WebSocket transport: Node client', () => {
  it('runs a box session: verified fingerprint, echo', async () => {
    const { url } = await echoServer();
    const s = await connectNode(url, { serverKey: serverKey.publicKey });
    expect(s.fingerprint).toBe(serverKey.publicKey.fingerprint);
    s.write('hello over websocket');
    expect((await readAll(s, 20)).toString()).toBe('hello over websocket');
    s.destroy();
  });

  it('carries 4 MiB with backpressure: writes that return false still all arrive', async () => {
    const { url } = await echoServer();
    const s = await connectNode(url, { serverKey: serverKey.publicKey });
    const data = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32BE(i, i);
    const received = readAll(s, data.length);
    let sawBackpressure = false;
    for (let off = 0; off < data.length; off += 64 * 1024) {
      if (!s.write(data.subarray(off, off + 64 * 1024))) {
        sawBackpressure = true;
        await new Promise((r) => s.once('drain', r));
      }
    }
    expect(sawBackpressure).toBe(true);
    expect((await received).equals(data)).toBe(true);
    s.destroy();
  });

  it('refuses a server that does not hold the pinned key', async () => {
    const { url } = await echoServer();
    await expect(connectNode(url, { serverKey: generateKeyPair('x25519').publicKey })).rejects.toMatchObject({ code: 'HANDSHAKE_FAILED' });
  });

  it('refuses upgrades on another path', async () => {
    const { url } = await echoServer();
    await expect(connectNode(url.replace('/s', '/other'), { serverKey: serverKey.publicKey })).rejects.toMatchObject({ code: 'IO' });
  });
});

describe('WebSocket transport: the browser session API (in Node, sodium-native backend)', () => {
  const WS = WebSocket as unknown as WebSocketConstructor;

  it('sends, receives, iterates and closes cleanly', async () => {
    const { url } = await echoServer();
    const s = await connectBrowser(url, { serverKey: serverKey.publicKey.toString(), WebSocket: WS });
    expect(s.fingerprint).toBe(serverKey.publicKey.fingerprint);
    await s.send('ping ');
    await s.send(new Uint8Array([0x70, 0x6f, 0x6e, 0x67]));
    let got = '';
    for await (const d of s) {
      got += Buffer.from(d).toString();
      if (got.length >= 9) break;
    }
    expect(got).toBe('ping pong');
    s.close();
    expect(await s.closed).toBeNull();
    await expect(s.send('late')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('rejects a wrong pinned key and a malformed one', async () => {
    const { url } = await echoServer();
    await expect(connectBrowser(url, { serverKey: generateKeyPair('x25519').publicKey.bytes, WebSocket: WS })).rejects.toMatchObject({ code: 'HANDSHAKE_FAILED' });
    expect(() => connectBrowser(url, { serverKey: 'sealwire-x25519 not-base64!', WebSocket: WS })).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
  });

  it('times out a server that never answers', async () => {
    const wss = new (await import('ws')).WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    const t0 = Date.now();
    await expect(connectBrowser(`ws://127.0.0.1:${port}/`, { serverKey: serverKey.publicKey, WebSocket: WS, handshakeTimeout: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(5_000);
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });
});

describe('WebSocket transport: bad input reaches the server as it would over TCP', () => {
  const raw = async (url: string): Promise<WebSocket> => {
    const ws = new WebSocket(url);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    return ws;
  };
  const closeCode = (ws: WebSocket): Promise<number> => new Promise((r) => ws.once('close', (code) => r(code)));

  it('a text message ends the connection', async () => {
    const { url, errors } = await echoServer();
    const ws = await raw(url);
    const closed = closeCode(ws);
    ws.send('{"hello":1}');
    await closed;
    await until(() => errors.length === 1);
    expect(errors[0]!.message).toMatch(/text WebSocket message/);
  });

  it('a message above the largest frame is refused before it is buffered (close 1009)', async () => {
    const { url } = await echoServer();
    const ws = await raw(url);
    const closed = closeCode(ws);
    ws.send(Buffer.alloc(MAX_WEBSOCKET_MESSAGE + 1));
    expect(await closed).toBe(1009);
  });

  it('garbage bytes fail the handshake, and a silent client hits the deadline', async () => {
    const { url, errors, server } = await echoServer({ handshakeTimeout: 300 });
    const garbage = await raw(url);
    garbage.send(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    const silent = await raw(url);
    await until(() => errors.length === 2);
    expect(errors.map((e) => e.code).sort()).toEqual(['TIMEOUT', 'TOO_LARGE']); // 'GET ' read as a length: refused from 4 bytes
    await until(() => server.connections === 0);
    garbage.terminate();
    silent.terminate();
  });
});
