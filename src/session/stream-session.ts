/**
 * The sans-I/O stream session: one side of a TCP (or any byte-stream) session, as a state machine.
 *
 *     receive(bytes)   → events (secure, data, end, error) and bytes to send
 *     send(data)       → bytes to send
 *     end()            → the close record
 *     handleTimeout(t) → the handshake deadline
 *
 * It owns framing, the handshake-to-records switch, half-close and truncation detection; the
 * suite's handshake owns the cryptography of the handshake, and the suite's `RecordCipher` that of
 * each record. No sockets, timers or clocks here: the transport passes time in and moves bytes.
 *
 * Errors are sticky: the first fatal error is reported once as an `error` event, keys are wiped,
 * pending output is dropped, and the session ignores further input.
 */
import { SealwireError, asSealwireError, peerError } from '../errors.js';
import type { PublicKey } from '../keys/key.js';
import { ContentType, isRecordType } from '../record/content-type.js';
import { ReceiveDirection, SendDirection, type DirectionTestingOptions } from '../record/direction.js';
import { StreamDeframer, encodeFrame, frameHeader } from '../record/frame.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, MAX_PLAINTEXT } from '../record/limits.js';
import type { Handshake, HandshakeStep } from './handshake.js';
import type { Allocate } from '../record/buffers.js';

export type SessionEvent =
  | { readonly type: 'secure'; readonly peerPublicKey: PublicKey | null }
  | { readonly type: 'data'; readonly data: Uint8Array }
  /** The peer closed its direction with an authenticated close record. */
  | { readonly type: 'end' }
  | { readonly type: 'error'; readonly error: SealwireError };

export type SessionPhase = 'handshake' | 'open' | 'failed';

export interface StreamSessionOptions {
  /** Current time in milliseconds (any monotonic origin); starts the handshake deadline. */
  readonly now: number;
  /** Milliseconds the handshake may take (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** Test seam for sequence-number limits. */
  readonly testing?: DirectionTestingOptions;
}

/** What a transport that owns its buffers tells the session (see `useTransportBuffers`). */
export interface TransportBuffers {
  /**
   * Where sealed records are built (record/buffers.ts): for transports that hand each written
   * buffer back to the pool. Default: a fresh buffer per record.
   */
  readonly allocate?: Allocate;
  /**
   * The transport gives up the chunks it passes to `receive` (a socket's read buffers): records
   * may then be decrypted in place, and the plaintext delivered is a view of those chunks.
   */
  readonly receiveOwnsInput?: boolean;
}

/** Small writes are coalesced into one record up to this size; larger ones are sealed as they are. */
const COALESCE_BELOW = 16 * 1024;

const EMPTY = new Uint8Array(0);
/** What `takeOutput`/`takeEvents` return when there is nothing: no array per call on the hot path. */
const NOTHING = Object.freeze([]) as unknown as never[];
/** The default: a transport that owns none of its buffers. */
const NO_TRANSPORT_BUFFERS: TransportBuffers = Object.freeze({});

export class StreamSession {
  private phaseValue: SessionPhase = 'handshake';
  private readonly deframer = new StreamDeframer();
  /** Pending output and events; the shared empty `NOTHING` while there are none (an idle session keeps no arrays). */
  private output: Uint8Array[] = NOTHING;
  private events: SessionEvent[] = NOTHING;
  private sender: SendDirection | null = null;
  private receiver: ReceiveDirection | null = null;
  private sentClose = false;
  private receivedClose = false;
  private failure: SealwireError | null = null;
  private readonly deadline: number;
  private peer: PublicKey | null = null;
  private buffers: TransportBuffers = NO_TRANSPORT_BUFFERS;
  /** The handshake, until it finishes: then it is wiped and let go (an idle session keeps less). */
  private handshake: Handshake | null;
  private readonly roleValue: 'client' | 'server';

  /** The options, until the handshake finishes (the deadline and the testing seam need them). */
  private options: StreamSessionOptions | null;

