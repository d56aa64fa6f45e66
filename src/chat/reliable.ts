/**
 * Reliable, ordered delivery of chat messages over a datagram session that may lose, reorder or
 * duplicate packets: the chat's own layer, so it holds whatever the transport below does.
 *
 * Sans-I/O: time is passed in, output is taken, nothing here touches a socket or a timer
 * (`ReliableChannel` in channel.ts does that). Each direction numbers its messages with a u32
 * sequence number starting at 0.
 *
 *     DATA  0x01 ‖ seq (u32) ‖ payload
 *     ACK   0x02 ‖ next (u32: every seq below it arrived) ‖ bitmap (u64: bit i ⇒ next+1+i arrived)
 *
 * Sender: sends only sequence numbers within `window` of the oldest unacknowledged one (more
 * wait in a bounded queue); each
 * is retransmitted when its timer runs out, the timer doubling each time up to `maxRtoMs`. The
 * first timeout comes from the measured round trip (RFC 6298: srtt + 4·rttvar, at least
 * `minRtoMs`, sampled only from messages sent once), `initialRtoMs` before any sample; a message still unacknowledged after `maxAttempts` sends fails the channel with
 * `TIMEOUT`. Receiver: buffers messages that arrive early (within the window), delivers strictly
 * in sequence order, drops duplicates, and acknowledges every DATA (acks coalesce until the next
 * `takeOutput`), so a lost ACK costs one retransmission, never a duplicate delivery.
 */
import { SealwireError } from '../errors.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';

export const RELIABLE_DATA = 0x01;
export const RELIABLE_ACK = 0x02;
const DATA_HEADER = 1 + 4;
const ACK_SIZE = 1 + 4 + 8;
/** Bits in the ACK bitmap, and the largest window the bitmap can describe. */
const BITMAP_BITS = 64;
const SEQ_LIMIT = 0xffff_ffff;

export interface ReliableOptions {
  /** Messages in flight before the sender waits for acknowledgements (1-64, default 64). */
  window?: number;
  /** Retransmission timeout before any round trip was measured, milliseconds (default 150). */
  initialRtoMs?: number;
  /** Floor of the measured retransmission timeout, milliseconds (default 40). */
  minRtoMs?: number;
  /** Ceiling of the doubling retransmission timeout, milliseconds (default 2000). */
  maxRtoMs?: number;
  /** Sends of one message before the channel gives up with `TIMEOUT` (default 12). */
  maxAttempts?: number;
  /** Messages waiting to enter the window before `send` refuses with `LIMIT` (default 10 000). */
  maxQueued?: number;
  /** Payload bytes sent but not yet acknowledged (queued or in flight) before `send` refuses
   * with `LIMIT` (default 64 MiB; the chat server passes its smaller `maxBufferedBytes`): what a
   * peer that stops acknowledging can make us hold. */
  maxBufferedBytes?: number;
  /** Largest payload accepted from the peer, bytes (default 64 KiB). */
  maxPayload?: number;
}

interface InFlight {
  readonly seq: number;
  readonly payload: Uint8Array;
  /** When it was first sent (the round-trip sample, if it is never retransmitted). */
  sentAt: number;
  attempts: number;
  rto: number;
  due: number;
}

export class ReliableCore {
  private readonly window: number;
  private readonly initialRto: number;
  private readonly maxRto: number;
  private readonly minRto: number;
  /** RFC 6298 estimator: smoothed round trip and its variation (ms), once sampled. */
  private srtt: number | undefined;
  private rttvar = 0;
  private rto: number;
  private readonly maxAttempts: number;
  private readonly maxQueued: number;
  private readonly maxPayload: number;
  private readonly maxBufferedBytes: number;
  private bufferedBytes = 0;

  private nextSendSeq = 0;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly queued: Uint8Array[] = [];
  private nextExpected = 0;
  private readonly early = new Map<number, Uint8Array>();
  private ackPending = false;
  private output: Uint8Array[] = [];
  private failure: SealwireError | null = null;
  /** Counters for tests and diagnostics. */
  readonly stats = { sent: 0, retransmitted: 0, duplicates: 0, delivered: 0 };

