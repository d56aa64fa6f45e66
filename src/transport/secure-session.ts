/**
 * `SecureSession`: the sans-I/O stream session as a Node `Duplex`, over any byte stream (a TCP
 * socket, or one end of an in-memory pair).
 *
 * The adapter is thin on purpose: bytes from the socket go into the core, the core's output goes
 * to the socket, the core's events become stream events. What it adds is what only the I/O side
 * can do:
 *
 * - Backpressure both ways. A `_write` callback waits for the socket's `drain`, so the session's
 *   own `drain` is forwarded (docs/DESIGN.md §10, js-libp2p#3551); a `push()` that returns false pauses the
 *   socket until `_read`.
 * - Vectored writes: a record made of several chunks is written under one cork, and writes queued
 *   while the socket was busy are coalesced into shared records (`_writev`).
 * - Half-close: `end()` sends the close record and then FIN; the readable side stays open until the
 *   peer's close record. A FIN without it is `TRUNCATED`.
 * - The handshake deadline, with a timer that passes the time into the core.
 */
import { Duplex } from 'node:stream';
import { SealwireError, peerError } from '../errors.js';
import type { PublicKey } from '../keys/key.js';
import type { SuiteName } from '../session/handshake.js';
import type { StreamSession } from '../session/stream-session.js';
import { Socket } from 'node:net';
import { recordBuffers, type RecordBufferPool } from '../record/buffers.js';

/** Milliseconds `shutdown()` waits for the close record to flush before dropping the connection. */
export const DEFAULT_LINGER_MS = 5_000;

/** How a client came to trust the server's key. */
export type ServerTrust = 'pinned' | 'fingerprint' | 'known-host' | 'first-use';

export interface SecureSessionOptions {
  readonly suite: SuiteName;
  /** Milliseconds, the same clock the core was created with. */
  readonly clock: () => number;
  readonly trust?: ServerTrust;
}

interface AddressSource {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
}

/**
 * The session a socket belongs to. The socket's listeners are module functions shared by every
 * session (Node calls them with the socket as `this`), not five closures per session: an idle
 * session is mostly bookkeeping, and per-session closures were a tenth of it.
 */
const OWNER = Symbol('sealwire.session');
type OwnedSocket = Duplex & { [OWNER]?: SecureSession };

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[OWNER]?.socketData(chunk);
}
function onSocketEnd(this: OwnedSocket): void {
  this[OWNER]?.socketEnd();
}
function onSocketError(this: OwnedSocket, err: Error): void {
  this[OWNER]?.socketError(err);
}
function onSocketClose(this: OwnedSocket): void {
  this[OWNER]?.socketClose();
}
function onSocketDrain(this: OwnedSocket): void {
  this[OWNER]?.socketDrain();
}

/** What a real TCP socket tells the core (record/buffers.ts), one object for every session. */
const TCP_BUFFERS = { allocate: recordBuffers.allocate, receiveOwnsInput: true } as const;

let destroyed: SealwireError | undefined;
/** The error a session destroyed without a reason records (shared; it never reaches `'error'`). */
const destroyedError = (): SealwireError => (destroyed ??= new SealwireError('CLOSED', 'session destroyed'));

export class SecureSession extends Duplex {
  readonly suite: SuiteName;
  /** Client sessions: how the server's key was trusted. */
  readonly trust: ServerTrust | undefined;
  private readonly socket: Duplex;
  private readonly core: StreamSession;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private isSecure = false;
  /** Writes (or the end) waiting for the handshake to finish; null when none. */
  private waitingForSecure: (() => void)[] | null = null;
  /** A write callback waiting for the socket to drain. */
  private waitingForDrain: ((err?: Error | null) => void) | null = null;
  private socketPausedByUs = false;
  private readonly pool: RecordBufferPool | undefined = undefined;

