/**
 * `connectWebSocket(url, { serverKey, key })`: a `box` session from a web page, over the page's
 * native `WebSocket`. The same sans-I/O core as over TCP (session/stream-session.ts and the box
 * suite), the same frames on the wire: each frame the core emits goes in one binary WebSocket
 * message, and what arrives is fed to the core as a byte stream (docs/PROTOCOLS.md, "WebSocket").
 *
 * This file is the browser's transport adapter, as transport/secure-session.ts is Node's:
 * bytes in, bytes out, the handshake deadline from a timer, backpressure from `bufferedAmount`
 * (a browser WebSocket has no drain event: `send` resolves once the buffer is below the
 * high-water mark again). The server's key is pinned: the handshake fails unless the server
 * holds the secret key of `serverKey`, and no data flows before that.
 *
 * In the browser build, crypto/ and keys/key.ts are the browser backends (src/browser/crypto);
 * under Node the same code runs on sodium-native, which is how its tests run it on both.
 */
import { SealwireError } from '../errors.js';
import { KeyPair, PublicKey, generateKeyPair } from '../keys/key.js';
import { systemRng } from '../crypto/random.js';
import { boxSuite } from '../suites/box/index.js';
import { StreamSession } from '../session/stream-session.js';
import { MAX_WEBSOCKET_MESSAGE } from './websocket-mapping.js';

/** `send` waits while more than this many bytes are queued in the WebSocket. */
export const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
const DRAIN_POLL_MS = 10;

/** What this module needs of a WebSocket: the browser's, or `ws`'s in Node tests. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface BrowserConnectOptions {
  /**
   * The server's X25519 public key, pinned: `sealwire-x25519 <base64>` (a `.pub` file's line),
   * bare base64, 32 raw bytes, or a `PublicKey`.
   */
  readonly serverKey: string | Uint8Array | PublicKey;
  /** The client's key pair, or its 32-byte secret key; default: a throwaway key for this session. */
  readonly key?: KeyPair | Uint8Array;
  /** Milliseconds the connection and handshake may take (default 10 s). */
  readonly handshakeTimeout?: number;
  /** `send` waits while more than this many bytes are queued (default 1 MiB). */
  readonly highWaterMark?: number;
  /** The WebSocket class (default: the global one). */
  readonly WebSocket?: WebSocketConstructor;
}

type Listener<T> = (value: T) => void;

/** Parses a pinned server key. Throws `BAD_KEY` when it is not an X25519 public key. */
export function parseServerKey(key: string | Uint8Array | PublicKey): PublicKey {
  if (key instanceof PublicKey) return key;
  if (typeof key !== 'string') return PublicKey.fromBytes('x25519', key);
  const text = key.trim();
  const m = /^(?:sealwire-x25519\s+)?([A-Za-z0-9+/]{43}=?)$/.exec(text);
  if (!m) throw new SealwireError('BAD_KEY', 'the server key must be "sealwire-x25519 <base64>" (a .pub file line) or 32 bytes in base64');
  return PublicKey.fromBytes('x25519', Buffer.from(m[1]!, 'base64'));
}

/**
 * Opens a WebSocket to `url` and runs the box handshake over it. Resolves with the session once
 * the server has proved it holds the pinned key; rejects with a `SealwireError` otherwise
 * (`HANDSHAKE_FAILED`, `TIMEOUT`, `IO` when the WebSocket cannot open).
 */
export function connectWebSocket(url: string, options: BrowserConnectOptions): Promise<BrowserSession> {
  const serverKey = parseServerKey(options.serverKey);
  const key = options.key === undefined ? generateKeyPair('x25519') : options.key instanceof KeyPair ? options.key : KeyPair.fromX25519Secret(options.key);
  const Ctor = options.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Ctor) throw new SealwireError('INVALID_ARGUMENT', 'no WebSocket class in this environment: pass options.WebSocket');
  const handshake = boxSuite.client({ key, server: { kind: 'pinned', key: serverKey }, rng: systemRng });
  const core = new StreamSession(handshake, { now: clock(), handshakeTimeoutMs: options.handshakeTimeout });
  const ws = new Ctor(url);
  return new Promise((resolve, reject) => {
    const session = new BrowserSession(ws, core, options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK, url, {
      secure: () => resolve(session),
      failed: (e) => reject(e),
    });
  });
}

const clock = (): number => performance.now();

/** A verified box session over a WebSocket. */
export class BrowserSession {
  private readonly dataListeners: Listener<Uint8Array>[] = [];
  private readonly closeListeners: Listener<SealwireError | null>[] = [];
  /** Data that arrived while nobody listened (the async iterator takes it from here). */
  private queue: Uint8Array[] = [];
  private wake: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private secure = false;
  private opened = false;
  private ended = false;
  private closeError: SealwireError | null = null;
  /** Resolves when the session has closed: with null after a clean close, else with the error. */
  readonly closed: Promise<SealwireError | null>;
  private resolveClosed!: (e: SealwireError | null) => void;

