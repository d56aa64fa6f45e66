/**
 * TCP transport: `SealwireServer` (in the shape of `net.Server` / `tls.Server`) and `connectTcp`.
 *
 * The server isolates sessions from each other and from itself: each connection has its own
 * handshake deadline; the number of handshakes in progress is bounded: at the bound, the oldest
 * handshake in progress is dropped to make room for the new connection, so a flood of silent
 * connections can neither exhaust memory nor lock out well-behaved clients, whose handshakes take
 * a round trip while the flood's wait for the deadline; every session carries the server's own `error` listener, so a peer that sends garbage
 * ends its own session and is reported as `sessionError`, and can never crash the process.
 */
import { EventEmitter } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { SealwireError, asSealwireError } from '../errors.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../record/limits.js';
import { DEFAULT_HOST, resolveBoxCipher, resolveClientKey, resolveServer, resolveServerIdentity, type ConnectOptions, type ServerOptions } from '../options.js';
import type { BoxCipherName } from '../crypto/record-aead.js';
import { getSuite } from '../suites/index.js';
import { StreamSession } from '../session/stream-session.js';
import type { Handshake, Suite } from '../session/handshake.js';
import type { KeyPair, PublicKey } from '../keys/key.js';
import type { Rng } from '../crypto/random.js';
import { SecureSession } from './secure-session.js';
import { systemRng } from '../crypto/random.js';

const DEFAULT_MAX_HANDSHAKES = 512;

/** The clock every transport passes into the sans-I/O core (monotonic milliseconds). */
export const monotonicClock = (): number => performance.now();

export type SessionListener = (session: SecureSession) => void;

export interface ConnectionInfo {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}

/**
 * A sealwire TCP server. Events: `session` (a verified session), `handshakeError` (error, info)
 * for connections that failed before `session`, `sessionError` (error, session) for sessions
 * that failed later, `listening`, `close`, `error` (listen errors).
 */
/** The server and connection of each server-side session, for the shared session listeners. */
const sessionContexts = new WeakMap<SecureSession, SessionContext>();

/** What the shared listeners need of a session: its server, and until it is secure its connection. */
interface SessionContext {
  readonly server: SealwireServer;
  readonly info: ConnectionInfo | null;
}
const ignore = (): void => {};

export class SealwireServer extends EventEmitter {
  readonly suite: Suite;
  private readonly key: KeyPair;
  private readonly authorize: (k: PublicKey) => boolean;
  private readonly rng: Rng;
  private readonly handshakeTimeout: number | undefined;
  private readonly maxHandshakes: number;
  private readonly lingerTimeout: number | undefined;
  private readonly server: net.Server;
  private readonly live = new Set<SecureSession>();
  /** The context of every established session of this server (see `onSessionSecure`). */
  private readonly establishedContext: SessionContext = { server: this, info: null };
  /**
   * Handshakes in progress, oldest first (a Set keeps insertion order): sessions handshaking and
   * connections still waiting for `suite.prepareSession`. At the bound the oldest is dropped.
   */
  private readonly handshaking = new Set<{ destroy(error: SealwireError): void }>();
  /** Connections waiting for `suite.prepareSession` (destroyed by `close()`). */
  private readonly pending = new Set<Duplex>();
  private closing = false;
  private readonly suiteResources: { resources: unknown; close(): void } | undefined;
  private readonly boxCipher: BoxCipherName | undefined;

