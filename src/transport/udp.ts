/**
 * UDP transport: `UdpServer` (one `dgram` socket serving many sessions) and `connectUdp`.
 *
 * A thin adapter over the sans-I/O core (session/datagram-server.ts, session/datagram-session.ts):
 * datagrams from the socket go in with the time, datagrams to send come out, events become
 * `UdpSession` events. Timers: the server runs one ticker for all its sessions; a client keeps one
 * timer armed for its session's next deadline.
 *
 * The session is message-oriented: `send(message)` sends one message (up to 64 KiB; fragmented
 * above one datagram), each received message is one `'message'` event. Like UDP itself it does
 * not retransmit messages: a message lost on the way is lost (the chat room adds acknowledgements).
 *
 * Per message (docs/ARCHITECTURE.md, "UDP per-record path"): `send` seals the record straight
 * into a reusable slot of the socket's `SendRing` and hands that to one `socket.send`, which
 * carries a callback only now and then (to free slots) and for the last datagrams of a closing
 * session (the socket closes after them); a received record is opened in place and its message
 * emitted by a direct call from the session. Per session the transport keeps one small link
 * object, no closures.
 */
import { EventEmitter } from 'node:events';
import dgram from 'node:dgram';
import net, { type AddressInfo } from 'node:net';
import { SealwireError } from '../errors.js';
import { systemRng } from '../crypto/random.js';
import type { PublicKey } from '../keys/key.js';
import { DEFAULT_HOST, resolveBoxCipher, resolveClientKey, resolveServer, resolveServerIdentity, type ConnectOptions, type ServerOptions } from '../options.js';
import { availableSuites, getSuite } from '../suites/index.js';
import type { Suite, SuiteName } from '../session/handshake.js';
import { DatagramSession, type DatagramEvent } from '../session/datagram-session.js';
import { DatagramServer, type PeerAddress, type SessionEntry } from '../session/datagram-server.js';
import { CONNECTION_ID_SIZE } from '../record/datagram.js';
import type { ServerTrust } from './secure-session.js';
import { SendRing } from './send-ring.js';

const now = (): number => performance.now();
/** How often the server looks for due retransmissions, keepalives and timeouts (milliseconds). */
const SERVER_TICK_MS = 50;
const SERVER_RECV_BUFFER = 4 * 1024 * 1024;

/** Options only UDP has (milliseconds). */
export interface UdpOptions {
  /** Close a session after this long without an authenticated packet (default 60 000). */
  idleTimeout?: number;
  /** Send a keepalive after this long without sending (default 15 000; keep it below the peer's idle timeout). */
  keepalive?: number;
}

export interface UdpServerOptions extends ServerOptions, UdpOptions {
  transport: 'udp';
  /** Handshakes in progress per source IP address (default 64). */
  maxHandshakesPerAddress?: number;
}

export interface UdpConnectOptions extends ConnectOptions, UdpOptions {
  transport: 'udp';
}

/** How a `UdpSession` reaches its transport. @internal */
interface SessionLink {
  /** The peer's current address. */
  readonly address: PeerAddress;
  send(message: Uint8Array): void;
  close(): void;
}


/**
 * One UDP session. Events: `'message'` (Buffer: one whole message), `'error'` (SealwireError: the
 * session failed, e.g. idle `TIMEOUT`; `'close'` follows), `'close'` (no arguments, once),
 * `'notice'` ('error' | 'handshake-again': unauthenticated hints from the server, see docs).
 */
export class UdpSession extends EventEmitter {
  readonly suite: SuiteName;
  /** Client sessions: how the server's key was trusted. */
  readonly trust: ServerTrust | undefined;
  /** The connection id, as 16 hex digits. */
  readonly connectionId: string;
  private closedFlag = false;
  private failure: SealwireError | null = null;

  /** @internal */
  constructor(
    private readonly core: DatagramSession,
    private readonly link: SessionLink,
    suite: SuiteName,
    trust?: ServerTrust,
  ) {
    super();
    this.suite = suite;
    this.trust = trust;
    this.connectionId = Buffer.from(core.connectionId).toString('hex');
  }

  /** The peer's verified long-term key (the server's on a client; the client's on a server). */
  get peerPublicKey(): PublicKey | null {
    return this.core.peerPublicKey;
  }

  get fingerprint(): string | null {
    return this.core.peerPublicKey?.fingerprint ?? null;
  }

  /** The peer's current address (it follows the peer after an authenticated packet from a new one). */
  get remoteAddress(): string {
    return this.link.address.address;
  }

