/**
 * The sans-I/O datagram session: one side of a UDP session, as a state machine.
 *
 *     start(now)              → the client's first flight
 *     receive(datagram, now)  → what it was ('authenticated', 'established', 'handshake', 'dropped')
 *     send(message, now)      → one DATA record, or FRAGMENT records
 *     close(now)              → the CLOSE record
 *     handleTimeout(now)      → retransmission, handshake deadline, keepalive, idle timeout
 *     takeOutput() / takeEvents()
 *
 * It is generic over suites: the suite's handshake exchanges (type, payload) messages, which travel
 * as `type ‖ connection id ‖ payload` datagrams (record/datagram.ts). What UDP adds:
 *
 * - Loss: the client retransmits its last flight with exponential backoff until the next message
 *   of the handshake arrives; the server answers a repeat of the last message it accepted with its
 *   last flight again (so it never runs a handshake step twice), until the first authenticated
 *   record shows the client is done.
 * - Forgery: on UDP anyone can send anything. A handshake message that fails is dropped and the
 *   handshake keeps waiting for the real one (the failure is reported as a non-fatal event, and named
 *   in the timeout error); only `UNKNOWN_PEER` on the client (the pinned key refused) ends it. A
 *   record that does not authenticate or repeats is dropped; the session goes on.
 * - Silence: a handshake deadline; once open, an idle timeout (no authenticated record) and a
 *   keepalive record whenever this side has sent nothing for a while.
 *
 * The per-record path is lean (docs/ARCHITECTURE.md, "UDP per-record path"): `sealMessage` returns
 * the one datagram of a small message for the caller to send at once, sealed into the caller's
 * buffer (`allocate`); a received DATA record goes straight to an attached `MessageSink` instead of
 * an event object; no exception, closure or bigint arithmetic per record. What an open, idle
 * session keeps is small: the handshake is dropped once it has produced the keys, and the server's
 * last flight (kept to answer a repeated last message) goes with the first authenticated record,
 * or one handshake timeout after the session opened.
 */
import { SealwireError, asSealwireError } from '../errors.js';
import { blake2b } from '../crypto/box.js';
import type { PublicKey } from '../keys/key.js';
import type { Allocate } from '../record/buffers.js';
import { readU32BE } from '../record/u64.js';
import {
  CONNECTION_ID_SIZE,
  DATAGRAM_PREFIX_SIZE,
  DatagramReceiver,
  DatagramSender,
  DatagramType,
  RECORD_HEADER_SIZE,
  encodeHandshakeDatagram,
  isDatagramRecordType,
  isHandshakeType,
  readHandshakeDatagram,
} from '../record/datagram.js';
import { MAX_DATAGRAM_PLAINTEXT, Reassembler, fragmentCount, writeFragment, type ReassemblyLimits } from '../record/fragment.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../record/limits.js';
import type { DatagramProfile, Handshake, HandshakeMessage, HandshakeStep } from './handshake.js';

export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Where fragments are written before sealing: shared, as sealing copies them out at once. */
const fragmentScratch = new Uint8Array(MAX_DATAGRAM_PLAINTEXT);
export const DEFAULT_KEEPALIVE_MS = 15_000;
export const INITIAL_RTO_MS = 250;
export const MAX_RTO_MS = 2_000;

export type DatagramEvent =
  | { readonly type: 'secure'; readonly peerPublicKey: PublicKey | null }
  | { readonly type: 'message'; readonly data: Uint8Array }
  /** The session ended: `error` null for the peer's authenticated close or our own `close()`. */
  | { readonly type: 'close'; readonly error: SealwireError | null }
  /** A handshake datagram was dropped because it failed (not fatal: it may be forged). */
  | { readonly type: 'handshakeDropped'; readonly error: SealwireError }
  /** An unauthenticated notice from the server: `error` (handshake failed) or `handshake-again`. */
  | { readonly type: 'notice'; readonly kind: 'error' | 'handshake-again' };

export type ReceiveResult = 'authenticated' | 'established' | 'handshake' | 'dropped';

/**
 * Takes received messages straight from `receive`, in order, instead of `message` events (one
 * direct call per message, no event object). Attached by a transport once the application has
 * the session; while other events wait in `takeEvents`, messages queue behind them as events.
 */
export interface MessageSink {
  message(data: Uint8Array): void;
}

