/**
 * The message channel the chat logic talks through, whatever the transport: `send(message)`, a
 * `'message'` event per message received, `close()` and a `'close'` event. Two adapters:
 *
 * - `streamChannel` over a TCP session (a `Duplex`): each message is one length-prefixed frame
 *   (record/frame.ts, frame type 0x01), its length checked before it is buffered. TCP already
 *   delivers everything once and in order.
 * - `reliableChannel` over a UDP message session: datagrams may be lost, reordered or duplicated,
 *   so reliable.ts adds sequence numbers, acknowledgements, retransmission with backoff,
 *   de-duplication and in-order delivery on top.
 *
 * A channel never throws at its caller for what the peer did: failures end the channel and arrive
 * as the `'close'` event's error.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { SealwireError, asSealwireError } from '../errors.js';
import type { PublicKey } from '../keys/key.js';
import { StreamDeframer, encodeFrame } from '../record/frame.js';
import { ReliableCore, type ReliableOptions } from './reliable.js';
import { MAX_CHANNEL_MESSAGE } from './protocol.js';

const CHAT_FRAME = 0x01;
/** Bytes a peer may leave unread on a TCP channel before it is dropped as too slow (default;
 * the chat server passes its own, smaller `maxBufferedBytes` limit). */
export const MAX_BACKLOG = 4 * 1024 * 1024;

export interface MessageChannel {
  /** Queues one message for delivery. Ignored once the channel is closing or closed. */
  send(message: Uint8Array): void;
  /** Ends the channel after what was sent has been delivered (or the transport gave up). */
  close(): void;
  /** Ends the channel now. */
  destroy(error?: SealwireError): void;
  readonly peerPublicKey: PublicKey | null;
  /** `address:port` of the peer, for logs. */
  readonly remote: string;
  readonly closed: boolean;
  on(event: 'message', listener: (message: Buffer) => void): this;
  on(event: 'close', listener: (error: SealwireError | null) => void): this;
  once(event: 'close', listener: (error: SealwireError | null) => void): this;
}

/** What a TCP session gives: a `Duplex` with the verified peer key. */
export type StreamSessionLike = Duplex & {
  readonly peerPublicKey: PublicKey | null;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
};

class StreamChannel extends EventEmitter implements MessageChannel {
  private readonly deframer = new StreamDeframer(MAX_CHANNEL_MESSAGE + 1);
  private error: SealwireError | null = null;
  private isClosed = false;

  constructor(
    private readonly session: StreamSessionLike,
    private readonly maxBacklog: number,
  ) {
    super();
    session.on('data', (chunk: Buffer) => this.onData(chunk));
    session.on('end', () => {
      if (!session.writableEnded) session.end();
    });
    session.on('error', (e: unknown) => {
      this.error ??= asSealwireError(e, 'IO', 'chat session');
    });
    session.on('close', () => {
      this.isClosed = true;
      this.emit('close', this.error);
    });
  }

  get peerPublicKey(): PublicKey | null {
    return this.session.peerPublicKey;
  }

  get remote(): string {
    return `${this.session.remoteAddress ?? '?'}:${this.session.remotePort ?? '?'}`;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  send(message: Uint8Array): void {
    if (this.isClosed || this.session.writableEnded || this.session.destroyed) return;
    if (this.session.writableLength > this.maxBacklog) {
      this.destroy(new SealwireError('LIMIT', `peer ${this.remote} is not reading (over ${this.maxBacklog} bytes queued)`));
      return;
    }
    this.session.write(encodeFrame(CHAT_FRAME, message));
  }

  close(): void {
    if (!this.session.writableEnded && !this.session.destroyed) this.session.end();
  }

  destroy(error?: SealwireError): void {
    if (error) this.error ??= error;
    this.session.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    this.deframer.push(chunk);
    try {
      for (let f = this.deframer.next(); f; f = this.deframer.next()) {
        if (f.type !== CHAT_FRAME) throw new SealwireError('BAD_RECORD', `chat frame of unknown type 0x${f.type.toString(16)}`);
        this.emit('message', Buffer.from(f.payload));
        if (this.session.destroyed) return;
      }
    } catch (e) {
      this.destroy(asSealwireError(e, 'BAD_RECORD', 'chat frame'));
    }
  }
}

/** A chat channel over a TCP sealwire session; `maxBacklog` bytes unread by the peer drop it. */
export function streamChannel(session: StreamSessionLike, maxBacklog = MAX_BACKLOG): MessageChannel {
  return new StreamChannel(session, maxBacklog);
}

/** What a UDP session gives: whole messages that may be lost, reordered or duplicated. */
export interface DatagramSessionLike {
  send(message: Uint8Array): unknown;
  close(): unknown;
  readonly peerPublicKey: PublicKey | null;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  on(event: 'message', listener: (message: Buffer) => void): unknown;
  on(event: 'close', listener: (...args: unknown[]) => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
}

export interface ReliableChannelOptions extends ReliableOptions {
  /** Monotonic milliseconds (default `performance.now`). */
  clock?: () => number;
}

class ReliableChannel extends EventEmitter implements MessageChannel {
  readonly core: ReliableCore;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private closing = false;
  private isClosed = false;
  private error: SealwireError | null = null;

