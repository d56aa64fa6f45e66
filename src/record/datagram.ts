/**
 * Datagram records: the record layer for UDP, where records arrive lost, duplicated and out of
 * order, so each carries its 64-bit sequence number explicitly (docs/DESIGN.md §2.4).
 *
 *     type (1) ‖ connection id (8) ‖ sequence (8, big-endian) ‖ body (the suite's RecordCipher)
 *
 * The 17-byte header is the `header` given to the suite's `RecordCipher`: AEAD suites take it as
 * associated data; `box` binds type and sequence through the nonce, and the connection id selects
 * the key, so a changed id finds another key or none. A handshake datagram is
 *
 *     type (0x00–0x0f, the suite's) ‖ connection id (8) ‖ payload (the suite's message)
 *
 * and two notices (unauthenticated, 9 bytes, never larger than what they answer) are
 * `0x1e ‖ id` (error: the handshake failed) and `0x1f ‖ id` (handshake again: unknown id); a
 * suite may give them its own types (`Suite.datagram`: sid uses its 0x05 and 0x06).
 *
 * A suite whose seed fixes the record format (sid) may write `cid ‖ seq` in its cipher instead
 * (`recordHeader: 'cipher'`): the bytes on the wire are laid out the same way.
 *
 * Sequence numbers are numbers, not bigints (`DATAGRAM_SEQUENCE_LIMIT`): the per-record path
 * allocates one buffer (the datagram) and the one bigint the cipher takes. Receiving opens at any
 * sequence number inside the replay window and moves the window only after the record
 * authenticates. Keys turn over at the same epoch boundaries as on streams; the receiver keeps the
 * current epoch's cipher and derives the next one when a record from it arrives.
 */
import { SealwireError } from '../errors.js';
import type { Allocate } from './buffers.js';
import type { RecordCipher } from './cipher.js';
import { checkRecordsPerKey } from './direction.js';
import { MAX_PLAINTEXT } from './limits.js';
import { MAX_WINDOW_SEQUENCE, ReplayWindow } from './replay-window.js';
import { readU64BENumber, writeU64BENumber } from './u64.js';

export const CONNECTION_ID_SIZE = 8;
/** type ‖ connection id */
export const DATAGRAM_PREFIX_SIZE = 1 + CONNECTION_ID_SIZE;
/** type ‖ connection id ‖ sequence */
export const RECORD_HEADER_SIZE = DATAGRAM_PREFIX_SIZE + 8;

/** Datagram types outside the suites' handshake range (0x00–0x0f). */
export const DatagramType = {
  /** One whole message. */
  DATA: 0x10,
  /** Authenticated end of the session. */
  CLOSE: 0x11,
  /** Empty record that keeps the session (and NAT mappings) alive. */
  KEEPALIVE: 0x12,
  /** One fragment of a message larger than one datagram (fragment.ts). */
  FRAGMENT: 0x13,
  /** Unauthenticated notice: the handshake failed (seed 000's "echo back with error"). */
  ERROR: 0x1e,
  /** Unauthenticated notice: the server knows no session with this id ("handshake again"). */
  HANDSHAKE_AGAIN: 0x1f,
} as const;

export function isDatagramRecordType(t: number): boolean {
  return t >= DatagramType.DATA && t <= DatagramType.FRAGMENT;
}

/** Set in the type byte of a padded handshake datagram: `(type | 0x80) ‖ id ‖ u16 length ‖ payload ‖ zeros`. */
export const PADDED = 0x80;

/** A handshake type (0x00–0x0f), padded (0x80–0x8f) or not. */
export function isHandshakeType(t: number): boolean {
  return (t & ~PADDED) <= 0x0f;
}

/**
 * Writes `type ‖ id ‖ payload` (one copy: handshake messages only). With `padTo` above that size,
 * writes the padded form instead, `(type | 0x80) ‖ id ‖ u16 length ‖ payload ‖ zero bytes`, exactly
 * `padTo` bytes: a client pads its handshake datagrams so that the server's answers (an RSA key,
 * say) are never larger than what it received (no amplification).
 */