export interface DatagramSessionOptions {
  /** Current time in milliseconds (monotonic); starts the handshake deadline. */
  readonly now: number;
  /** The connection id (8 bytes): chosen by the client, sent in every datagram. */
  readonly connectionId: Uint8Array;
  readonly handshakeTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly keepaliveMs?: number;
  readonly initialRtoMs?: number;
  readonly reassembly?: ReassemblyLimits;
  /** The suite's datagram profile (record header mode, notice types). */
  readonly profile?: DatagramProfile;
  /**
   * The caller hands each datagram over to `receive` and never reads it again, so records may be
   * decrypted in place (the UDP transport: every datagram is a fresh buffer). Default false.
   */
  readonly datagramsOwned?: boolean;
  /**
   * Where records are sealed (see `DatagramSenderOptions.allocate`): a transport that sends each
   * datagram as soon as it takes it passes its send buffers. Default: a fresh buffer per record.
   */
  readonly allocate?: Allocate;
}

export type DatagramPhase = 'handshake' | 'open' | 'closed';

export class DatagramSession {
  readonly connectionId: Uint8Array;
  /** Receives messages directly once set (see `MessageSink`); null: `message` events. */
  messageSink: MessageSink | null = null;
  /** Until the keys exist; dropped (after `wipe`) once the session is open or closed. */
  private handshake: Handshake | null;
  private readonly roleValue: 'client' | 'server';
  /** The connection id as two 32-bit words, to check each datagram's id without a copy. */
  private readonly cidHigh: number;
  private readonly cidLow: number;
  private phaseValue: DatagramPhase = 'handshake';
  private output: Uint8Array[] = [];
  private events: DatagramEvent[] = [];
  private sender: DatagramSender | null = null;
  private receiver: DatagramReceiver | null = null;
  private peer: PublicKey | null = null;
  private failure: SealwireError | null = null;
  private readonly deadline: number;
  private readonly idleTimeoutMs: number;
  private readonly keepaliveMs: number;
  private readonly initialRto: number;
  /** Created with the first fragment: most sessions never need one. */
  private reassembler: Reassembler | null = null;
  private readonly reassemblyLimits: ReassemblyLimits | undefined;
  /** The flight to repeat: the client's on timeout, the server's on a repeated request. */
  private lastFlight: Uint8Array[] | null = null;
  /**
   * Server: a digest (BLAKE2b-256) of the last handshake message it accepted, as decoded
   * (type ‖ payload): a repeat gets `lastFlight` again. Compared by content, so no other encoding
   * of it passes for a new message.
   */
  private lastAccepted: Uint8Array | null = null;
  /** Server, open: when `lastFlight` goes even without an authenticated record (see `apply`). */
  private flightExpiry = Infinity;
  private readonly handshakeTimeoutMs: number;
  private readonly allocate: Allocate | undefined;
  private rto: number;
  private retransmitAt = Infinity;
  private lastReceived: number;
  private lastSent: number;
  private lastDropReason: SealwireError | null = null;
  private messageId = 0;
  /** Client: established, but waiting for the server's first record (see `apply`). */
  private awaitingAck = false;
  private readonly profile: DatagramProfile;
  private readonly rejectType: number;
  private readonly againType: number;
  private readonly owned: boolean;
  /** Records that failed authentication (for the operator; forged records cost a decryption). */
  badRecords = 0;

  constructor(handshake: Handshake, options: DatagramSessionOptions) {
    if (options.connectionId.length !== CONNECTION_ID_SIZE) throw new SealwireError('INVALID_ARGUMENT', 'connection id must be 8 bytes');
    this.handshake = handshake;
    this.roleValue = handshake.role;
    this.connectionId = options.connectionId;
    this.cidHigh = readU32BE(options.connectionId, 0);
    this.cidLow = readU32BE(options.connectionId, 4);
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.deadline = options.now + this.handshakeTimeoutMs;
    this.allocate = options.allocate;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.initialRto = options.initialRtoMs ?? INITIAL_RTO_MS;
    this.rto = this.initialRto;
    this.reassemblyLimits = options.reassembly;
    this.profile = options.profile ?? {};
    this.owned = options.datagramsOwned === true;
    this.rejectType = this.profile.rejectType ?? DatagramType.ERROR;
    this.againType = this.profile.handshakeAgainType ?? DatagramType.HANDSHAKE_AGAIN;
    this.lastReceived = options.now;
    this.lastSent = options.now;
  }

  get phase(): DatagramPhase {
    return this.phaseValue;
  }

  get role(): 'client' | 'server' {
    return this.roleValue;
  }

  get error(): SealwireError | null {
    return this.failure;
  }

  get peerPublicKey(): PublicKey | null {
    return this.peer;
  }

  /** What the handshake waits for (for error messages). */
  get awaiting(): string {
    return this.handshake?.awaiting ?? (this.phaseValue === 'closed' ? 'nothing (the session is closed)' : 'nothing (the handshake is done)');
  }