  constructor(options: ReliableOptions = {}) {
    this.window = clampInt(options.window ?? BITMAP_BITS, 1, BITMAP_BITS, 'window');
    this.initialRto = clampInt(options.initialRtoMs ?? 150, 1, 60_000, 'initialRtoMs');
    this.maxRto = clampInt(options.maxRtoMs ?? 2000, this.initialRto, 600_000, 'maxRtoMs');
    this.minRto = clampInt(options.minRtoMs ?? Math.min(40, this.initialRto), 1, this.initialRto, 'minRtoMs');
    this.rto = this.initialRto;
    this.maxAttempts = clampInt(options.maxAttempts ?? 12, 1, 1000, 'maxAttempts');
    this.maxQueued = clampInt(options.maxQueued ?? 10_000, 1, 10_000_000, 'maxQueued');
    this.maxBufferedBytes = clampInt(options.maxBufferedBytes ?? 64 * 1024 * 1024, 1, 1024 * 1024 * 1024, 'maxBufferedBytes');
    this.maxPayload = clampInt(options.maxPayload ?? 64 * 1024, 1, 16 * 1024 * 1024, 'maxPayload');
  }

  /** The first fatal error, if any. */
  get error(): SealwireError | null {
    return this.failure;
  }

  /** True when every message sent so far has been acknowledged. */
  get idle(): boolean {
    return this.inFlight.size === 0 && this.queued.length === 0;
  }

  /** Queues a message for reliable delivery. Throws `LIMIT` when the queue is full. */
  send(payload: Uint8Array, now: number): void {
    this.checkAlive();
    if (this.queued.length >= this.maxQueued) {
      throw new SealwireError('LIMIT', `more than ${this.maxQueued} chat messages waiting for acknowledgement`);
    }
    if (this.bufferedBytes + payload.length > this.maxBufferedBytes) {
      throw new SealwireError('LIMIT', `more than ${this.maxBufferedBytes} bytes of chat messages waiting for acknowledgement`);
    }
    this.bufferedBytes += payload.length;
    this.queued.push(payload);
    this.fillWindow(now);
  }

  /**
   * Takes one datagram from the peer and returns the payloads it makes deliverable, in order.
   * A malformed datagram throws `BAD_RECORD` (the caller decides whether to drop it or close).
   */
  receive(datagram: Uint8Array, now: number): Uint8Array[] {
    this.checkAlive();
    const type = datagram[0];
    if (type === RELIABLE_DATA) return this.receiveData(datagram);
    if (type === RELIABLE_ACK) {
      this.receiveAck(datagram, now);
      return [];
    }
    throw new SealwireError('BAD_RECORD', `chat datagram of unknown type ${type === undefined ? '(empty)' : `0x${type.toString(16)}`}`);
  }

  /** Retransmits what is due; fails the channel with `TIMEOUT` when a message ran out of attempts. */
  handleTimeout(now: number): void {
    if (this.failure) return;
    for (const m of this.inFlight.values()) {
      if (m.due > now) continue;
      if (m.attempts >= this.maxAttempts) {
        this.failure = new SealwireError('TIMEOUT', `chat message ${m.seq} not acknowledged after ${m.attempts} sends: the peer is gone or the path is down`);
        return;
      }
      m.rto = Math.min(m.rto * 2, this.maxRto);
      this.transmit(m, now);
      this.stats.retransmitted++;
    }
  }

  /** When `handleTimeout` should next be called (absolute time), or undefined if nothing waits. */
  nextTimeout(): number | undefined {
    let due: number | undefined;
    for (const m of this.inFlight.values()) if (due === undefined || m.due < due) due = m.due;
    return due;
  }

  /** Datagrams to send now (DATA and at most one ACK). */
  takeOutput(): Uint8Array[] {
    if (this.ackPending) {
      this.ackPending = false;
      this.output.push(this.encodeAck());
    }
    const out = this.output;
    this.output = [];
    return out;
  }

  private checkAlive(): void {
    if (this.failure) throw this.failure;
  }

