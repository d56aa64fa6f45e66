/**
 * A UDP relay for tests, between clients and a server on loopback, that loses and reorders
 * datagrams: each datagram (handshake or data, either direction) is dropped with probability
 * `loss`; of the rest, a fraction `reorder` is held back for a few milliseconds so later ones
 * overtake it. Seeded, so a failure can be replayed. It only ever sends to 127.0.0.1.
 */
import dgram from 'node:dgram';
import { prng } from './lossy.js';

export interface RelayOptions {
  readonly serverPort: number;
  readonly loss: number;
  readonly reorder: number;
  readonly seed: number;
}

export interface Relay {
  readonly port: number;
  readonly stats: { forwarded: number; dropped: number; reordered: number };
  close(): Promise<void>;
}

export async function startLossyRelay(options: RelayOptions): Promise<Relay> {
  const random = prng(options.seed);
  const stats = { forwarded: 0, dropped: 0, reordered: 0 };
  const front = dgram.createSocket('udp4');
  const upstreams = new Map<string, dgram.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const impair = (send: () => void): void => {
    if (closed) return;
    if (random() < options.loss) {
      stats.dropped++;
      return;
    }
    stats.forwarded++;
    if (random() < options.reorder) {
      stats.reordered++;
      const t = setTimeout(() => {
        timers.delete(t);
        if (!closed) send();
      }, 2 + Math.floor(random() * 15));
      timers.add(t);
      return;
    }
    send();
  };

  front.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let up = upstreams.get(key);
    if (!up) {
      const sock = dgram.createSocket('udp4');
      sock.on('message', (reply) => impair(() => front.send(reply, rinfo.port, '127.0.0.1')));
      sock.on('error', () => {});
      sock.bind(0, '127.0.0.1');
      upstreams.set(key, sock);
      up = sock;
    }
    const target = up;
    impair(() => target.send(msg, options.serverPort, '127.0.0.1'));
  });
  front.on('error', () => {});
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  return {
    port: front.address().port,
    stats,
    close: async () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all([front, ...upstreams.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