export function encodeHandshakeDatagram(type: number, cid: Uint8Array, payload: Uint8Array, padTo = 0): Buffer {
  const plainSize = DATAGRAM_PREFIX_SIZE + payload.length;
  if (padTo <= plainSize || payload.length > 0xffff) {
    const out = Buffer.allocUnsafe(plainSize);
    out[0] = type;
    out.set(cid, 1);
    out.set(payload, DATAGRAM_PREFIX_SIZE);
    return out;
  }
  const out = Buffer.alloc(Math.max(padTo, plainSize + 2));
  out[0] = type | PADDED;
  out.set(cid, 1);
  out.writeUInt16BE(payload.length, DATAGRAM_PREFIX_SIZE);
  out.set(payload, DATAGRAM_PREFIX_SIZE + 2);
  return out;
}

/**
 * The (type, payload) of a handshake datagram, or null unless `d` is exactly what
 * `encodeHandshakeDatagram(type, id, payload, padTo)` writes: one encoding per message. `padTo` is
 * the sender's padding (the suite's `padClientHandshakeTo` for client datagrams, 0 otherwise).
 * Without padding the padded form is refused; with it, a message is padded to exactly
 * `max(padTo, 11 + length)` bytes with zeros, and only a message of at least `padTo` bytes travels
 * plain. So an on-path observer cannot re-encode a handshake message into other bytes that the
 * peer would take as a new one (and race it in from its own address).
 */
export function readHandshakeDatagram(d: Uint8Array, padTo = 0): { type: number; payload: Uint8Array } | null {
  const t = d[0]!;
  if ((t & PADDED) === 0) {
    if (padTo > 0 && d.length < padTo) return null; // the sender would have padded it
    return { type: t, payload: d.subarray(DATAGRAM_PREFIX_SIZE) };
  }
  if (padTo <= 0 || d.length < DATAGRAM_PREFIX_SIZE + 2) return null;
  const len = (d[DATAGRAM_PREFIX_SIZE]! << 8) | d[DATAGRAM_PREFIX_SIZE + 1]!;
  const start = DATAGRAM_PREFIX_SIZE + 2;
  if (DATAGRAM_PREFIX_SIZE + len >= padTo) return null; // would have travelled plain
  if (d.length !== Math.max(padTo, start + len)) return null;
  for (let i = start + len; i < d.length; i++) if (d[i] !== 0) return null;
  return { type: t & ~PADDED, payload: d.subarray(start, start + len) };
}

/** `type ‖ id`: the 9-byte notices. */
export function encodeNotice(type: number, cid: Uint8Array): Buffer {
  return encodeHandshakeDatagram(type, cid, new Uint8Array(0));
}

/**
 * Who writes `cid ‖ seq`: the layer (default; the cipher gets the 17-byte header) or the suite's
 * cipher (it gets the type byte as the header and returns `type ‖ cid ‖ seq ‖ …`).
 */
export type RecordHeaderMode = 'layer' | 'cipher';

/**
 * Datagram sequence numbers are JavaScript numbers (exact below 2^53): records are numbered
 * 0 … 2^53 − 2. A sender stops at this limit (`LIMIT`, the session must end), and a receiver refuses
 * it and anything above (`REPLAY`) before decrypting, as streams do at 2^64 − 1 (record/limits.ts).
 * The wire still carries 64 bits; 2^53 records take 28 years at 10 million records a second.
 */
export const DATAGRAM_SEQUENCE_LIMIT = MAX_WINDOW_SEQUENCE;

/** A cipher's `recordsPerKey` as a number (Infinity when no datagram session can reach it). */
function recordsPerKey(cipher: RecordCipher): number {
  const n = checkRecordsPerKey(cipher);
  return n > BigInt(DATAGRAM_SEQUENCE_LIMIT) ? Infinity : Number(n);
}

/** Where `seq`'s key epoch ends: the next multiple of `perKey` above it. */
function epochEndOf(seq: number, perKey: number): number {
  return perKey === Infinity ? Infinity : seq - (seq % perKey) + perKey;
}

export interface DatagramSenderOptions {
  /**
   * Where records are built: a transport that sends each record at once passes its send buffers
   * (transport/udp.ts), so the record is sealed straight into the memory handed to the socket.
   * Default: a fresh buffer per record.
   */
  readonly allocate?: Allocate;
  /** Test seam: the first sequence number (to start near an epoch or the limit). Never set outside tests. */
  readonly initialSequenceForTestingOnly?: number;
}