  constructor(handshake: Handshake, options: StreamSessionOptions) {
    this.handshake = handshake;
    this.options = options;
    this.roleValue = handshake.role;
    this.deadline = options.now + (options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
  }

  get phase(): SessionPhase {
    return this.phaseValue;
  }

  get role(): 'client' | 'server' {
    return this.roleValue;
  }

  /** The first fatal error, if any. */
  get error(): SealwireError | null {
    return this.failure;
  }

  /** The peer's verified key, once secure. */
  get peerPublicKey(): PublicKey | null {
    return this.peer;
  }

  /** True once this side has sent its close record. */
  get sendClosed(): boolean {
    return this.sentClose;
  }

  /** True once the peer's close record has arrived. */
  get receiveClosed(): boolean {
    return this.receivedClose;
  }

  /**
   * Called by a transport that owns its buffers (a TCP socket: transport/secure-session.ts), before
   * any traffic: records are then sealed into `allocate`'s buffers and opened in place.
   */
  useTransportBuffers(buffers: TransportBuffers): void {
    this.buffers = buffers;
    if (this.sender) this.sender.allocate = buffers.allocate;
  }

  /** Sends the first flight (clients; servers that speak first). Call once, before `receive`. */
  start(): void {
    this.guard(() => this.apply(this.liveHandshake().start()));
  }

  /** Feeds bytes from the transport. Never throws: failures become an `error` event. */
  receive(bytes: Uint8Array): void {
    if (this.phaseValue === 'failed') return;
    this.deframer.push(bytes);
    // Not `guard(() => …)`: no closure per received chunk on the hot path.
    try {
      this.processFrames();
    } catch (e) {
      this.failWith(e);
    }
  }

  /** The transport's byte stream ended (TCP FIN). Without the peer's close record, that is truncation. */
  receiveEnd(): void {
    if (this.phaseValue === 'failed') return;
    if (this.phaseValue === 'handshake') {
      this.fail(peerError('HANDSHAKE_FAILED', `the peer closed the connection during the handshake, while we waited for ${this.awaiting()}`));
    } else if (!this.receivedClose || this.deframer.pending > 0) {
      this.fail(peerError('TRUNCATED', 'the stream ended without the peer\'s close record: the session may have been cut short'));
    }
  }

  /** Seals application data into records (split at 64 KiB). Throws once closed or failed. */
  send(data: Uint8Array): void {
    const sender = this.sendable();
    if (data.length === 0) return;
    for (let off = 0; off < data.length; off += MAX_PLAINTEXT) {
      const part = off === 0 && data.length <= MAX_PLAINTEXT ? data : data.subarray(off, off + MAX_PLAINTEXT);
      this.sealRecord(sender, ContentType.DATA, part);
    }
  }

  /**
   * Seals several writes, coalescing small ones into shared records (fewer records, fewer
   * syscalls) and sealing large ones without copying them.
   */
  sendMany(chunks: readonly Uint8Array[]): void {
    const sender = this.sendable();
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const flush = (): void => {
      if (batchBytes === 0) return;
      this.sealRecord(sender, ContentType.DATA, batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes));
      batch = [];
      batchBytes = 0;
    };
    for (const c of chunks) {
      if (c.length === 0) continue;
      if (c.length >= COALESCE_BELOW) {
        flush();
        this.send(c);
        continue;
      }
      if (batchBytes + c.length > MAX_PLAINTEXT) flush();
      batch.push(c);
      batchBytes += c.length;
    }
    flush();
  }

  /** Sends the close record: this side will send nothing more; the peer still may (half-close). */
  end(): void {
    if (this.sentClose) return;
    const sender = this.sendable();
    this.sealRecord(sender, ContentType.CLOSE, EMPTY);
    this.sentClose = true;
  }

  /** Bytes to write to the transport, in order. Nothing is a shared, frozen empty array. */
  takeOutput(): Uint8Array[] {
    const out = this.output;
    this.output = NOTHING;
    return out;
  }

  /** Events since the last call, in order. None is a shared, frozen empty array. */
  takeEvents(): SessionEvent[] {
    const ev = this.events;
    this.events = NOTHING;
    return ev;
  }

  /** When the transport should call `handleTimeout` next (ms), or undefined if nothing is due. */
  nextTimeout(): number | undefined {
    return this.phaseValue === 'handshake' ? this.deadline : undefined;
  }

  handleTimeout(now: number): void {
    if (this.phaseValue === 'handshake' && now >= this.deadline) {
      const secs = (this.options?.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS) / 1000;
      this.fail(new SealwireError('TIMEOUT', `handshake did not finish within ${secs} s (waiting for ${this.awaiting()})`));
    }
  }

