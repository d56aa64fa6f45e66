/**
 * Drives two sans-I/O stream sessions against each other in memory, with a hook that sees (and
 * may alter, drop or duplicate) every chunk in flight. No sockets, no timers: the test decides
 * when bytes move.
 */
import { StreamSession, type SessionEvent } from '../../src/session/stream-session.js';
import type { Handshake } from '../../src/session/handshake.js';

export type Side = 'client' | 'server';
/** Returns the chunks to deliver instead of `chunk` (empty to drop it). */
export type Tamper = (from: Side, chunk: Uint8Array, index: number) => Uint8Array[];

export class SessionPipe {
  readonly client: StreamSession;
  readonly server: StreamSession;
  readonly events: Record<Side, SessionEvent[]> = { client: [], server: [] };
  /** Every chunk each side put on the wire, before tampering (copies). */
  readonly wire: Record<Side, Uint8Array[]> = { client: [], server: [] };
  private counts: Record<Side, number> = { client: 0, server: 0 };

  constructor(client: Handshake, server: Handshake, private readonly tamper?: Tamper, now = 0) {
    this.client = new StreamSession(client, { now });
    this.server = new StreamSession(server, { now });
  }

  /** Starts both sides and moves bytes until nothing is left to move. */
  run(): this {
    this.server.start();
    this.client.start();
    return this.flush();
  }

  /** Moves pending output both ways until quiet. */
  flush(): this {
    for (let guard = 0; guard < 10_000; guard++) {
      const moved = this.move('client') + this.move('server');
      this.collect();
      if (moved === 0) return this;
    }
    throw new Error('pipe did not settle');
  }

  private move(from: Side): number {
    const src = from === 'client' ? this.client : this.server;
    const dst = from === 'client' ? this.server : this.client;
    const out = src.takeOutput();
    for (const chunk of out) {
      const copy = Buffer.from(chunk);
      this.wire[from].push(copy);
      const delivered = this.tamper ? this.tamper(from, Buffer.from(copy), this.counts[from]++) : [Buffer.from(copy)];
      for (const d of delivered) dst.receive(d);
    }
    return out.length;
  }

  private collect(): void {
    this.events.client.push(...this.client.takeEvents());
    this.events.server.push(...this.server.takeEvents());
  }

  /** Concatenated data events of one side. */
  received(side: Side): Buffer {
    return Buffer.concat(this.events[side].flatMap((e) => (e.type === 'data' ? [e.data] : [])));
  }

  errors(side: Side) {
    return this.events[side].flatMap((e) => (e.type === 'error' ? [e.error] : []));
  }

  secure(side: Side): boolean {
    return this.events[side].some((e) => e.type === 'secure');
  }
}