  constructor(options: ServerOptions, onSession?: SessionListener) {
    super();
    const resolved = resolveServer(options);
    this.suite = resolved.suite;
    this.key = resolved.key;
    this.authorize = resolved.authorize;
    this.rng = resolved.rng;
    this.boxCipher = resolved.boxCipher;
    this.handshakeTimeout = options.handshakeTimeout;
    this.maxHandshakes = options.maxHandshakes ?? DEFAULT_MAX_HANDSHAKES;
    this.lingerTimeout = options.lingerTimeout;
    this.suiteResources = options.openServerForTestingOnly?.(this.key) ?? this.suite.openServer?.(this.key);
    if (onSession) this.on('session', onSession);
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.handleConnection(socket));
    this.server.on('error', (err) => this.emit('error', new SealwireError('IO', `server socket: ${err.message}`, { cause: err })));
    this.server.on('listening', () => this.emit('listening'));
  }

  /**
   * Starts listening (port 0 picks a free port). Resolves with the bound address once listening;
   * the optional callback is called then too, as with `net.Server.listen`.
   */
  listen(port = 0, host: string = DEFAULT_HOST, callback?: () => void): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new SealwireError('IO', `cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        callback?.();
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | null {
    const a = this.server.address();
    return a && typeof a === 'object' ? a : null;
  }

  /** Sessions currently open (handshaking or established). */
  get connections(): number {
    return this.live.size;
  }

  /**
   * Stops accepting connections, drops handshakes in progress, and ends established sessions with
   * their close record; a session whose peer does not read it within `lingerTimeout` is dropped
   * (`TIMEOUT`). Resolves when every connection is closed.
   */
  close(callback?: (err?: Error) => void): Promise<void> {
    this.closing = true;
    const listenerClosed = new Promise<void>((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
    });
    // Connections still waiting for per-session resources: reported as the server closing, not as
    // clients that went away.
    for (const waiting of [...this.handshaking]) {
      if (!(waiting instanceof SecureSession)) waiting.destroy(new SealwireError('CLOSED', 'the server is closing'));
    }
    for (const socket of this.pending) socket.destroy();
    const sessionsClosed = [...this.live].map((s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve()))));
    for (const s of this.live) s.shutdown(this.lingerTimeout);
    const done = Promise.all([listenerClosed, ...sessionsClosed]);
    this.suiteResources?.close();
    return done.then(() => {
      this.emit('close');
      callback?.();
    });
  }

  /**
   * Runs the server side of a session over an already-connected stream (a TCP socket the caller
   * accepted, or one end of `memoryPair()`).
   */
  handleConnection(socket: Duplex): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const info: ConnectionInfo = { remoteAddress: (socket as net.Socket).remoteAddress, remotePort: (socket as net.Socket).remotePort };
    if (this.handshaking.size >= this.maxHandshakes) {
      const oldest = this.handshaking.values().next().value!;
      this.handshaking.delete(oldest);
      oldest.destroy(new SealwireError('LIMIT', `too many handshakes in progress (${this.maxHandshakes}); the oldest was dropped`));
    }
    socket.on('error', ignore); // reported through the session; never crash on a reset
    if (!this.suite.prepareSession) {
      this.startSession(socket, info, undefined);
      return;
    }
    // The suite needs per-connection resources first (cbcmac: a per-session RSA key). They are
    // normally ready at once; if not, the connection waits, paused, within its handshake time.
    socket.pause();
    this.pending.add(socket);
    const waiting = { destroy: (error: SealwireError): void => giveUp(error) };
    this.handshaking.add(waiting);
    let settled = false;
    const giveUp = (error: SealwireError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.pending.delete(socket);
      this.handshaking.delete(waiting);
      socket.destroy();
      this.emit('handshakeError', error, info);
    };
    const timeoutMs = this.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const timer = setTimeout(() => giveUp(new SealwireError('TIMEOUT', `no per-session resources ready within ${timeoutMs / 1000} s`)), timeoutMs);
    timer.unref();
    socket.once('close', () => giveUp(new SealwireError('HANDSHAKE_FAILED', 'the client went away before the handshake started')));
    this.suite.prepareSession(this.suiteResources?.resources).then(
      (prepared) => {
        if (settled) return; // the connection is gone; what was prepared for it is dropped unused
        settled = true;
        clearTimeout(timer);
        this.pending.delete(socket);
        this.handshaking.delete(waiting);
        this.startSession(socket, info, prepared);
        socket.resume();
      },
      (e: unknown) => giveUp(asSealwireError(e, 'HANDSHAKE_FAILED', 'preparing the session failed')),
    );
  }

  /** Runs the server handshake on a connection; the session counts in `handshaking` until secure. */
  private startSession(socket: Duplex, info: ConnectionInfo, prepared: unknown): void {
    let handshake: Handshake;
    try {
      handshake = this.suite.server({ key: this.key, authorize: this.authorize, rng: this.rng, resources: this.suiteResources?.resources, session: prepared, boxCipher: this.boxCipher });
    } catch (e) {
      // A bad key or an exhausted resource ends this connection only, never the server.
      socket.destroy();
      this.emit('handshakeError', asSealwireError(e, 'HANDSHAKE_FAILED', 'cannot start the handshake'), info);
      return;
    }
    const core = new StreamSession(handshake, { now: monotonicClock(), handshakeTimeoutMs: this.handshakeTimeout });
    const session = new SecureSession(socket, core, { suite: this.suite.name, clock: monotonicClock });
    this.handshaking.add(session);
    this.live.add(session);
    // Shared listeners (no closures per session: an idle session should hold little).
    sessionContexts.set(session, { server: this, info });
    session.on('error', SealwireServer.onSessionError);
    session.once('secure', SealwireServer.onSessionSecure);
    session.on('close', SealwireServer.onSessionClose); // 'close' comes once; `on` keeps no once-wrapper per session
  }

  private static onSessionError(this: SecureSession, err: SealwireError): void {
    const c = sessionContexts.get(this);
    if (!c) return;
    if (this.secure) c.server.emit('sessionError', err, this);
    else c.server.emit('handshakeError', err, c.info ?? { remoteAddress: undefined, remotePort: undefined });
  }

  private static onSessionSecure(this: SecureSession): void {
    const c = sessionContexts.get(this);
    if (!c) return;
    // The connection info only served handshake errors: an established session shares one context.
    sessionContexts.set(this, c.server.establishedContext);
    c.server.handshaking.delete(this);
    c.server.emit('session', this);
  }

  private static onSessionClose(this: SecureSession): void {
    const c = sessionContexts.get(this);
    if (!c) return;
    c.server.handshaking.delete(this);
    c.server.live.delete(this);
  }
}

/** Connects over TCP (or `options.socket`) and resolves once the handshake has verified the server. */
export async function connectTcp(options: ConnectOptions): Promise<SecureSession> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? 0;
  if (!options.socket && (!Number.isInteger(port) || port <= 0 || port > 65535)) {
    throw new SealwireError('INVALID_ARGUMENT', `connect: a port (1-65535) is required, got ${String(options.port)}`);
  }
  const suite = getSuite(options.suite);
  const identity = resolveServerIdentity(suite, options, host, port);
  const key = await resolveClientKey(suite, options.key);
  const handshake = suite.client({ key, server: identity.identity, rng: options.rng ?? systemRng, boxCipher: resolveBoxCipher(suite, options) });
  return new Promise((resolve, reject) => {
    const socket = options.socket ?? net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    const core = new StreamSession(handshake, { now: monotonicClock(), handshakeTimeoutMs: options.handshakeTimeout });
    const session = new SecureSession(socket, core, { suite: suite.name, clock: monotonicClock, trust: identity.trust });
    const onError = (err: Error): void => reject(err);
    session.once('error', onError);
    session.once('secure', () => {
      session.off('error', onError);
      try {
        identity.onVerified(session.peerPublicKey!);
      } catch (e) {
        session.emit('warning', e);
      }
      resolve(session);
    });
  });
}