  /** Ends the session from outside (socket error, destroy). Wipes keys; reports `error` once. */
  fail(error: SealwireError): void {
    if (this.phaseValue === 'failed') return;
    this.phaseValue = 'failed';
    this.failure = error;
    this.output = NOTHING;
    this.event({ type: 'error', error });
    this.wipe();
  }

  /** Wipes all key material (handshake secrets and record keys). Idempotent. */
  wipe(): void {
    this.handshake?.wipe();
    this.sender?.wipe();
    this.receiver?.wipe();
  }

  private event(e: SessionEvent): void {
    if (this.events === NOTHING) this.events = [];
    this.events.push(e);
  }

  /** Queues bytes for the transport. */
  private queue(chunk: Uint8Array): void {
    if (this.output === NOTHING) this.output = [];
    this.output.push(chunk);
  }

  private liveHandshake(): Handshake {
    if (!this.handshake) throw new SealwireError('CLOSED', 'the handshake has already finished');
    return this.handshake;
  }

  /** What the handshake waits for (for error messages). */
  private awaiting(): string {
    return this.handshake?.awaiting ?? 'nothing';
  }

  private sendable(): SendDirection {
    if (this.failure) throw this.failure;
    if (this.phaseValue !== 'open' || !this.sender) throw new SealwireError('CLOSED', 'cannot send before the handshake has finished');
    if (this.sentClose) throw new SealwireError('CLOSED', 'cannot send after end()');
    return this.sender;
  }

  private sealRecord(sender: SendDirection, type: number, plaintext: Uint8Array): void {
    const header = frameHeader(type, sender.sealedLength(plaintext.length));
    for (const chunk of sender.seal(type, header, plaintext)) this.queue(chunk);
  }

  private processFrames(): void {
    for (;;) {
      if (this.phaseValue === 'failed') return;
      // Records on a transport that gives up its input: a split record is copied into the
      // deframer's scratch and opened into a used-up input chunk (record/frame.ts).
      const owns = this.buffers.receiveOwnsInput === true;
      const frame = this.deframer.next(owns && this.phaseValue === 'open');
      if (!frame) return;
      if (this.phaseValue === 'handshake') {
        if (isRecordType(frame.type)) {
          throw new SealwireError('HANDSHAKE_FAILED', `record 0x${frame.type.toString(16)} arrived before the handshake finished (waiting for ${this.awaiting()})`);
        }
        this.apply(this.liveHandshake().receive({ type: frame.type, payload: frame.payload }));
        continue;
      }
      if (this.receivedClose) throw new SealwireError('BAD_RECORD', 'record after the peer\'s close record');
      if (!isRecordType(frame.type)) {
        throw new SealwireError('BAD_RECORD', `unexpected message type 0x${frame.type.toString(16)} after the handshake`);
      }
      const into = frame.transient ? (frame.spare ?? false) : frame.copied || owns;
      const plaintext = this.receiver!.open(frame.type, frame.header, frame.payload, into);
      if (frame.type === ContentType.CLOSE) {
        if (plaintext.length !== 0) throw new SealwireError('BAD_RECORD', 'close record with a payload');
        this.receivedClose = true;
        this.event({ type: 'end' });
      } else if (plaintext.length > 0) {
        this.event({ type: 'data', data: plaintext });
      }
    }
  }

  private apply(step: HandshakeStep): void {
    for (const m of step.send) this.queue(encodeFrame(m.type, m.payload));
    if (!step.established) return;
    const { send, receive, peerPublicKey } = step.established;
    const testing = this.options?.testing;
    this.options = null;
    this.sender = new SendDirection(send, testing);
    this.sender.allocate = this.buffers.allocate;
    this.receiver = new ReceiveDirection(receive, testing);
    this.peer = peerPublicKey;
    this.phaseValue = 'open';
    this.liveHandshake().wipe();
    this.handshake = null;
    this.event({ type: 'secure', peerPublicKey });
    for (const d of step.data ?? []) if (d.length > 0) this.event({ type: 'data', data: d });
  }

  /** Runs `fn`; any throw becomes the session's sticky failure, as a `SealwireError`. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.failWith(e);
    }
  }

  /** Makes a throw the session's sticky failure, as a `SealwireError`. */
  private failWith(e: unknown): void {
    this.fail(asSealwireError(e, this.phaseValue === 'handshake' ? 'HANDSHAKE_FAILED' : 'BAD_RECORD', 'internal error'));
  }
}