  /** Starts the handshake: the client sends its first flight. */
  start(now: number): void {
    const handshake = this.handshake;
    if (handshake) this.guard(() => this.apply(handshake.start(), now));
  }

  /**
   * Takes one datagram addressed to this session. Never throws (unless an attached `MessageSink`
   * does: its exception comes out of this call, after the record has been fully accepted).
   */
  receive(d: Uint8Array, now: number): ReceiveResult {
    if (this.phaseValue === 'closed' || d.length < DATAGRAM_PREFIX_SIZE) return 'dropped';
    // (A server endpoint routes by this id already; a client checks it.)
    if (this.roleValue === 'client' && !this.isOwnId(d)) return 'dropped';
    const type = d[0]!;
    if (isDatagramRecordType(type)) return this.onRecord(d, type, now);
    if (this.roleValue === 'client' && d.length === DATAGRAM_PREFIX_SIZE && (type === this.rejectType || type === this.againType)) {
      // Unauthenticated hints: anyone could send them, so they end nothing by themselves.
      if (type === this.rejectType) {
        this.events.push({ type: 'notice', kind: 'error' });
        if (this.phaseValue === 'handshake') {
          this.lastDropReason = new SealwireError('HANDSHAKE_FAILED', 'the server answered with its error reply (is this client authorized, and is the pinned key right?)');
        }
      } else {
        this.events.push({ type: 'notice', kind: 'handshake-again' });
      }
      return 'dropped';
    }
    if (isHandshakeType(type)) return this.onHandshake(d, type, now);
    return 'dropped';
  }

  /** Sends one message (up to 64 KiB; fragmented above one datagram). Throws `CLOSED` unless open. */
  send(message: Uint8Array, now: number): void {
    const d = this.sealMessage(message, now);
    if (d !== null) this.push(d, now);
  }

  /**
   * Like `send`, but a message that fits one datagram is returned as that datagram, for the caller
   * to send at once, instead of waiting in `takeOutput` (the per-message path of a transport: no
   * queue). A larger message goes to `takeOutput` as fragments, and null is returned. Throws
   * `CLOSED` unless open, `TOO_LARGE` over 64 KiB, `LIMIT` at the sequence limit.
   */
  sealMessage(message: Uint8Array, now: number): Uint8Array | null {
    const sender = this.openSender();
    if (message.length <= MAX_DATAGRAM_PLAINTEXT) {
      const d = sender.seal(DatagramType.DATA, message);
      this.lastSent = now;
      return d;
    }
    const count = fragmentCount(message);
    const id = this.messageId++;
    // Each fragment is written into one scratch buffer and sealed (copied into its record) at once.
    for (let i = 0; i < count; i++) this.push(sender.seal(DatagramType.FRAGMENT, writeFragment(fragmentScratch, message, id, i, count)), now);
    return null;
  }

  /** Ends the session: sends the CLOSE record if open, wipes keys, reports `close`. */
  close(now: number): void {
    if (this.phaseValue === 'closed') return;
    if (this.phaseValue === 'open') {
      try {
        this.push(this.sender!.seal(DatagramType.CLOSE, new Uint8Array(0)), now);
      } catch {
        // at the sequence limit: the peer will time out instead
      }
    }
    this.end(null);
  }

  /** Ends the session with `error` (sticky) and no CLOSE record. */
  fail(error: SealwireError): void {
    if (this.phaseValue === 'closed') return;
    this.failure = error;
    this.output = [];
    this.end(error);
  }

  /** The next time `handleTimeout` has something to do. */
  nextTimeout(): number {
    switch (this.phaseValue) {
      case 'handshake':
        return Math.min(this.deadline, this.retransmitAt);
      case 'open': {
        if (this.awaitingAck) return Math.min(this.deadline, this.retransmitAt);
        const t = Math.min(this.lastReceived + this.idleTimeoutMs, this.lastSent + this.keepaliveMs, this.flightExpiry);
        const r = this.reassembler?.nextExpiry() ?? null;
        return r === null ? t : Math.min(t, r);
      }
      case 'closed':
        return Infinity;
    }
  }

