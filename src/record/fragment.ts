/**
 * Fragmentation of messages larger than one datagram, and bounded reassembly.
 *
 * A message of at most `MAX_DATAGRAM_PLAINTEXT` bytes travels as one DATA record. A larger one
 * (up to `MAX_MESSAGE`) is cut into FRAGMENT records whose plaintext is
 *
 *     message id (4) ‖ index (2) ‖ count (2) ‖ chunk
 *
 * inside the record's authenticated encryption, so fragments cannot be spliced across messages
 * or sessions. Reassembly memory is bounded (messages in progress, bytes in progress) and
 * incomplete messages expire; a fragment that does not fit is dropped, never buffered.
 */
import { SealwireError } from '../errors.js';

/** Largest plaintext in one datagram record: keeps datagrams under common path MTUs (1280 IPv6). */
export const MAX_DATAGRAM_PLAINTEXT = 1200;
export const FRAGMENT_HEADER_SIZE = 8;
export const FRAGMENT_CHUNK = MAX_DATAGRAM_PLAINTEXT - FRAGMENT_HEADER_SIZE;
/** Largest message `send` accepts. */
export const MAX_MESSAGE = 64 * 1024;
const MAX_FRAGMENTS = Math.ceil(MAX_MESSAGE / FRAGMENT_CHUNK);

/** How many fragments `message` takes; throws `TOO_LARGE` above MAX_MESSAGE. */
export function fragmentCount(message: Uint8Array): number {
  if (message.length > MAX_MESSAGE) throw new SealwireError('TOO_LARGE', `message of ${message.length} bytes; the limit is ${MAX_MESSAGE}`);
  return Math.ceil(message.length / FRAGMENT_CHUNK);
}

/**
 * Writes fragment `index` of `count` of `message` into `into` (`MAX_DATAGRAM_PLAINTEXT` bytes hold
 * any fragment) and returns the fragment plaintext, a view of `into`: a sender seals it at once and
 * writes the next fragment over it (no buffer per fragment).
 */
export function writeFragment(into: Uint8Array, message: Uint8Array, id: number, index: number, count: number): Uint8Array {
  const chunk = message.subarray(index * FRAGMENT_CHUNK, (index + 1) * FRAGMENT_CHUNK);
  into[0] = id >>> 24;
  into[1] = id >>> 16;
  into[2] = id >>> 8;
  into[3] = id;
  into[4] = index >>> 8;
  into[5] = index;
  into[6] = count >>> 8;
  into[7] = count;
  into.set(chunk, FRAGMENT_HEADER_SIZE);
  return into.subarray(0, FRAGMENT_HEADER_SIZE + chunk.length);
}

/** Cuts `message` into fragment plaintexts, each its own buffer (only for messages above MAX_DATAGRAM_PLAINTEXT). */
export function fragment(message: Uint8Array, id: number): Buffer[] {
  const count = fragmentCount(message);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = FRAGMENT_HEADER_SIZE + Math.min(FRAGMENT_CHUNK, message.length - i * FRAGMENT_CHUNK);
    out.push(writeFragment(Buffer.allocUnsafe(size), message, id, i, count) as Buffer);
  }
  return out;
}

export interface ReassemblyLimits {
  /** Messages in progress at once (default 16). */
  readonly maxMessages?: number;
  /** Bytes buffered for messages in progress (default 256 KiB). */
  readonly maxBytes?: number;
  /** Milliseconds an incomplete message is kept (default 5 000). */
  readonly expiryMs?: number;
}

interface Partial {
  readonly parts: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  readonly expires: number;
}

export class Reassembler {
  private readonly pending = new Map<number, Partial>();
  private bytes = 0;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly expiryMs: number;

  constructor(limits: ReassemblyLimits = {}) {
    this.maxMessages = limits.maxMessages ?? 16;
    this.maxBytes = limits.maxBytes ?? 256 * 1024;
    this.expiryMs = limits.expiryMs ?? 5_000;
  }

  /** Bytes held for incomplete messages. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  get pendingMessages(): number {
    return this.pending.size;
  }

  /**
   * Takes one fragment plaintext; returns the whole message once its last fragment arrives, else
   * null. Throws `BAD_RECORD` for a malformed fragment and `TOO_LARGE` when it does not fit the
   * bounds (the caller drops it; what was buffered stays).
   */
  add(plain: Uint8Array, now: number): Uint8Array | null {
    this.expire(now);
    if (plain.length <= FRAGMENT_HEADER_SIZE || plain.length > MAX_DATAGRAM_PLAINTEXT) {
      throw new SealwireError('BAD_RECORD', `fragment of ${plain.length} bytes`);
    }
    const v = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
    const id = v.readUInt32BE(0);
    const index = v.readUInt16BE(4);
    const count = v.readUInt16BE(6);
    if (count < 2 || count > MAX_FRAGMENTS || index >= count) throw new SealwireError('BAD_RECORD', `fragment ${index} of ${count}`);
    const chunk = v.subarray(FRAGMENT_HEADER_SIZE);
    if (index < count - 1 && chunk.length !== FRAGMENT_CHUNK) throw new SealwireError('BAD_RECORD', 'short fragment before the last');
    // The last fragment may not carry the message past MAX_MESSAGE (55 full fragments would).
    if (index === count - 1 && (count - 1) * FRAGMENT_CHUNK + chunk.length > MAX_MESSAGE) {
      throw new SealwireError('TOO_LARGE', `reassembled message over ${MAX_MESSAGE} bytes`);
    }
    let p = this.pending.get(id);
    if (!p) {
      if (this.pending.size >= this.maxMessages) throw new SealwireError('TOO_LARGE', `more than ${this.maxMessages} messages in reassembly`);
      p = { parts: new Array<Uint8Array | undefined>(count), received: 0, bytes: 0, expires: now + this.expiryMs };
      this.pending.set(id, p);
    }
    if (p.parts.length !== count) throw new SealwireError('BAD_RECORD', 'fragment count differs within one message');
    if (p.parts[index]) return null; // a duplicate (a retransmission by the application)
    if (this.bytes + chunk.length > this.maxBytes) throw new SealwireError('TOO_LARGE', `reassembly buffer full (${this.maxBytes} bytes)`);
    p.parts[index] = Buffer.from(chunk); // own copy: the record buffer may be reused
    p.received++;
    p.bytes += chunk.length;
    this.bytes += chunk.length;
    if (p.received < count) return null;
    this.pending.delete(id);
    this.bytes -= p.bytes;
    return Buffer.concat(p.parts as Uint8Array[]);
  }

  /** Drops incomplete messages whose time is up. */
  expire(now: number): void {
    for (const [id, p] of this.pending) {
      if (p.expires <= now) {
        this.pending.delete(id);
        this.bytes -= p.bytes;
      }
    }
  }

  /** The earliest expiry, or null. */
  nextExpiry(): number | null {
    let t: number | null = null;
    for (const p of this.pending.values()) if (t === null || p.expires < t) t = p.expires;
    return t;
  }
}