  constructor(socket: Duplex, core: StreamSession, options: SecureSessionOptions) {
    super({ allowHalfOpen: true, decodeStrings: true });
    this.socket = socket;
    this.core = core;
    this.suite = options.suite;
    this.trust = options.trust;
    this.clock = options.clock;
    // A real TCP socket reads into fresh buffers and says when a write has left (its callback):
    // its records are sealed into pooled buffers and opened in place (record/buffers.ts). Other
    // streams (an in-memory pair hands the writer's buffer to the reader) get neither.
    if (socket instanceof Socket) {
      this.pool = recordBuffers;
      core.useTransportBuffers(TCP_BUFFERS);
    }
    (socket as OwnedSocket)[OWNER] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    socket.on('drain', onSocketDrain);
    this.core.start();
    this.pump();
    this.armTimer();
  }

  /** The peer's verified long-term key (null before `secure`, or for anonymous clients). */
  get peerPublicKey(): PublicKey | null {
    return this.core.peerPublicKey;
  }

  /** `SHA256:…` fingerprint of the peer's key, or null. */
  get fingerprint(): string | null {
    return this.core.peerPublicKey?.fingerprint ?? null;
  }

  /** True once the handshake has verified the peer. */
  get secure(): boolean {
    return this.isSecure;
  }

  get remoteAddress(): string | undefined {
    return (this.socket as AddressSource).remoteAddress;
  }

  get remotePort(): number | undefined {
    return (this.socket as AddressSource).remotePort;
  }

  get localAddress(): string | undefined {
    return (this.socket as AddressSource).localAddress;
  }

  get localPort(): number | undefined {
    return (this.socket as AddressSource).localPort;
  }

  /**
   * Ends the session politely: sends the close record, then closes the socket once it is
   * flushed, without waiting for the peer's close record. A peer that stops reading would keep
   * the close record (and the writes queued before it) from ever flushing: after `lingerMs` the
   * session is destroyed with `TIMEOUT` instead, so a shutdown always finishes.
   */
  shutdown(lingerMs: number = DEFAULT_LINGER_MS): void {
    if (this.destroyed) return;
    if (!this.isSecure) {
      this.destroy();
      return;
    }
    if (this.writableFinished) {
      this.destroy();
      return;
    }
    const linger = setTimeout(() => {
      this.destroy(new SealwireError('TIMEOUT', `close record not flushed within ${lingerMs} ms (the peer stopped reading); connection dropped`));
    }, lingerMs);
    linger.unref();
    this.once('close', () => clearTimeout(linger));
    this.once('finish', () => this.destroy());
    if (!this.writableEnded) this.end();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Once secure (every write but those queued during the handshake) no closure is made.
    if (this.isSecure) this.sendNow(chunk, callback);
    else this.whenSecure(() => this.sendNow(chunk, callback));
  }