  handleTimeout(now: number): void {
    if (this.phaseValue === 'handshake') {
      if (now >= this.deadline) {
        const why = this.lastDropReason ? `; last rejected handshake message: ${this.lastDropReason.message}` : ' (no answer: is the server running, and is this the right port?)';
        this.fail(new SealwireError('TIMEOUT', `handshake did not finish in time (waiting for ${this.awaiting})${why}`));
        return;
      }
      if (now >= this.retransmitAt && this.lastFlight) {
        for (const d of this.lastFlight) this.push(d, now);
        this.rto = Math.min(this.rto * 2, MAX_RTO_MS);
        this.retransmitAt = now + this.rto;
      }
      return;
    }
    if (this.phaseValue !== 'open') return;
    if (this.awaitingAck) {
      // Our last handshake message is out, keys are ready; the server's first record confirms it.
      if (now >= this.deadline) {
        this.fail(new SealwireError('TIMEOUT', 'the server never confirmed the last handshake message (no record from it)'));
      } else if (now >= this.retransmitAt && this.lastFlight) {
        for (const d of this.lastFlight) this.push(d, now);
        this.rto = Math.min(this.rto * 2, MAX_RTO_MS);
        this.retransmitAt = now + this.rto;
      }
      return;
    }
    if (now >= this.lastReceived + this.idleTimeoutMs) {
      this.fail(new SealwireError('TIMEOUT', `no authenticated packet from the peer for ${Math.round(this.idleTimeoutMs / 1000)} s`));
      return;
    }
    if (now >= this.flightExpiry) this.dropFlight();
    this.reassembler?.expire(now);
    if (now >= this.lastSent + this.keepaliveMs) this.guard(() => this.push(this.openSender().seal(DatagramType.KEEPALIVE, new Uint8Array(0)), now));
  }

  takeOutput(): Uint8Array[] {
    const out = this.output;
    if (out.length) this.output = [];
    return out;
  }

  takeEvents(): DatagramEvent[] {
    const ev = this.events;
    if (ev.length) this.events = [];
    return ev;
  }

  // --- internals --------------------------------------------------------------------------------

  private onHandshake(d: Uint8Array, type: number, now: number): ReceiveResult {
    // The client's datagrams are read at the suite's padding; the server's are never padded.
    const read = readHandshakeDatagram(d, this.roleValue === 'server' ? (this.profile.padClientHandshakeTo ?? 0) : 0);
    if (!read) {
      if (this.phaseValue === 'handshake') {
        // Reported like a message that fails (the server answers its 9-byte error notice).
        this.lastDropReason = new SealwireError('HANDSHAKE_FAILED', 'a handshake datagram not in the one encoding its sender writes (length or padding)');
        this.events.push({ type: 'handshakeDropped', error: this.lastDropReason });
      }
      return 'dropped';
    }
    if (this.roleValue === 'server' && this.lastAccepted && this.lastFlight && equalBytes(messageDigest(read), this.lastAccepted)) {
      // The client did not get our answer: the same answer again (never a second handshake step),
      // to the sender only (the server moves a session's address on authenticated records alone).
      for (const f of this.lastFlight) this.push(f, now);
      return 'handshake';
    }
    const handshake = this.handshake;
    if (this.phaseValue !== 'handshake' || !handshake) return 'dropped';
    const message: HandshakeMessage = read;
    let step: HandshakeStep;
    try {
      step = handshake.receive(message);
    } catch (e) {
      const error = asSealwireError(e, 'HANDSHAKE_FAILED', 'handshake');
      if (this.roleValue === 'client' && error.code === 'UNKNOWN_PEER') {
        this.fail(error);
        return 'dropped';
      }
      this.lastDropReason = error;
      this.events.push({ type: 'handshakeDropped', error });
      return 'dropped';
    }
    if (this.roleValue === 'server') this.lastAccepted = messageDigest(read);
    return this.guard(() => this.apply(step, now)) === true ? 'established' : 'handshake';
  }

  private onRecord(d: Uint8Array, type: number, now: number): ReceiveResult {
    const receiver = this.receiver;
    if (this.phaseValue !== 'open' || receiver === null || d.length < RECORD_HEADER_SIZE) return 'dropped';
    const plain = receiver.receive(d);
    if (plain === null) {
      if (receiver.dropReason === 'BAD_RECORD') this.badRecords++;
      return 'dropped';
    }
    this.lastReceived = now;
    // The peer has keys, so it has our last handshake flight: stop keeping it.
    if (this.lastFlight !== null || this.lastAccepted !== null) this.dropFlight();
    if (this.awaitingAck) {
      this.awaitingAck = false;
      this.retransmitAt = Infinity;
      this.events.push({ type: 'secure', peerPublicKey: this.peer });
    }
    switch (type) {
      case DatagramType.DATA:
        // Last: a sink may run application code, which may send or close (all state is settled).
        if (this.messageSink !== null && this.events.length === 0) this.messageSink.message(plain);
        else this.events.push({ type: 'message', data: plain });
        break;
      case DatagramType.FRAGMENT:
        try {
          const whole = (this.reassembler ??= new Reassembler(this.reassemblyLimits)).add(plain, now);
          if (whole) this.events.push({ type: 'message', data: whole });
        } catch {
          // malformed or over the bounds: this fragment is dropped, the session goes on
        }
        break;
      case DatagramType.KEEPALIVE:
        break;
      case DatagramType.CLOSE:
        this.end(null);
        break;
    }
    return 'authenticated';
  }

