/**
 * The sans-I/O UDP server endpoint: many datagram sessions behind one socket.
 *
 *     receive(datagram, from, now) → routes by connection id; returns the session it touched
 *     handleTimeout(now)           → every session whose time has come
 *     takeOutput()                 → (address, datagram) pairs to send
 *
 * Rules it enforces for every session:
 * - **Routing by connection id**, never by address. A session's address changes only when an
 *   authenticated record (or the handshake message that established it) arrives from a new one,
 *   as NAT rebinding needs; anything unauthenticated is answered to its sender, and only that.
 * - **Bounded half-open state**: at most `maxHandshakes` handshakes in progress per server and
 *   `maxHandshakesPerAddress` per source IP address; further new ids are dropped silently. A new
 *   id whose first message fails leaves no state at all.
 * - **No amplification**: whatever a session wants to send in reply to a datagram that did not
 *   authenticate is checked against that datagram's size and dropped whole if it is larger.
 * - **Silence toward the peer**: bad datagrams are dropped; the only answers to unauthenticated
 *   input are the handshake's own replies and the 9-byte "handshake again" notice for a record
 *   with an unknown id (never larger than that record).
 *
 * The per-message path: with an `onMessage` handler set, a session's messages go to it directly
 * (the entry is the session's `MessageSink`; the session's address moves first), and
 * `sendMessage` returns the datagram of a small message for the transport to send at once. The
 * last session routed to is remembered, so a run of datagrams for one session skips the map.
 */
import { SealwireError, asSealwireError } from '../errors.js';
import {
  CONNECTION_ID_SIZE,
  DATAGRAM_PREFIX_SIZE,
  DatagramType,
  RECORD_HEADER_SIZE,
  encodeHandshakeDatagram,
  encodeNotice,
  readHandshakeDatagram,
  isDatagramRecordType,
  isHandshakeType,
} from '../record/datagram.js';
import type { Allocate } from '../record/buffers.js';
import { readU32BE } from '../record/u64.js';
import { DatagramSession, type DatagramEvent, type MessageSink, type ReceiveResult } from './datagram-session.js';
import type { Handshake, ServerConfig, StatelessServer, Suite } from './handshake.js';

/** At most this many failed-handshake reports a second (the rest are counted). */
const REPORTS_PER_SECOND = 10;

export interface PeerAddress {
  readonly address: string;
  readonly port: number;
}

export interface DatagramServerOptions {
  readonly suite: Suite;
  readonly config: ServerConfig;
  readonly handshakeTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly keepaliveMs?: number;
  /** Handshakes in progress per server (default 1024). */
  readonly maxHandshakes?: number;
  /** Handshakes in progress per source IP address (default 64). */
  readonly maxHandshakesPerAddress?: number;
  /** Established sessions at most (default 100 000). */
  readonly maxSessions?: number;
  /** See `DatagramSessionOptions.datagramsOwned`. */
  readonly datagramsOwned?: boolean;
  /** See `DatagramSessionOptions.allocate`: where records the transport sends at once are sealed. */
  readonly allocate?: Allocate;
}

/** One session as the endpoint sees it. */
export interface SessionEntry {
  readonly id: string;
  readonly session: DatagramSession;
  /** Where this session's own output goes (moves only on authenticated input). */
  address: PeerAddress;
  /** The address counted against the per-address handshake bound while half-open. */
  readonly firstAddress: string;
  halfOpen: boolean;
  /** Cached `session.nextTimeout()`. */
  due: number;
}

/** Receives each message of an established session (see `DatagramServer.onMessage`). */
export type MessageHandler = (entry: SessionEntry, data: Uint8Array) => void;

/** The endpoint's entry: also its session's message sink, so a message needs no event object. */
class Entry implements SessionEntry, MessageSink {
  halfOpen = true;
  due = Infinity;
  readonly firstAddress: string;