/**
 * Seals records for one direction of a datagram session: the sequence number (a number, see
 * `DATAGRAM_SEQUENCE_LIMIT`), its key epochs (every `recordsPerKey` records the cipher turns over
 * to `cipher.next()`, as on streams) and its limit. One buffer per record, no other allocation
 * than the sequence number the cipher takes as a bigint.
 */
export class DatagramSender {
  private cipher: RecordCipher | null;
  private seq: number;
  private epochEnd: number;
  private readonly header: Buffer;
  private readonly allocate: Allocate | undefined;

  constructor(
    cipher: RecordCipher,
    cid: Uint8Array,
    private readonly mode: RecordHeaderMode = 'layer',
    options: DatagramSenderOptions = {},
  ) {
    if (cid.length !== CONNECTION_ID_SIZE) throw new SealwireError('INVALID_ARGUMENT', 'connection id must be 8 bytes');
    const seq = options.initialSequenceForTestingOnly ?? 0;
    if (!Number.isSafeInteger(seq) || seq < 0) throw new SealwireError('INVALID_ARGUMENT', 'initial sequence number out of range');
    this.cipher = cipher;
    this.seq = seq;
    this.epochEnd = epochEndOf(seq, recordsPerKey(cipher));
    this.allocate = options.allocate;
    this.header = Buffer.alloc(mode === 'layer' ? RECORD_HEADER_SIZE : 1);
    if (mode === 'layer') this.header.set(cid, 1);
  }

  get overhead(): number {
    return (this.mode === 'layer' ? RECORD_HEADER_SIZE : 1) + this.live().overhead;
  }

  /** The sequence number of the next record. */
  get sequence(): number {
    return this.seq;
  }

  /**
   * One complete datagram: header ‖ sealed body. Throws `LIMIT` at `DATAGRAM_SEQUENCE_LIMIT` and
   * `CLOSED` once wiped.
   */
  seal(type: number, plaintext: Uint8Array): Uint8Array {
    const seq = this.seq;
    if (seq >= DATAGRAM_SEQUENCE_LIMIT) {
      throw new SealwireError('LIMIT', 'datagram sequence number reached its limit (2^53 - 1); the session must end');
    }
    let cipher = this.live();
    if (seq >= this.epochEnd) cipher = this.turnOver(cipher);
    const header = this.header;
    header[0] = type;
    if (this.mode === 'layer') writeU64BENumber(header, DATAGRAM_PREFIX_SIZE, seq);
    const chunks = cipher.seal(type, BigInt(seq), header, plaintext, this.allocate);
    this.seq = seq + 1;
    return chunks.length === 1 ? chunks[0]! : joinChunks(chunks, this.allocate);
  }

  wipe(): void {
    this.cipher?.wipe();
    this.cipher = null;
  }

  private live(): RecordCipher {
    if (!this.cipher) throw new SealwireError('CLOSED', 'record direction is closed');
    return this.cipher;
  }

  /** The next key epoch: the cipher derived from the current one, which is wiped. */
  private turnOver(cipher: RecordCipher): RecordCipher {
    const next = cipher.next();
    const perKey = recordsPerKey(next);
    cipher.wipe();
    this.cipher = next;
    this.epochEnd += perKey;
    return next;
  }
}

