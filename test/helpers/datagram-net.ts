/**
 * An in-memory datagram network for the sans-I/O UDP core: one `DatagramServer` and any number of
 * client `DatagramSession`s, simulated time, and a hook that sees every datagram in flight and
 * returns what to deliver instead (nothing, altered bytes, duplicates, held-back ones later).
 *
 * It records every server `receive` with the size of what came in, whether it authenticated, and
 * what the server sent back in that same step, so tests can check the amplification rule on
 * every reply.
 */
import { DatagramServer, type DatagramServerOptions, type EndpointEvent, type PeerAddress } from '../../src/session/datagram-server.js';
import { DatagramSession, type DatagramEvent } from '../../src/session/datagram-session.js';
import type { DatagramProfile, Handshake } from '../../src/session/handshake.js';

export type Origin = 'client' | 'server';

export interface InFlight {
  readonly from: Origin;
  /** The client this datagram goes to or comes from. */
  readonly client: number;
  readonly data: Uint8Array;
}

/** Returns what to deliver instead of `d`: [] drops it. */
export type Hook = (d: InFlight) => Uint8Array[];

export interface ServerStep {
  readonly from: PeerAddress;
  readonly inSize: number;
  /** The datagram reached a session and authenticated there (a record, or the completing handshake message). */
  readonly authenticated: boolean;
  readonly replies: number[];
}

export interface NetClient {
  readonly session: DatagramSession;
  address: PeerAddress;
  readonly events: DatagramEvent[];
  readonly messages: string[];
}

export class DatagramNet {
  readonly server: DatagramServer;
  readonly clients: NetClient[] = [];
  readonly serverEvents: EndpointEvent[] = [];
  readonly serverSteps: ServerStep[] = [];
  /** Messages each server-side session received, by connection id (hex). */
  readonly serverMessages = new Map<string, string[]>();
  hook: Hook | undefined;
  now = 0;
  private queue: { to: 'server' | number; from: PeerAddress | number; data: Uint8Array }[] = [];

  constructor(options: DatagramServerOptions, hook?: Hook) {
    this.server = new DatagramServer(options);
    this.hook = hook;
  }

  /** Adds a client at `address` (default 10.0.0.<n>:5000) and starts its handshake. */
  addClient(handshake: Handshake, connectionId: Uint8Array, address?: PeerAddress, options: { handshakeTimeoutMs?: number; idleTimeoutMs?: number; keepaliveMs?: number; profile?: DatagramProfile } = {}): NetClient {
    const n = this.clients.length;
    const session = new DatagramSession(handshake, { now: this.now, connectionId, ...options });
    const c: NetClient = { session, address: address ?? { address: `10.0.${n >> 8}.${n & 255}`, port: 5000 }, events: [], messages: [] };
    this.clients.push(c);
    session.start(this.now);
    this.collectClient(n);
    return c;
  }

  /** Injects a raw datagram toward the server from `from` (an attacker, or a replay). */
  inject(data: Uint8Array, from: PeerAddress): void {
    this.queue.push({ to: 'server', from, data });
  }

  /** Delivers everything queued (and what that causes) until the network is quiet. */
  deliver(): this {
    for (let guard = 0; guard < 1_000_000 && this.queue.length; guard++) {
      const item = this.queue.shift()!;
      if (item.to === 'server') this.toServer(item.data, item.from as PeerAddress);
      else {
        const c = this.clients[item.to]!;
        c.session.receive(item.data, this.now);
        this.collectClient(item.to);
      }
    }
    return this;
  }

  /** Advances simulated time in `stepMs` steps up to `ms`, running timers and delivering. */
  advance(ms: number, stepMs = 10): this {
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + stepMs);
      for (let i = 0; i < this.clients.length; i++) {
        this.clients[i]!.session.handleTimeout(this.now);
        this.collectClient(i);
      }
      this.server.handleTimeout(this.now);
      this.collectServer(null);
      this.deliver();
    }
    return this;
  }

  /** Runs time forward until `done()` or `maxMs` has passed. Returns whether `done()` became true. */
  runUntil(done: () => boolean, maxMs = 30_000): boolean {
    this.deliver();
    const end = this.now + maxMs;
    while (!done() && this.now < end) this.advance(10);
    return done();
  }

  /** Sends a message from client `i` (through the hook). */
  clientSend(i: number, text: string | Uint8Array): void {
    this.clients[i]!.session.send(typeof text === 'string' ? Buffer.from(text) : text, this.now);
    this.collectClient(i);
  }

  messagesAt(c: NetClient): string[] {
    return this.serverMessages.get(Buffer.from(c.session.connectionId).toString('hex')) ?? [];
  }

  private toServer(data: Uint8Array, from: PeerAddress): void {
    this.server.receive(data, from, this.now);
    this.collectServer({ from, inSize: data.length, authenticated: this.server.lastResult === 'authenticated' });
  }

  private collectServer(step: { from: PeerAddress; inSize: number; authenticated: boolean } | null): void {
    const replies: number[] = [];
    for (const o of this.server.takeOutput()) {
      const idx = this.clients.findIndex((c) => c.address.address === o.to.address && c.address.port === o.to.port);
      replies.push(o.data.length);
      if (idx < 0) continue; // to an attacker's address: nobody listens
      for (const d of this.hooked({ from: 'server', client: idx, data: o.data })) this.queue.push({ to: idx, from: -1, data: d });
    }
    if (step) this.serverSteps.push({ ...step, replies });
    for (const ev of this.server.takeEvents()) {
      this.serverEvents.push(ev);
      if (ev.type === 'sessionEvent' && ev.event.type === 'message') {
        const id = Buffer.from(ev.entry.session.connectionId).toString('hex');
        const list = this.serverMessages.get(id) ?? [];
        list.push(Buffer.from(ev.event.data).toString());
        this.serverMessages.set(id, list);
      }
    }
  }

  private collectClient(i: number): void {
    const c = this.clients[i]!;
    for (const d of c.session.takeOutput()) {
      for (const x of this.hooked({ from: 'client', client: i, data: d })) this.queue.push({ to: 'server', from: c.address, data: x });
    }
    for (const ev of c.session.takeEvents()) {
      c.events.push(ev);
      if (ev.type === 'message') c.messages.push(Buffer.from(ev.data).toString());
    }
  }

  private hooked(d: InFlight): Uint8Array[] {
    return this.hook ? this.hook(d) : [d.data];
  }
}