  private fillWindow(now: number): void {
    // The window is a range of sequence numbers from the oldest unacknowledged one, not a count:
    // with selective acknowledgements a count would let the sender run past what the receiver
    // buffers (and past what one ACK bitmap can describe) while an old message is still missing.
    while (this.queued.length > 0 && this.nextSendSeq < this.windowBase() + this.window) {
      if (this.nextSendSeq >= SEQ_LIMIT) {
        this.failure = new SealwireError('LIMIT', 'chat sequence numbers exhausted: the session must be reopened');
        throw this.failure;
      }
      const m: InFlight = { seq: this.nextSendSeq++, payload: this.queued.shift()!, sentAt: now, attempts: 0, rto: this.rto, due: 0 };
      this.inFlight.set(m.seq, m);
      this.transmit(m, now);
      this.stats.sent++;
    }
  }

  private windowBase(): number {
    for (const seq of this.inFlight.keys()) return seq; // Map order is insertion order: the oldest
    return this.nextSendSeq;
  }

  private transmit(m: InFlight, now: number): void {
    m.attempts++;
    m.due = now + m.rto;
    const w = new Writer(DATA_HEADER + m.payload.length);
    this.output.push(w.u8(RELIABLE_DATA).u32(m.seq).bytes(m.payload).finish());
  }

  private receiveData(datagram: Uint8Array): Uint8Array[] {
    if (datagram.length - DATA_HEADER > this.maxPayload) {
      throw new SealwireError('TOO_LARGE', `chat message of ${datagram.length - DATA_HEADER} bytes exceeds the ${this.maxPayload}-byte limit`);
    }
    const r = new Reader(datagram, 'chat DATA');
    r.u8('type');
    const seq = r.u32('sequence number');
    const payload = r.rest();
    // Always acknowledge, even duplicates: the duplicate means our earlier ACK was lost.
    this.ackPending = true;
    if (seq < this.nextExpected || this.early.has(seq)) {
      this.stats.duplicates++;
      return [];
    }
    if (seq - this.nextExpected > BITMAP_BITS) return []; // beyond any window the peer may use: drop
    if (seq !== this.nextExpected) {
      this.early.set(seq, Buffer.from(payload));
      return [];
    }
    const delivered: Uint8Array[] = [Buffer.from(payload)];
    this.nextExpected++;
    for (let next = this.early.get(this.nextExpected); next !== undefined; next = this.early.get(this.nextExpected)) {
      this.early.delete(this.nextExpected);
      delivered.push(next);
      this.nextExpected++;
    }
    this.stats.delivered += delivered.length;
    return delivered;
  }

  private receiveAck(datagram: Uint8Array, now: number): void {
    if (datagram.length !== ACK_SIZE) throw new SealwireError('BAD_RECORD', `chat ACK must be ${ACK_SIZE} bytes, got ${datagram.length}`);
    const r = new Reader(datagram, 'chat ACK');
    r.u8('type');
    const next = r.u32('next');
    const bitmap = r.u64('bitmap');
    r.end();
    if (next > this.nextSendSeq) throw new SealwireError('BAD_RECORD', `chat ACK acknowledges ${next} but only ${this.nextSendSeq} were sent`);
    for (const [seq, m] of this.inFlight) {
      const bit = seq - next - 1;
      if (seq < next || (bit >= 0 && bit < BITMAP_BITS && ((bitmap >> BigInt(bit)) & 1n) === 1n)) {
        this.inFlight.delete(seq);
        this.bufferedBytes -= m.payload.length;
        if (m.attempts === 1) this.sampleRtt(now - m.sentAt); // Karn: never from a retransmitted one
      }
    }
    this.fillWindow(now);
  }

  /** The current retransmission timeout for new messages (ms). */
  get currentRto(): number {
    return this.rto;
  }

  private sampleRtt(sample: number): void {
    const r = Math.max(0, sample);
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(this.maxRto, Math.max(this.minRto, Math.ceil(this.srtt + 4 * this.rttvar)));
  }

  private encodeAck(): Uint8Array {
    let bitmap = 0n;
    for (const seq of this.early.keys()) {
      const bit = seq - this.nextExpected - 1;
      if (bit >= 0 && bit < BITMAP_BITS) bitmap |= 1n << BigInt(bit);
    }
    return new Writer(ACK_SIZE).u8(RELIABLE_ACK).u32(this.nextExpected).u64(bitmap).finish();
  }
}

function clampInt(v: number, min: number, max: number, name: string): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new SealwireError('INVALID_ARGUMENT', `reliable channel: ${name} must be an integer ${min}-${max}, got ${v}`);
  return v;
}