  get remotePort(): number {
    return this.link.address.port;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** The error that ended the session, if one did. */
  get error(): SealwireError | null {
    return this.failure;
  }

  /**
   * Sends one message (a Buffer, a Uint8Array or a UTF-8 string, up to 64 KiB). Throws `CLOSED`
   * once the session is closed and `TOO_LARGE` above 64 KiB. Delivery is not guaranteed (UDP).
   */
  send(message: Uint8Array | string): void {
    this.link.send(typeof message === 'string' ? Buffer.from(message) : message);
  }

  /** Ends the session with an authenticated CLOSE record. Idempotent. */
  close(): void {
    this.link.close();
  }

  /** One received message. @internal */
  message(d: Uint8Array): void {
    this.emit('message', Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  }

  /** @internal */
  deliver(event: DatagramEvent): void {
    switch (event.type) {
      case 'message':
        this.message(event.data);
        break;
      case 'close':
        if (this.closedFlag) return;
        this.closedFlag = true;
        if (event.error) {
          this.failure = event.error;
          if (this.listenerCount('error') > 0) this.emit('error', event.error);
        }
        this.emit('close');
        break;
      case 'notice':
        this.emit('notice', event.kind);
        break;
      case 'secure':
      case 'handshakeDropped':
        break;
    }
  }
}

/**
 * A sealwire UDP server. Events: `session` (UdpSession, verified), `handshakeError` (error,
 * {address, port}), `sessionError` (error, session), `listening`, `close`, `error`.
 */
export class UdpServer extends EventEmitter {
  readonly suite: SuiteName;
  private readonly endpoint: DatagramServer;
  /** Created by `listen` (IPv4 or IPv6, after the host). */
  private socket: dgram.Socket | null = null;
  private readonly sessions = new Map<SessionEntry, UdpSession>();
  /** The socket's send buffers (records are sealed into them). */
  private readonly ring = new SendRing();
  private ticker: NodeJS.Timeout | undefined;
  private readonly suiteResources: { resources: unknown; close(): void } | undefined;
  private closing = false;
  /**
   * Datagrams sent with a callback and not yet sent: only while closing (the CLOSE records; the
   * socket sends in order, so when the last one has left, so has everything before it).
   */
  private pendingSends = 0;
  private onSent: (() => void) | null = null;
  private readonly sent = (): void => {
    if (--this.pendingSends === 0 && this.onSent) this.onSent();
  };

  constructor(options: UdpServerOptions, onSession?: (session: UdpSession) => void) {
    super();
    datagramSuite(options?.suite); // a TCP-only suite is named as such before any other option is checked
    const r = resolveServer(options);
    this.suite = r.suite.name;
    this.suiteResources = r.suite.openServer?.(r.key);
    this.endpoint = new DatagramServer({
      suite: r.suite,
      config: { key: r.key, authorize: r.authorize, rng: r.rng, resources: this.suiteResources?.resources, boxCipher: r.boxCipher },
      handshakeTimeoutMs: options.handshakeTimeout,
      idleTimeoutMs: options.idleTimeout,
      keepaliveMs: options.keepalive,
      maxHandshakes: options.maxHandshakes,
      maxHandshakesPerAddress: options.maxHandshakesPerAddress,
      datagramsOwned: true, // dgram hands us a fresh buffer per datagram
      allocate: this.ring.allocate,
    });
    this.endpoint.onMessage = (entry, data) => this.sessions.get(entry)?.message(data);
    if (onSession) this.on('session', onSession);
  }

  /** Binds the socket (port 0 picks a free port) and resolves with the bound address. */
  listen(port = 0, host: string = DEFAULT_HOST): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      if (this.socket) throw new SealwireError('INVALID_ARGUMENT', 'listen() called twice');
      const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
      this.socket = socket;
      socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
      const onError = (err: Error): void => reject(new SealwireError('IO', `cannot listen on ${host}:${port}/udp: ${err.message}`, { cause: err }));
      socket.once('error', onError);
      socket.bind(port, host, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.emit('error', new SealwireError('IO', `UDP socket: ${err.message}`, { cause: err })));
        try {
          socket.setRecvBufferSize(SERVER_RECV_BUFFER); // many clients' handshakes arrive in bursts
        } catch {
          // the system refuses: keep its default
        }
        this.ticker = setInterval(() => this.tick(), SERVER_TICK_MS);
        this.emit('listening');
        resolve(socket.address());
      });
    });
  }

  address(): AddressInfo | null {
    try {
      return this.socket?.address() ?? null;
    } catch {
      return null;
    }
  }

  /** Sessions open or handshaking. */
  get connections(): number {
    return this.endpoint.size;
  }

  /** Handshakes in progress. */
  get handshakesInProgress(): number {
    return this.endpoint.handshakesInProgress;
  }

  /** Closes every session (each with its CLOSE record) and the socket. */
  close(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.closing = true;
    const t = now();
    for (const entry of [...this.endpoint.entries()]) this.endpoint.close(entry, t);
    this.drain();
    if (this.ticker) clearInterval(this.ticker);
    this.suiteResources?.close();
    return new Promise((resolve) => {
      const closeSocket = (): void => {
        this.onSent = null;
        try {
          if (!this.socket) throw new Error('never listened');
          this.socket.close(() => {
            this.emit('close');
            resolve();
          });
        } catch {
          this.emit('close');
          resolve();
        }
      };
      if (this.pendingSends === 0) closeSocket();
      else {
        this.onSent = closeSocket;
        setTimeout(closeSocket, 1_000).unref(); // never wait long for a socket that cannot send
      }
    });
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // Port 0 cannot be answered (dgram.send throws on it): such a datagram is spoofed; drop it.
    if (this.closing || rinfo.port === 0) return;
    this.endpoint.receive(msg, rinfo, now()); // (rinfo is a fresh object per datagram: it may be kept as the address)
    this.drain();
  }

  /** Sends one datagram; with `done`, calls it once the datagram has left (or failed). @internal */
  sendTo(data: Uint8Array, to: PeerAddress, done?: () => void): void {
    if (done) this.pendingSends++;
    const callback = done ?? this.ring.callbackFor(data);
    try {
      this.socket!.send(data, to.port, to.address, callback);
    } catch {
      // An address the socket refuses (never one a peer proved): that datagram is lost.
      if (done) done();
      else this.ring.unsent(callback);
    }
  }

  private tick(): void {
    this.endpoint.handleTimeout(now());
    this.drain();
  }

  /** @internal */
  drain(): void {
    const out = this.endpoint.takeOutput();
    for (let i = 0; i < out.length; i++) {
      const o = out[i]!;
      this.sendTo(o.data, o.to, this.closing && i === out.length - 1 ? this.sent : undefined);
    }
    const events = this.endpoint.takeEvents();
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      switch (ev.type) {
        case 'session': {
          const session = new UdpSession(ev.entry.session, new ServerLink(this, this.endpoint, ev.entry), this.suite);
          this.sessions.set(ev.entry, session);
          this.emit('session', session);
          break;
        }
        case 'handshakeError':
          this.emit('handshakeError', ev.error, ev.from);
          break;
        case 'sessionEvent': {
          const session = this.sessions.get(ev.entry);
          if (!session) break;
          if (ev.event.type === 'close') {
            this.sessions.delete(ev.entry);
            if (ev.event.error) this.emit('sessionError', ev.event.error, session);
          }
          session.deliver(ev.event);
          break;
        }
      }
    }
  }
}