  private sendNow(chunk: Buffer, callback: (error?: Error | null) => void): void {
    try {
      this.core.send(chunk);
    } catch (e) {
      callback(e as Error);
      return;
    }
    this.flush(callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.whenSecure(() => {
      try {
        this.core.sendMany(chunks.map((c) => c.chunk));
      } catch (e) {
        callback(e as Error);
        return;
      }
      this.flush(callback);
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.whenSecure(() => {
      try {
        this.core.end();
      } catch (e) {
        callback(e as Error);
        return;
      }
      this.writeChunks(this.core.takeOutput());
      if (this.socket.writableFinished || this.socket.destroyed) {
        callback();
        return;
      }
      // Report `finish` only once the close record is flushed: autoDestroy may destroy the socket
      // right after, and destroy() discards what is still buffered.
      this.socket.end(() => callback());
    });
  }

  override _read(): void {
    if (this.socketPausedByUs) {
      this.socketPausedByUs = false;
      this.socket.resume();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.clearTimer();
    // A plain destroy() is the common way to drop a session: it gets one shared error rather than a
    // new one per session (an Error captures a stack trace, a measurable cost per connection).
    this.core.fail(error instanceof SealwireError ? error : destroyedError());
    this.core.takeEvents();
    this.socket.off('data', onSocketData);
    this.socket.off('drain', onSocketDrain);
    this.socket.destroy();
    const drain = this.waitingForDrain;
    this.waitingForDrain = null;
    drain?.(error ?? destroyedError());
    this.waitingForSecure = null;
    callback(error);
  }

  // --- socket → core (called by the shared socket listeners above) ----------------------------

  /** @internal */
  socketData(chunk: Buffer): void {
    this.core.receive(chunk);
    this.pump();
  }

  /** @internal */
  socketEnd(): void {
    this.core.receiveEnd();
    this.pump();
  }

  /** @internal */
  socketError(err: Error): void {
    if (this.destroyed) return;
    const code = (err as NodeJS.ErrnoException).code;
    this.destroy(peerError('IO', `connection error${code ? ` (${code})` : ''}: ${err.message}`, { cause: err }));
  }

  /** @internal */
  socketClose(): void {
    if (this.destroyed) return;
    // Without the peer's close record this is truncation (or a failed handshake); after it, the
    // readable side has already ended and the stream finishes on its own once consumed.
    this.core.receiveEnd();
    this.pump();
  }

  /** @internal */
  socketDrain(): void {
    const cb = this.waitingForDrain;
    this.waitingForDrain = null;
    cb?.();
  }

  /** Moves the core's output to the socket and its events to the stream. */
  private pump(): void {
    const out = this.core.takeOutput();
    if (out.length > 0) this.writeChunks(out);
    for (const ev of this.core.takeEvents()) {
      if (this.destroyed) return;
      switch (ev.type) {
        case 'secure':
          this.clearTimer();
          this.isSecure = true;
          this.emit('secure');
          if (this.waitingForSecure) {
            const waiting = this.waitingForSecure;
            this.waitingForSecure = null;
            for (const run of waiting) run();
          }
          break;
        case 'data':
          if (!this.push(ev.data) && !this.socketPausedByUs) {
            this.socketPausedByUs = true;
            this.socket.pause();
          }
          break;
        case 'end':
          this.push(null);
          break;
        case 'error':
          this.destroy(ev.error);
          return;
      }
    }
  }

  // --- core → socket ----------------------------------------------------------------------

  private whenSecure(run: () => void): void {
    if (this.isSecure) run();
    else (this.waitingForSecure ??= []).push(run);
  }

  /** Writes the core's output; calls `callback` when the socket can take more. */
  private flush(callback: (error?: Error | null) => void): void {
    if (this.socket.destroyed || this.socket.writableEnded) {
      this.core.takeOutput();
      callback(new SealwireError('CLOSED', 'the connection is closed: data not sent'));
      return;
    }
    if (this.writeChunks(this.core.takeOutput())) callback();
    else this.waitingForDrain = callback;
  }

  private writeChunks(chunks: Uint8Array[]): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return true;
    if (chunks.length === 1) return this.writeChunk(chunks[0]!);
    this.socket.cork();
    let ok = true;
    for (const c of chunks) ok = this.writeChunk(c);
    this.socket.uncork();
    return ok;
  }

  /**
   * Writes one chunk. A pooled record buffer goes back to the pool exactly once, when the socket
   * is done with it: at once if the write completed synchronously (nothing is left queued on the
   * socket, so the kernel has the bytes), else in the write callback. Never after an error.
   */
  private writeChunk(c: Uint8Array): boolean {
    const pool = this.pool;
    if (!pool || !pool.owns(c)) return this.socket.write(c);
    let settled = false;
    const ok = this.socket.write(c, (err) => {
      if (settled) return;
      settled = true;
      if (!err) pool.release(c);
    });
    if (!settled && this.socket.writableLength === 0 && !this.socket.writableCorked) {
      settled = true;
      pool.release(c);
    }
    return ok;
  }

  private armTimer(): void {
    const due = this.core.nextTimeout();
    if (due === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.core.handleTimeout(this.clock());
      this.pump();
      if (!this.destroyed) this.armTimer();
    }, Math.max(0, due - this.clock()) + 1);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