  constructor(
    readonly id: string,
    readonly session: DatagramSession,
    public address: PeerAddress,
    private readonly server: DatagramServer,
  ) {
    this.firstAddress = address.address;
  }

  message(data: Uint8Array): void {
    this.server.deliver(this, data);
  }
}

export type EndpointEvent =
  | { readonly type: 'session'; readonly entry: SessionEntry }
  | { readonly type: 'handshakeError'; readonly error: SealwireError; readonly from: PeerAddress }
  | { readonly type: 'sessionEvent'; readonly entry: SessionEntry; readonly event: DatagramEvent };

export interface Outgoing {
  readonly to: PeerAddress;
  readonly data: Uint8Array;
}

export class DatagramServer {
  /**
   * Takes every message of an established session directly (no `sessionEvent` object), once the
   * events before it have been taken. Unset: messages are `sessionEvent`s like everything else.
   */
  onMessage: MessageHandler | null = null;
  private readonly sessions = new Map<string, SessionEntry>();
  /** The entry the last datagram went to, and its connection id as two 32-bit words. */
  private recent: SessionEntry | null = null;
  private recentHigh = 0;
  private recentLow = 0;
  /** The source of the datagram being processed (a session's address moves to it on authentication). */
  private from: PeerAddress | null = null;
  private readonly perAddress = new Map<string, number>();
  private halfOpen = 0;
  /** Half-open entries, oldest first (a Set keeps insertion order): the first to go at the bound. */
  private readonly halfOpenEntries = new Set<SessionEntry>();
  private established = 0;
  private output: Outgoing[] = [];
  private events: EndpointEvent[] = [];
  private readonly maxHandshakes: number;
  private readonly maxPerAddress: number;
  private readonly maxSessions: number;
  private lastLimitReport = -Infinity;
  /** Replies withheld by the amplification rule (should stay 0 with well-behaved suites). */
  amplificationDrops = 0;
  /** New handshakes dropped by the half-open bounds. */
  limitDrops = 0;
  /** Handshake datagrams dropped because they failed (garbage, forgeries, wrong keys). */
  droppedHandshakeDatagrams = 0;
  private reportWindowStart = -Infinity;
  private reportsInWindow = 0;
  private suppressed = 0;
  /** The time of the call being processed (for rate limits inside `flush`). */
  private clock = 0;
  /** What the last `receive` found: the session's verdict, or 'unrouted' (no session took it). */
  lastResult: ReceiveResult | 'unrouted' = 'unrouted';

  private readonly stateless: StatelessServer | null;
  /** The suite's client padding: client handshake datagrams are read at exactly this encoding. */
  private readonly padTo: number;

  constructor(private readonly options: DatagramServerOptions) {
    this.stateless = options.suite.datagram?.stateless?.(options.config) ?? null;
    this.padTo = options.suite.datagram?.padClientHandshakeTo ?? 0;
    this.maxHandshakes = options.maxHandshakes ?? 1024;
    this.maxPerAddress = options.maxHandshakesPerAddress ?? 64;
    this.maxSessions = options.maxSessions ?? 100_000;
  }

  get size(): number {
    return this.sessions.size;
  }

  get handshakesInProgress(): number {
    return this.halfOpen;
  }

  entries(): IterableIterator<SessionEntry> {
    return this.sessions.values();
  }