/** A server session's way to its transport: one small object per session (no closures). */
class ServerLink implements SessionLink {
  constructor(
    private readonly server: UdpServer,
    private readonly endpoint: DatagramServer,
    private readonly entry: SessionEntry,
  ) {}

  get address(): PeerAddress {
    return this.entry.address;
  }

  send(message: Uint8Array): void {
    const d = this.endpoint.sendMessage(this.entry, message, now());
    if (d !== null) this.server.sendTo(d, this.entry.address);
    else this.server.drain();
  }

  close(): void {
    this.endpoint.close(this.entry, now());
    this.server.drain();
  }
}

/** The suite called `name`, if it runs over UDP (docs/DESIGN.md: box and sid; the others are TCP only). */
function datagramSuite(name: string | undefined): Suite {
  const suite = getSuite(name);
  if (!suite.datagram) {
    const udp = availableSuites().filter((n) => getSuite(n).datagram).join(', ');
    throw new SealwireError('INVALID_ARGUMENT', `suite '${suite.name}' runs over TCP only (over UDP: ${udp})`);
  }
  return suite;
}

/** Connects over UDP and resolves with the session once the handshake has verified the server. */
export async function connectUdp(options: UdpConnectOptions): Promise<UdpSession> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new SealwireError('INVALID_ARGUMENT', `connect: a port (1-65535) is required, got ${String(options.port)}`);
  }
  const suite = datagramSuite(options.suite);
  const identity = resolveServerIdentity(suite, options, host, port);
  const key = await resolveClientKey(suite, options.key);
  return new Promise((resolve, reject) => {
    const rng = options.rng ?? systemRng;
    const ring = new SendRing();
    const connectionId = rng(CONNECTION_ID_SIZE);
    const handshake = suite.client({ key, server: identity.identity, rng, connectionId, boxCipher: resolveBoxCipher(suite, options) });
    const core = new DatagramSession(handshake, {
      now: now(),
      connectionId,
      handshakeTimeoutMs: options.handshakeTimeout,
      idleTimeoutMs: options.idleTimeout,
      keepaliveMs: options.keepalive,
      profile: suite.datagram,
      datagramsOwned: true,
      allocate: ring.allocate,
    });
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    let timer: NodeJS.Timeout | undefined;
    let timerAt = Infinity;
    let settled = false;
    let connected = false;
    const peer: PeerAddress = { address: host, port };
    let pendingSends = 0;
    let closeWhenSent = false;
    const closeSocket = (): void => {
      closeWhenSent = false;
      try {
        socket.close();
      } catch {
        // already closed
      }
    };
    const sent = (): void => {
      if (--pendingSends === 0 && closeWhenSent) closeSocket();
    };

    const arm = (): void => {
      const at = core.nextTimeout();
      if (at >= timerAt) return; // a later deadline: the armed timer fires early and re-arms
      if (timer) clearTimeout(timer);
      timerAt = at;
      if (at === Infinity) return;
      timer = setTimeout(() => {
        timer = undefined;
        timerAt = Infinity;
        core.handleTimeout(now());
        pump();
      }, Math.max(0, Math.ceil(at - now())));
    };

    const session = new UdpSession(
      core,
      {
        address: peer,
        send: (m) => {
          const d = core.sealMessage(m, now());
          // (The keepalive deadline only moved later: the armed timer stays.)
          if (d !== null) send(d);
          else pump();
        },
        close: () => {
          core.close(now());
          pump();
        },
      },
      suite.name,
      identity.trust,
    );

    const send = (d: Uint8Array): void => {
      const callback = ring.callbackFor(d);
      try {
        socket.send(d, callback);
      } catch (e) {
        ring.unsent(callback);
        throw e;
      }
    };

    const pump = (): void => {
      const out = core.takeOutput();
      // Nothing goes out before the socket is connected. Once the session is closed, the socket
      // closes after its last datagrams (the CLOSE record): the last one gets a callback.
      const closing = core.phase === 'closed';
      for (let i = 0; connected && i < out.length; i++) {
        if (closing && i === out.length - 1) {
          pendingSends++;
          socket.send(out[i]!, sent);
        } else {
          send(out[i]!);
        }
      }
      for (const ev of core.takeEvents()) {
        if (ev.type === 'secure') {
          settled = true;
          try {
            identity.onVerified(core.peerPublicKey!);
          } catch (e) {
            session.emit('warning', e);
          }
          core.messageSink = session;
          resolve(session);
        } else if (ev.type === 'close') {
          if (timer) clearTimeout(timer);
          timerAt = -Infinity; // never re-arm
          if (pendingSends === 0) closeSocket();
          else closeWhenSent = true; // after the CLOSE record has left
          if (!settled) {
            settled = true;
            reject(ev.error ?? new SealwireError('CLOSED', 'session closed during the handshake'));
          } else {
            session.deliver(ev);
          }
        } else {
          session.deliver(ev);
        }
      }
      if (!session.closed && core.phase !== 'closed') arm();
    };

    socket.on('message', (msg) => {
      if (core.phase === 'closed') return;
      core.receive(msg, now());
      pump();
    });
    const unreachable = (err: Error): void => {
      // Before the socket is connected (e.g. the host does not resolve) nothing else would end
      // this; afterwards ICMP errors and the like are left to retransmission and timeouts.
      if (connected || settled) return;
      settled = true;
      core.fail(new SealwireError('IO', `cannot reach ${host}:${port}/udp: ${err.message}`, { cause: err }));
      closeSocket();
      reject(core.error);
    };
    socket.on('error', unreachable);
    // dgram reports a failed lookup to the connect callback, not as 'error'.
    socket.connect(port, host, (err?: Error) => {
      if (err) {
        unreachable(err);
        return;
      }
      connected = true;
      core.start(now());
      pump();
    });
  });
}
