/**
 * Drives two sans-I/O stream sessions against each other in memory. The pipe moves whole
 * frames (it deframes each side's output), and a hook sees every frame in flight and returns what
 * to deliver instead: nothing, altered bytes, duplicates, or several frames at once. No sockets,
 * no timers: the test decides when bytes move and what time it is.
 */
import { StreamSession, type SessionEvent } from '../../src/session/stream-session.js';
import type { Handshake } from '../../src/session/handshake.js';
import type { DirectionTestingOptions } from '../../src/record/direction.js';
import { StreamDeframer } from '../../src/record/frame.js';
import type { SealwireError } from '../../src/errors.js';

export type Side = 'client' | 'server';
export const other = (s: Side): Side => (s === 'client' ? 'server' : 'client');

/** Returns what to deliver instead of `frame` (the k-th frame `from` sent): [] drops it. */
export type Tamper = (from: Side, frame: Buffer, index: number) => Uint8Array[];

export interface PipeOptions {
  tamper?: Tamper;
  now?: number;
  handshakeTimeoutMs?: number;
  testing?: DirectionTestingOptions;
}

export class SessionPipe {
  readonly client: StreamSession;
  readonly server: StreamSession;
  readonly events: Record<Side, SessionEvent[]> = { client: [], server: [] };
  /** Every frame each side put on the wire, before tampering (copies). */
  readonly wire: Record<Side, Buffer[]> = { client: [], server: [] };
  private readonly deframers: Record<Side, StreamDeframer> = { client: new StreamDeframer(), server: new StreamDeframer() };
  private readonly tamper: Tamper | undefined;
  private now: number;

  constructor(client: Handshake, server: Handshake, options: PipeOptions = {}) {
    this.tamper = options.tamper;
    this.now = options.now ?? 0;
    const opts = { now: this.now, handshakeTimeoutMs: options.handshakeTimeoutMs, testing: options.testing };
    this.client = new StreamSession(client, opts);
    this.server = new StreamSession(server, opts);
  }

  session(side: Side): StreamSession {
    return side === 'client' ? this.client : this.server;
  }

  /** Starts both sides and moves frames until nothing is left to move. */
  run(): this {
    this.server.start();
    this.client.start();
    return this.flush();
  }

  /** Moves pending output both ways until quiet. */
  flush(): this {
    for (let guard = 0; guard < 100_000; guard++) {
      const moved = this.move('client') + this.move('server');
      this.collect();
      if (moved === 0) return this;
    }
    throw new Error('pipe did not settle');
  }

  /** Delivers raw bytes to one side, as if they came from the other side's socket. */
  inject(to: Side, bytes: Uint8Array): this {
    this.session(to).receive(Buffer.from(bytes));
    this.collect();
    return this;
  }

  /** Lets time pass for both sides (handshake deadlines). */
  advance(ms: number): this {
    this.now += ms;
    this.client.handleTimeout(this.now);
    this.server.handleTimeout(this.now);
    this.collect();
    return this;
  }

  /** Both transports report end of stream (FIN), as after a closed or cut connection. */
  endBoth(): this {
    this.client.receiveEnd();
    this.server.receiveEnd();
    this.collect();
    return this;
  }

  private move(from: Side): number {
    const out = this.session(from).takeOutput();
    if (out.length === 0) return 0;
    const deframer = this.deframers[from];
    for (const chunk of out) deframer.push(Buffer.from(chunk));
    const to = this.session(other(from));
    for (let f = deframer.next(); f; f = deframer.next()) {
      const frame = Buffer.concat([f.header, f.payload]);
      const index = this.wire[from].length;
      this.wire[from].push(Buffer.from(frame));
      const delivered = this.tamper ? this.tamper(from, frame, index) : [frame];
      for (const d of delivered) to.receive(Buffer.from(d));
    }
    return out.length;
  }

  private collect(): void {
    this.events.client.push(...this.client.takeEvents());
    this.events.server.push(...this.server.takeEvents());
  }

  /** Concatenated data events of one side. */
  received(side: Side): Buffer {
    return Buffer.concat(this.events[side].flatMap((e) => (e.type === 'data' ? [Buffer.from(e.data)] : [])));
  }

  errors(side: Side): SealwireError[] {
    return this.events[side].flatMap((e) => (e.type === 'error' ? [e.error] : []));
  }

  secure(side: Side): boolean {
    return this.events[side].some((e) => e.type === 'secure');
  }

  ended(side: Side): boolean {
    return this.events[side].some((e) => e.type === 'end');
  }
}