  /**
   * Routes one datagram. Returns the session it reached, or null. Never throws (unless the
   * `onMessage` handler does).
   */
  receive(d: Uint8Array, from: PeerAddress, now: number): SessionEntry | null {
    this.lastResult = 'unrouted';
    this.clock = now;
    if (d.length < DATAGRAM_PREFIX_SIZE) return null;
    const type = d[0]!;
    const high = readU32BE(d, 1);
    const low = readU32BE(d, 5);
    let entry: SessionEntry | undefined;
    if (this.recent !== null && high === this.recentHigh && low === this.recentLow) entry = this.recent;
    else {
      const id = Buffer.isBuffer(d) ? d.toString('latin1', 1, DATAGRAM_PREFIX_SIZE) : Buffer.from(d.buffer, d.byteOffset + 1, CONNECTION_ID_SIZE).toString('latin1');
      entry = this.sessions.get(id);
      if (!entry) {
        if (isHandshakeType(type)) entry = this.create(d, id, from, now);
        else if (isDatagramRecordType(type) && d.length >= RECORD_HEADER_SIZE) {
          const again = this.options.suite.datagram?.handshakeAgainType ?? DatagramType.HANDSHAKE_AGAIN;
          this.output.push({ to: from, data: encodeNotice(again, d.subarray(1, DATAGRAM_PREFIX_SIZE)) });
        }
        return entry ?? null;
      }
      this.recent = entry;
      this.recentHigh = high;
      this.recentLow = low;
    }
    this.from = from;
    const result = entry.session.receive(d, now);
    this.from = null;
    this.lastResult = result;
    if (result === 'authenticated' || result === 'established') {
      entry.address = from;
      this.flush(entry, entry.address, Infinity);
    } else {
      this.flush(entry, from, d.length);
    }
    return entry;
  }

  /**
   * A message of `entry`'s session, straight from its `receive` (the entry is the session's
   * `MessageSink`): the record authenticated, so the session's address moves to its source first.
   * @internal
   */
  deliver(entry: SessionEntry, data: Uint8Array): void {
    if (this.from !== null) entry.address = this.from;
    if (this.onMessage !== null && this.events.length === 0 && !entry.halfOpen) this.onMessage(entry, data);
    else this.events.push({ type: 'sessionEvent', entry, event: { type: 'message', data } });
  }

  /** Runs every session whose timeout is due. */
  handleTimeout(now: number): void {
    this.clock = now;
    for (const entry of this.sessions.values()) {
      if (entry.due > now) continue;
      entry.session.handleTimeout(now);
      this.flush(entry, entry.address, Infinity);
    }
  }

  /** Sends `message` on a session (the transport calls this for `UdpSession.send`). */
  send(entry: SessionEntry, message: Uint8Array, now: number): void {
    entry.session.send(message, now);
    this.flush(entry, entry.address, Infinity);
  }

  /**
   * `send`, returning the datagram of a message that fits one, for the transport to send to
   * `entry.address` at once (see `DatagramSession.sealMessage`); a larger message goes to
   * `takeOutput` as fragments, and null is returned. Throws as `send` does.
   */
  sendMessage(entry: SessionEntry, message: Uint8Array, now: number): Uint8Array | null {
    // (A datagram returned moves the keepalive later: `due` may now be early, which costs one
    // idle `handleTimeout` call at most.)
    const d = entry.session.sealMessage(message, now);
    if (d === null) this.flush(entry, entry.address, Infinity);
    return d;
  }

  close(entry: SessionEntry, now: number): void {
    entry.session.close(now);
    this.flush(entry, entry.address, Infinity);
  }

  takeOutput(): Outgoing[] {
    const out = this.output;
    if (out.length) this.output = [];
    return out;
  }

  takeEvents(): EndpointEvent[] {
    const ev = this.events;
    if (ev.length) this.events = [];
    return ev;
  }

  /** The earliest time any session needs `handleTimeout`. */
  nextTimeout(): number {
    let t = Infinity;
    for (const e of this.sessions.values()) if (e.due < t) t = e.due;
    return t;
  }