  /** @internal Use `connectWebSocket`. */
  constructor(
    private readonly ws: WebSocketLike,
    private readonly core: StreamSession,
    private readonly highWaterMark: number,
    url: string,
    private readonly handshake: { secure(): void; failed(e: SealwireError): void },
  ) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      this.opened = true;
      core.start();
      this.pump();
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onerror = () => {
      /* the close event follows and says what happened */
    };
    ws.onclose = (ev) => {
      if (this.ended) return;
      if (!this.opened) {
        this.core.fail(new SealwireError('IO', `the WebSocket to ${url.slice(0, 200)} did not open (code ${ev.code})`));
      } else {
        // As a TCP FIN: during the handshake, a failed handshake that says what we waited for;
        // after it, truncation unless the server's close record came first.
        this.core.receiveEnd();
      }
      this.pump();
      this.finish(this.core.error);
    };
    this.armTimer();
  }

  /** `SHA256:…` of the server's verified key. */
  get fingerprint(): string {
    return this.core.peerPublicKey?.fingerprint ?? '';
  }

  /** The server's verified key. */
  get serverKey(): PublicKey | null {
    return this.core.peerPublicKey;
  }

  /** Bytes queued in the WebSocket, not yet sent. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** The first fatal error, if the session failed. */
  get error(): SealwireError | null {
    return this.core.error;
  }

  /**
   * Seals `data` (a string is sent as UTF-8) and sends it. Resolves once the WebSocket's buffer is
   * below the high-water mark. Throws `CLOSED` after `close()` or a failure.
   */
  async send(data: Uint8Array | string): Promise<void> {
    if (this.ended) throw this.closeError ?? new SealwireError('CLOSED', 'the session is closed');
    this.core.send(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    this.pump();
    while (this.ws.bufferedAmount > this.highWaterMark && !this.ended) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
    if (this.core.error) throw this.core.error;
  }

  /** Listens for data (`'data'`) or the end of the session (`'close'`, with the error or null). */
  on(event: 'data', listener: Listener<Uint8Array>): this;
  on(event: 'close', listener: Listener<SealwireError | null>): this;
  on(event: 'data' | 'close', listener: Listener<Uint8Array> | Listener<SealwireError | null>): this {
    if (event === 'data') {
      this.dataListeners.push(listener as Listener<Uint8Array>);
      for (const d of this.queue.splice(0)) (listener as Listener<Uint8Array>)(d);
    } else {
      this.closeListeners.push(listener as Listener<SealwireError | null>);
    }
    return this;
  }

  /** The data as it arrives; ends after a clean close, throws the error after a failure. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.ended) {
        if (this.closeError) throw this.closeError;
        return;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** Sends the close record and closes the WebSocket. */
  close(): void {
    if (this.ended) return;
    if (this.secure && !this.core.sendClosed && !this.core.error) {
      this.core.end();
      this.pump();
    }
    this.ws.close(1000);
    this.finish(null);
  }

  private onMessage(data: unknown): void {
    if (this.ended) return;
    if (!(data instanceof ArrayBuffer)) {
      this.core.fail(new SealwireError('BAD_RECORD', 'a text WebSocket message: sealwire sends binary messages only'));
    } else if (data.byteLength > MAX_WEBSOCKET_MESSAGE) {
      this.core.fail(new SealwireError('TOO_LARGE', `a WebSocket message of ${data.byteLength} bytes exceeds ${MAX_WEBSOCKET_MESSAGE}`));
    } else {
      this.core.receive(new Uint8Array(data));
    }
    this.pump();
  }

  /** Moves the core's output to the WebSocket and its events to the listeners. */
  private pump(): void {
    for (const chunk of this.core.takeOutput()) {
      if (this.ws.readyState === 1) this.ws.send(chunk);
    }
    for (const ev of this.core.takeEvents()) {
      switch (ev.type) {
        case 'secure':
          this.secure = true;
          this.clearTimer();
          this.handshake.secure();
          break;
        case 'data':
          if (this.dataListeners.length > 0) for (const l of this.dataListeners) l(ev.data);
          else this.queue.push(ev.data);
          this.wake?.();
          break;
        case 'end':
          // A WebSocket has no half-close: the peer's close record ends the session both ways.
          this.close();
          return;
        case 'error':
          this.ws.close(1000);
          this.finish(ev.error);
          return;
      }
    }
  }

  private finish(error: SealwireError | null): void {
    if (this.ended) return;
    this.ended = true;
    this.closeError = error;
    this.clearTimer();
    this.core.wipe();
    if (!this.secure) this.handshake.failed(error ?? new SealwireError('HANDSHAKE_FAILED', 'closed during the handshake'));
    this.wake?.();
    this.resolveClosed(error);
    for (const l of this.closeListeners) l(error);
  }

  private armTimer(): void {
    const due = this.core.nextTimeout();
    if (due === undefined) return;
    this.timer = setTimeout(() => {
      this.core.handleTimeout(clock());
      this.pump();
      if (!this.ended && !this.secure) this.armTimer();
    }, Math.max(0, due - clock()) + 1);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