  /** Applies a handshake step; returns true when it established the session. */
  private apply(step: HandshakeStep, now: number): boolean {
    const padTo = this.roleValue === 'client' ? (this.profile.padClientHandshakeTo ?? 0) : 0;
    const flight = step.send.map((m) => encodeHandshakeDatagram(m.type, this.connectionId, m.payload, padTo));
    for (const f of flight) this.push(f, now);
    if (flight.length) {
      this.lastFlight = flight;
      this.rto = this.initialRto;
      this.retransmitAt = this.roleValue === 'client' ? now + this.rto : Infinity;
    }
    if (!step.established) return false;
    const e = step.established;
    this.sender = new DatagramSender(e.send, this.connectionId, this.profile.recordHeader, { allocate: this.allocate });
    this.receiver = new DatagramReceiver(e.receive, this.profile.recordHeader, this.owned);
    this.peer = e.peerPublicKey;
    this.handshake?.wipe();
    this.handshake = null;
    this.phaseValue = 'open';
    this.lastReceived = now;
    if (this.roleValue === 'client' && flight.length > 0) {
      // The client's last message (sid's 0x04) may be lost: keep sending it until the server's
      // first record shows it arrived, and report `secure` only then (the server is ready).
      this.awaitingAck = true;
      return true;
    }
    this.retransmitAt = Infinity;
    if (this.roleValue === 'client') this.lastFlight = null;
    else {
      if (flight.length === 0) {
        // The server verified the client's last message and has nothing to answer: an authenticated
        // (empty) record tells the client so; a repeat of that message gets the same record again.
        const ack = this.sender.seal(DatagramType.KEEPALIVE, new Uint8Array(0));
        this.push(ack, now);
        this.lastFlight = [ack];
      }
      // Kept in memory of its own (a slice of a shared pool would pin the whole pool), and only
      // while the client may still be waiting for it: its handshake deadline, at the latest.
      this.lastFlight = this.lastFlight?.map((f) => ownCopy(f)) ?? null;
      this.flightExpiry = this.lastFlight ? now + this.handshakeTimeoutMs : Infinity;
    }
    this.events.push({ type: 'secure', peerPublicKey: this.peer });
    for (const data of step.data ?? []) this.events.push({ type: 'message', data });
    return true;
  }

  private openSender(): DatagramSender {
    if (this.phaseValue !== 'open' || !this.sender) {
      throw this.failure ?? new SealwireError('CLOSED', this.phaseValue === 'closed' ? 'the session is closed' : 'the session is not established yet');
    }
    return this.sender;
  }

  private push(d: Uint8Array, now: number): void {
    this.output.push(d);
    this.lastSent = now;
  }

  private end(error: SealwireError | null): void {
    this.phaseValue = 'closed';
    this.handshake?.wipe();
    this.handshake = null;
    this.sender?.wipe();
    this.receiver?.wipe();
    this.dropFlight();
    this.events.push({ type: 'close', error });
  }

  /** Forgets the last flight and the message it answered. */
  private dropFlight(): void {
    this.lastFlight = null;
    this.lastAccepted = null;
    this.flightExpiry = Infinity;
  }

  /** Whether datagram `d` carries this session's connection id (bytes 1–8). */
  private isOwnId(d: Uint8Array): boolean {
    return readU32BE(d, 1) === this.cidHigh && readU32BE(d, 5) === this.cidLow;
  }

  private guard<T>(fn: () => T): T | false {
    try {
      return fn();
    } catch (e) {
      this.fail(asSealwireError(e, 'HANDSHAKE_FAILED', 'datagram session'));
      return false;
    }
  }
}

/** BLAKE2b-256 of `type ‖ payload`, in memory of its own (32 bytes). */
function messageDigest(m: { type: number; payload: Uint8Array }): Uint8Array {
  const all = new Uint8Array(1 + m.payload.length);
  all[0] = m.type;
  all.set(m.payload, 1);
  return blake2b(32, all); // a buffer of its own (Buffer.alloc)
}

/** A copy of `d` that shares memory with nothing else. */
function ownCopy(d: Uint8Array): Uint8Array {
  const c = new Uint8Array(d.length);
  c.set(d);
  return c;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