  private create(d: Uint8Array, id: string, from: PeerAddress, now: number): SessionEntry | undefined {
    const connectionId = Uint8Array.from(d.subarray(1, DATAGRAM_PREFIX_SIZE));
    let handshake: Handshake | undefined;
    if (this.stateless) {
      // The suite answers the first flight without state; only a message carrying its token
      // (box: the Vouch') makes a session.
      const m = readHandshakeDatagram(d, this.padTo);
      if (!m) return undefined;
      try {
        const answer = this.stateless.answer(m, connectionId, now);
        if (answer !== 'resume') {
          this.lastResult = 'handshake';
          const replies = answer.map((r) => encodeHandshakeDatagram(r.type, connectionId, r.payload));
          if (replies.reduce((n, r) => n + r.length, 0) > d.length) this.amplificationDrops++;
          else for (const data of replies) this.output.push({ to: from, data });
          return undefined;
        }
      } catch (e) {
        this.lastResult = 'dropped';
        this.reportDropped(asSealwireError(e, 'HANDSHAKE_FAILED', 'handshake'), from, now);
        this.reject(connectionId, from);
        return undefined;
      }
    }
    const count = this.perAddress.get(from.address) ?? 0;
    if (this.halfOpen >= this.maxHandshakes && count < this.maxPerAddress && this.established < this.maxSessions) {
      // At the server's bound the oldest handshake in progress goes, not the new one (as over
      // TCP): a flood from many addresses cannot lock legitimate clients out, it only ages the
      // half-open handshakes faster. The per-address bound still refuses new ones.
      this.evictOldestHalfOpen(now);
    }
    if (this.halfOpen >= this.maxHandshakes || count >= this.maxPerAddress || this.established >= this.maxSessions) {
      this.limitDrops++;
      if (now - this.lastLimitReport >= 1000) {
        this.lastLimitReport = now;
        const what = count >= this.maxPerAddress ? `from ${from.address} (limit ${this.maxPerAddress} per address)` : `(limit ${this.maxHandshakes} per server, ${this.maxSessions} sessions)`;
        this.events.push({ type: 'handshakeError', error: new SealwireError('LIMIT', `too many handshakes in progress ${what}; new handshakes dropped`), from });
      }
      return undefined;
    }
    const o = this.options;
    if (this.stateless) {
      try {
        handshake = this.stateless.resume(readHandshakeDatagram(d, this.padTo)!, connectionId, now);
      } catch (e) {
        this.lastResult = 'dropped';
        this.reportDropped(asSealwireError(e, 'HANDSHAKE_FAILED', 'handshake'), from, now);
        this.reject(connectionId, from);
        return undefined;
      }
    }
    if (!handshake) {
      try {
        handshake = o.suite.server({ ...o.config, connectionId });
      } catch (e) {
        // A suite that cannot start a handshake now (no key ready, a bad config) drops this one
        // datagram; it never throws into the socket's message handler.
        this.lastResult = 'dropped';
        this.reportDropped(asSealwireError(e, 'HANDSHAKE_FAILED', 'cannot start the handshake'), from, now);
        return undefined;
      }
    }
    const fresh = !this.stateless;
    const session = new DatagramSession(handshake, {
      now,
      connectionId,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      idleTimeoutMs: o.idleTimeoutMs,
      keepaliveMs: o.keepaliveMs,
      profile: o.suite.datagram,
      datagramsOwned: o.datagramsOwned,
      allocate: o.allocate,
    });
    session.start(now);
    const result = session.receive(d, now);
    this.lastResult = result;
    if (result === 'dropped' && fresh) {
      // A first message that fails leaves nothing behind (garbage, floods, other suites). (A
      // session resumed from a valid token stays, half-open: the token is spent, and the client's
      // retransmission must find it.)
      const ev = session.takeEvents().find((e) => e.type === 'handshakeDropped');
      if (ev && ev.type === 'handshakeDropped') {
        this.reportDropped(ev.error, from, now);
        this.reject(connectionId, from);
      }
      session.fail(new SealwireError('HANDSHAKE_FAILED', 'dropped'));
      return undefined;
    }
    const entry = new Entry(id, session, from, this);
    session.messageSink = entry;
    this.sessions.set(id, entry);
    this.halfOpen++;
    this.halfOpenEntries.add(entry);
    this.perAddress.set(from.address, count + 1);
    this.flush(entry, from, d.length);
    return entry;
  }