/** A record a cipher returned in several chunks (sid), as one datagram. */
function joinChunks(chunks: Uint8Array[], allocate: Allocate | undefined): Uint8Array {
  if (!allocate) return Buffer.concat(chunks);
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = allocate(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Why `DatagramReceiver.receive` returned null. */
export type DropReason = 'REPLAY' | 'BAD_RECORD' | 'TOO_LARGE' | 'CLOSED';

/**
 * Opens records of the peer's direction, in any order, each sequence number once. Records of the
 * current key epoch and of the next one open (the next cipher is derived when its first record
 * arrives, and replaces the current one once a record under it authenticates).
 */
export class DatagramReceiver {
  private readonly window = new ReplayWindow();
  private cipher: RecordCipher | null;
  private nextCipher: RecordCipher | null = null;
  /** The current key epoch: sequence numbers epochStart … epochEnd − 1. */
  private epochStart: number;
  private epochEnd: number;
  private readonly perKey: number;
  /** What the last `receive` that returned null found, and the record's sequence number (-1: over the limit). */
  private dropped: DropReason = 'BAD_RECORD';
  private droppedSeq = -1;

  /**
   * `inPlace`: the caller gives up each datagram to `open`, which may then decrypt over it (the UDP
   * transport does: every datagram is a fresh buffer).
   */
  constructor(
    cipher: RecordCipher,
    private readonly mode: RecordHeaderMode = 'layer',
    private readonly inPlace = false,
  ) {
    this.cipher = cipher;
    this.perKey = recordsPerKey(cipher);
    this.epochStart = 0;
    this.epochEnd = this.perKey;
  }

  /**
   * Opens a whole record datagram (header included; its length is checked by the caller to be at
   * least `RECORD_HEADER_SIZE`). Returns the plaintext, or throws `REPLAY` (seen, too old or at the
   * sequence limit, before any decryption), `BAD_RECORD` (does not authenticate) or `TOO_LARGE`
   * (plaintext over `MAX_PLAINTEXT`, the limit on every record). The window moves only on success.
   */
  open(datagram: Uint8Array): Uint8Array {
    const plaintext = this.receive(datagram);
    if (plaintext === null) throw this.dropError();
    return plaintext;
  }

  /**
   * `open` without exceptions, for the per-record path (a flood of forged records costs a failed
   * decryption each, not an exception each): the plaintext, or null with the reason in
   * `dropReason`.
   */
  receive(datagram: Uint8Array): Uint8Array | null {
    const cipher = this.cipher;
    if (!cipher) return this.drop('CLOSED', -1);
    const d = datagram;
    const type = d[0]!;
    const seq = readU64BENumber(d, DATAGRAM_PREFIX_SIZE); // -1 from 2^53 on
    if (seq < 0 || seq >= DATAGRAM_SEQUENCE_LIMIT) return this.drop('REPLAY', -1);
    if (!this.window.mayAccept(seq)) return this.drop('REPLAY', seq);
    let c: RecordCipher;
    if (seq >= this.epochStart && seq < this.epochEnd) c = cipher;
    else if (seq >= this.epochEnd && seq - this.epochEnd < this.perKey) c = this.nextCipher ??= cipher.next();
    else return this.drop('BAD_RECORD', seq); // an epoch whose key this side no longer (or not yet) holds
    const split = this.mode === 'layer' ? RECORD_HEADER_SIZE : 1;
    const header = d.subarray(0, split);
    const body = d.subarray(split);
    const big = BigInt(seq);
    const plaintext = this.inPlace && c.openInPlace ? c.openInPlace(type, big, header, body) : c.open(type, big, header, body);
    if (plaintext === null) return this.drop('BAD_RECORD', seq);
    if (plaintext.length > MAX_PLAINTEXT) return this.drop('TOO_LARGE', seq);
    this.window.accept(seq);
    if (c !== cipher) {
      // The peer moved to the next key: the old one goes (records still in flight under it are lost).
      cipher.wipe();
      this.cipher = c;
      this.nextCipher = null;
      this.epochStart = this.epochEnd;
      this.epochEnd += this.perKey;
    }
    return plaintext;
  }

  /** Why the last `receive` returned null. */
  get dropReason(): DropReason {
    return this.dropped;
  }

  wipe(): void {
    this.cipher?.wipe();
    this.nextCipher?.wipe();
    this.cipher = null;
    this.nextCipher = null;
  }

  private drop(reason: DropReason, seq: number): null {
    this.dropped = reason;
    this.droppedSeq = seq;
    return null;
  }

  /** The error `open` throws for the last drop. */
  private dropError(): SealwireError {
    const seq = this.droppedSeq;
    const record = seq < 0 ? 'record' : `record ${seq}`;
    switch (this.dropped) {
      case 'CLOSED':
        return new SealwireError('CLOSED', 'record direction is closed');
      case 'REPLAY':
        return new SealwireError('REPLAY', seq < 0 ? 'record sequence number at or over the datagram limit (2^53 - 1)' : `${record} already received or behind the replay window`);
      case 'TOO_LARGE':
        return new SealwireError('TOO_LARGE', `${record} carries more than ${MAX_PLAINTEXT} plaintext bytes`);
      case 'BAD_RECORD':
        return new SealwireError('BAD_RECORD', `${record} failed authentication (tampered, from another session, or from a key epoch this side does not hold)`);
    }
  }
}
