/**
 * `box` packet mode over UDP (seed 003's second diagram): a stateless request/reply service, for
 * protocols shaped like DNS. Thin adapter over src/suites/box/packet.ts.
 *
 *     const server = createPacketServer({ key }, (request) => request.reply(answer(request.message)));
 *     const client = await packetClient({ port, serverKey });
 *     const answer = await client.request(Buffer.from('query'));   // retried until answered
 */
import dgram from 'node:dgram';
import net, { type AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { SealwireError } from '../errors.js';
import { systemRng, type Rng } from '../crypto/random.js';
import { KeyPair, PublicKey } from '../keys/key.js';
import { BoxPacketClient, BoxPacketServer, type PacketRequest } from '../suites/box/packet.js';
import { DEFAULT_HOST } from '../options.js';

export interface PacketServerOptions {
  /** The server's X25519 key pair. */
  key: KeyPair;
  rng?: Rng;
}

/** A request as the application sees it: `reply` sends at most as many bytes as arrived. */
export interface PacketRequestEvent {
  readonly message: Buffer;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Sends the answer. Throws `TOO_LARGE` if the reply packet would be larger than the request. */
  reply(message: Uint8Array | string): void;
}

/** A packet-mode server. Events: `request` (PacketRequestEvent), `error`. */
export class PacketServer extends EventEmitter {
  private readonly socket = dgram.createSocket('udp4');
  private readonly box: BoxPacketServer;

  constructor(options: PacketServerOptions, onRequest?: (request: PacketRequestEvent) => void) {
    super();
    if (!(options?.key instanceof KeyPair)) throw new SealwireError('INVALID_ARGUMENT', "createPacketServer: 'key' must be an X25519 KeyPair");
    this.box = new BoxPacketServer(options.key, options.rng ?? systemRng);
    if (onRequest) this.on('request', onRequest);
    this.socket.on('error', (err) => this.emit('error', new SealwireError('IO', `UDP socket: ${err.message}`, { cause: err })));
    this.socket.on('message', (msg, rinfo) => {
      const req: PacketRequest | null = this.box.open(msg);
      if (!req) return; // silence toward anything that does not authenticate
      this.emit('request', {
        message: Buffer.from(req.message.buffer, req.message.byteOffset, req.message.byteLength),
        remoteAddress: rinfo.address,
        remotePort: rinfo.port,
        reply: (m: Uint8Array | string) => {
          if (rinfo.port === 0) return; // spoofed: dgram.send throws on port 0
          this.socket.send(req.reply(typeof m === 'string' ? Buffer.from(m) : m), rinfo.port, rinfo.address);
        },
      } satisfies PacketRequestEvent);
    });
  }

  listen(port = 0, host: string = DEFAULT_HOST): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, host, () => {
        this.socket.off('error', reject);
        resolve(this.socket.address());
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export function createPacketServer(options: PacketServerOptions, onRequest?: (request: PacketRequestEvent) => void): PacketServer {
  return new PacketServer(options, onRequest);
}

export interface PacketClientOptions {
  host?: string;
  port: number;
  /** The server's X25519 public key (pinned: packet mode has no key discovery). */
  serverKey: PublicKey | KeyPair;
  rng?: Rng;
  /** Milliseconds between retries of an unanswered request (default 250, doubling). */
  retryMs?: number;
  /** Milliseconds before `request` gives up with `TIMEOUT` (default 5 000). */
  timeoutMs?: number;
}

export interface PacketClient {
  /** Sends `message` and resolves with the server's answer (retrying with backoff meanwhile). */
  request(message: Uint8Array | string): Promise<Buffer>;
  /** Wipes the ephemeral key and closes the socket; pending requests fail with `CLOSED`. */
  close(): void;
}

/** A packet-mode client with one ephemeral key for its lifetime. */
export async function packetClient(options: PacketClientOptions): Promise<PacketClient> {
  const serverKey = options.serverKey instanceof KeyPair ? options.serverKey.publicKey : options.serverKey;
  if (!(serverKey instanceof PublicKey)) throw new SealwireError('INVALID_ARGUMENT', "packetClient: 'serverKey' must be a PublicKey");
  const host = options.host ?? DEFAULT_HOST;
  const box = new BoxPacketClient(serverKey, options.rng ?? systemRng);
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  socket.on('error', () => {});
  const pending = new Map<bigint, { resolve: (b: Buffer) => void; reject: (e: Error) => void; timers: NodeJS.Timeout[] }>();
  socket.on('message', (msg) => {
    const r = box.open(msg);
    if (!r) return;
    const p = pending.get(r.seq);
    if (!p) return;
    pending.delete(r.seq);
    p.timers.forEach(clearTimeout);
    p.resolve(Buffer.from(r.message.buffer, r.message.byteOffset, r.message.byteLength));
  });
  await new Promise<void>((resolve, reject) => {
    // A lookup or connect failure comes to the callback (or as 'error'): fail the call on it.
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      socket.close();
      reject(new SealwireError('IO', `cannot reach ${host}:${options.port}/udp: ${err.message}`, { cause: err }));
    };
    socket.once('error', fail);
    socket.connect(options.port, host, (err?: Error) => {
      socket.off('error', fail);
      if (err) fail(err);
      else resolve();
    });
  });
  let closed = false;
  return {
    request(message) {
      if (closed) return Promise.reject(new SealwireError('CLOSED', 'packet client is closed'));
      const { seq, packet } = box.request(typeof message === 'string' ? Buffer.from(message) : message);
      return new Promise((resolve, reject) => {
        const timers: NodeJS.Timeout[] = [];
        pending.set(seq, { resolve, reject, timers });
        let wait = options.retryMs ?? 250;
        const send = (): void => {
          socket.send(packet);
          timers[0] = setTimeout(send, wait);
          wait = Math.min(wait * 2, 2_000);
        };
        send();
        timers[1] = setTimeout(() => {
          pending.delete(seq);
          timers.forEach(clearTimeout);
          reject(new SealwireError('TIMEOUT', `no reply from ${host}:${options.port} (is a box packet-mode server running there, with this key?)`));
        }, options.timeoutMs ?? 5_000);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      for (const p of pending.values()) {
        p.timers.forEach(clearTimeout);
        p.reject(new SealwireError('CLOSED', 'packet client closed'));
      }
      pending.clear();
      box.wipe();
      socket.close();
    },
  };
}