  /**
   * Moves a session's output and events out. `budget` is the size of the unauthenticated datagram
   * being answered (Infinity when the answer follows authenticated input or a timer of an open
   * session): a reply larger than it is withheld whole.
   */
  private flush(entry: SessionEntry, to: PeerAddress, budget: number): void {
    const s = entry.session;
    const out = s.takeOutput();
    if (out.length) {
      let total = 0;
      for (const o of out) total += o.length;
      if (total > budget) {
        this.amplificationDrops++;
      } else {
        for (const data of out) this.output.push({ to, data });
      }
    }
    for (const event of s.takeEvents()) {
      if (event.type === 'secure') {
        this.leaveHalfOpen(entry);
        this.established++;
        this.events.push({ type: 'session', entry });
      } else if (event.type === 'handshakeDropped') {
        this.reportDropped(event.error, to, this.clock);
        if (budget !== Infinity) this.reject(s.connectionId, to);
      } else {
        if (event.type === 'close') {
          this.forget(entry);
          if (entry.halfOpen) {
            // Never given to the application: a failed handshake, reported as one.
            this.leaveHalfOpen(entry);
            if (event.error) this.events.push({ type: 'handshakeError', error: event.error, from: entry.address });
            continue;
          }
          this.established--;
        }
        this.events.push({ type: 'sessionEvent', entry, event });
      }
    }
    entry.due = s.nextTimeout();
  }

  /**
   * Reports a dropped handshake datagram, at most `REPORTS_PER_SECOND` a second: on UDP garbage
   * costs an attacker nothing, and the operator's log must not be the thing that drowns.
   */
  private reportDropped(error: SealwireError, from: PeerAddress, now: number): void {
    this.droppedHandshakeDatagrams++;
    if (now - this.reportWindowStart >= 1000) {
      if (this.suppressed > 0) {
        this.events.push({ type: 'handshakeError', error: new SealwireError('HANDSHAKE_FAILED', `${this.suppressed} more failed handshake datagrams not shown`), from });
      }
      this.reportWindowStart = now;
      this.reportsInWindow = 0;
      this.suppressed = 0;
    }
    if (this.reportsInWindow++ < REPORTS_PER_SECOND) this.events.push({ type: 'handshakeError', error, from });
    else this.suppressed++;
  }

  /** The suite's error reply (`type ‖ cid`, 9 bytes) to a failed handshake message, if it has one. */
  private reject(cid: Uint8Array, to: PeerAddress): void {
    const type = this.options.suite.datagram?.rejectType;
    if (type !== undefined) this.output.push({ to, data: encodeNotice(type, cid) });
  }

  private evictOldestHalfOpen(now: number): void {
    const oldest = this.halfOpenEntries.values().next().value;
    if (!oldest) return;
    this.limitDrops++;
    oldest.session.fail(new SealwireError('LIMIT', 'dropped'));
    oldest.session.takeOutput(); // nothing is sent for it
    oldest.session.takeEvents(); // reported below, at most once a second (a flood must not flood the log)
    this.leaveHalfOpen(oldest);
    this.forget(oldest);
    if (now - this.lastLimitReport >= 1000) {
      this.lastLimitReport = now;
      this.events.push({ type: 'handshakeError', error: new SealwireError('LIMIT', `too many handshakes in progress (limit ${this.maxHandshakes} per server); the oldest are dropped`), from: oldest.address });
    }
  }

  private forget(entry: SessionEntry): void {
    this.sessions.delete(entry.id);
    if (this.recent === entry) this.recent = null;
  }

  private leaveHalfOpen(entry: SessionEntry): void {
    if (!entry.halfOpen) return;
    entry.halfOpen = false;
    this.halfOpenEntries.delete(entry);
    this.halfOpen--;
    const n = (this.perAddress.get(entry.firstAddress) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(entry.firstAddress);
    else this.perAddress.set(entry.firstAddress, n);
  }
}
