/**
 * The server half of every benchmark, run by the host (server-host.ts, a child process) so that
 * the servers do not share an event loop with the clients that load them. Every implementation
 * gets the same treatment: the same modes, the same Nagle setting (off, as sealwire sets it), the
 * same counters, and errors from peers that hang up abruptly are swallowed alike.
 */
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import dgram from 'node:dgram';
import type { Duplex } from 'node:stream';
import { createServer } from '../index.js';
import { KeyPair } from '../keys/key.js';
import { parseKey } from '../keys/files.js';
import { sealwireImpl } from './protocol.js';
import type { Counters, HostRequest, MemorySample, ServerMaterial, Started, TcpImpl, TcpMode, UdpImpl } from './protocol.js';

const HOST = '127.0.0.1';
const ACK = Buffer.from([0x61]);

/** TLS 1.3 only, AES-128-GCM (the cipher the issue names for the baseline). */
export const TLS_CIPHER = 'TLS_AES_128_GCM_SHA256';

interface Running {
  readonly counters: { live: number; sessions: number; messages: number; bytes: number };
  close(): Promise<void>;
}

/** Minimal shape of a sealwire UDP server, as the UDP transport (branch `udp`) provides it. */
interface UdpServerLike {
  listen(port?: number, host?: string): Promise<unknown> | unknown;
  address(): AddressInfo | null;
  close(): Promise<void> | void;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

interface UdpSessionLike {
  on(event: 'message', listener: (message: Buffer) => void): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

const running = new Map<number, Running>();
let nextId = 1;

/** Handles one request from the client side; the result is JSON-serialisable. */
export async function handleRequest(req: HostRequest): Promise<unknown> {
  switch (req.cmd) {
    case 'startTcp':
      return register(await startTcp(req.impl, req.mode, req.material, req.ackEvery ?? 1 << 20));
    case 'startUdp':
      return register(await startUdp(req.impl, req.material));
    case 'stop': {
      const r = running.get(req.id);
      running.delete(req.id);
      await r?.close();
      return null;
    }
    case 'counters': {
      const r = running.get(req.id);
      if (!r) throw new Error(`no server ${req.id}`);
      return { ...r.counters } satisfies Counters;
    }
    case 'memory':
      return sampleMemory();
    case 'cpu':
      return process.cpuUsage();
    case 'exit':
      await Promise.all([...running.values()].map((r) => r.close()));
      running.clear();
      return null;
  }
}

/** Memory after a full GC (when the process has `--expose-gc`). */
export function sampleMemory(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, gc: gc !== undefined };
}

function register(r: Running & { port: number }): Started {
  const id = nextId++;
  running.set(id, r);
  return { id, port: r.port };
}

function sealwireKey(material: ServerMaterial): KeyPair {
  if (!material.sealwireKey) throw new Error('no sealwire server key given');
  const k = parseKey(material.sealwireKey, 'bench server key');
  if (!(k instanceof KeyPair)) throw new Error('bench server key is not a private key');
  return k;
}

function newCounters(): Running['counters'] {
  return { live: 0, sessions: 0, messages: 0, bytes: 0 };
}

/** Attaches the figure's behaviour to one established connection. */
function serveConnection(stream: Duplex, mode: TcpMode, ackEvery: number, counters: Running['counters']): void {
  counters.live++;
  counters.sessions++;
  stream.on('error', () => {});
  stream.once('close', () => counters.live--);
  switch (mode) {
    case 'echo':
      stream.pipe(stream);
      return;
    case 'sink': {
      let sinceAck = 0;
      stream.on('data', (chunk: Buffer) => {
        counters.bytes += chunk.length;
        sinceAck += chunk.length;
        while (sinceAck >= ackEvery) {
          sinceAck -= ackEvery;
          stream.write(ACK);
        }
      });
      stream.on('end', () => stream.end());
      return;
    }
    case 'accept':
      stream.on('end', () => stream.end());
      stream.resume();
      return;
  }
}

function listenNet(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes a node server and destroys what is still connected. */
function closeNet(server: net.Server, sockets: Set<Duplex>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function startTcp(impl: TcpImpl, mode: TcpMode, material: ServerMaterial, ackEvery: number): Promise<Running & { port: number }> {
  const counters = newCounters();
  if (impl === 'net' || impl === 'tls') {
    const sockets = new Set<Duplex>();
    const track = (s: Duplex): void => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    };
    let server: net.Server;
    if (impl === 'net') {
      server = net.createServer({ noDelay: true }, (socket) => {
        track(socket);
        serveConnection(socket, mode, ackEvery, counters);
      });
    } else {
      if (!material.tls) throw new Error('no TLS certificate given');
      const t = tls.createServer({ key: material.tls.key, cert: material.tls.cert, minVersion: 'TLSv1.3', ciphers: TLS_CIPHER }, (socket) => {
        socket.setNoDelay(true);
        serveConnection(socket, mode, ackEvery, counters);
      });
      // Count the raw socket too, so close() can destroy handshakes in progress.
      t.on('connection', (raw: net.Socket) => {
        track(raw);
        raw.on('error', () => {});
      });
      t.on('tlsClientError', () => {});
      server = t;
    }
    server.on('error', () => {});
    const port = await listenNet(server);
    return { port, counters, close: () => closeNet(server, sockets) };
  }
  const server = createServer({ key: sealwireKey(material), ...sealwireImpl(impl), anyClient: true }, (session) => serveConnection(session, mode, ackEvery, counters));
  server.on('handshakeError', () => {});
  server.on('sessionError', () => {});
  server.on('error', () => {});
  const { port } = await server.listen(0, HOST);
  return { port, counters, close: () => server.close() };
}

async function startUdp(impl: UdpImpl, material: ServerMaterial): Promise<Running & { port: number }> {
  const counters = newCounters();
  if (impl === 'dgram') {
    const socket = dgram.createSocket('udp4');
    socket.on('message', () => {
      counters.messages++;
    });
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, HOST, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const port = socket.address().port;
    return { port, counters, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
  }
  const server = createServer({ key: sealwireKey(material), ...sealwireImpl(impl), anyClient: true, transport: 'udp' }) as unknown as UdpServerLike;
  server.on('session', ((session: UdpSessionLike) => {
    counters.live++;
    counters.sessions++;
    session.on('message', () => {
      counters.messages++;
    });
    session.on('error', () => {});
    session.on('close', () => counters.live--);
  }) as (...args: never[]) => void);
  for (const ev of ['handshakeError', 'sessionError', 'error']) server.on(ev, () => {});
  const listened = await server.listen(0, HOST);
  const port = (listened as AddressInfo | undefined)?.port ?? server.address()?.port;
  if (!port) throw new Error('the UDP server did not report its port');
  return { port, counters, close: async () => void (await server.close()) };
}