  constructor(
    private readonly session: DatagramSessionLike,
    options: ReliableChannelOptions = {},
  ) {
    super();
    this.core = new ReliableCore({ maxPayload: MAX_CHANNEL_MESSAGE, ...options });
    this.clock = options.clock ?? (() => performance.now());
    session.on('message', (d: Buffer) => this.onDatagram(d));
    session.on('error', (e: unknown) => {
      this.error ??= asSealwireError(e, 'IO', 'chat session');
    });
    session.on('close', () => this.finish());
  }

  get peerPublicKey(): PublicKey | null {
    return this.session.peerPublicKey;
  }

  get remote(): string {
    return `${this.session.remoteAddress ?? '?'}:${this.session.remotePort ?? '?'}`;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  send(message: Uint8Array): void {
    if (this.isClosed || this.closing) return;
    try {
      this.core.send(message, this.clock());
    } catch (e) {
      this.destroy(asSealwireError(e, 'LIMIT', 'chat send'));
      return;
    }
    this.scheduleFlush();
  }

  close(): void {
    if (this.isClosed) return;
    this.closing = true;
    this.maybeFinishClose();
  }

  destroy(error?: SealwireError): void {
    if (this.isClosed) return;
    if (error) this.error ??= error;
    try {
      this.session.close();
    } catch {
      // already closed
    }
    this.finish();
  }

  private onDatagram(d: Buffer): void {
    if (this.isClosed) return;
    let delivered: Uint8Array[];
    try {
      delivered = this.core.receive(d, this.clock());
    } catch (e) {
      if (this.core.error) {
        this.destroy(this.core.error);
        return;
      }
      // An authenticated but malformed chat datagram: the peer's software is broken. Close.
      this.destroy(asSealwireError(e, 'BAD_RECORD', 'chat datagram'));
      return;
    }
    for (const m of delivered) {
      if (this.isClosed) return;
      this.emit('message', Buffer.from(m));
    }
    this.scheduleFlush();
    this.maybeFinishClose();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.isClosed) return;
    for (const d of this.core.takeOutput()) {
      try {
        this.session.send(d);
      } catch (e) {
        this.destroy(asSealwireError(e, 'IO', 'chat send'));
        return;
      }
    }
    this.armTimer();
  }

  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const due = this.core.nextTimeout();
    if (due === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.core.handleTimeout(this.clock());
      if (this.core.error) {
        this.destroy(this.core.error);
        return;
      }
      this.flush();
    }, Math.max(0, due - this.clock()) + 1);
  }

  private maybeFinishClose(): void {
    if (!this.closing || this.isClosed || !this.core.idle) return;
    // Let a pending ACK go out first, then close the session.
    setImmediate(() => {
      this.flush();
      this.destroy();
    });
  }

  private finish(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.emit('close', this.error);
  }
}

/** A chat channel over a UDP sealwire session: acknowledged, retransmitted, de-duplicated, ordered. */
export function reliableChannel(session: DatagramSessionLike, options: ReliableChannelOptions = {}): MessageChannel & { readonly core: ReliableCore } {
  return new ReliableChannel(session, options);
}
