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
 * Sending reuses the stream layer's `SendDirection` (sequence, key epochs, hard limit). Receiving
 * opens at any sequence number inside the replay window and moves the window only after the
 * record authenticates. Keys turn over at the same epoch boundaries as on streams; the receiver
 * keeps the current epoch's cipher and derives the next one when a record from it arrives.
 */
import { SealwireError } from '../errors.js';
import type { RecordCipher } from './cipher.js';
import { SendDirection, checkReceivedPlaintext } from './direction.js';
import { SEQUENCE_HARD_LIMIT } from './limits.js';
import { ReplayWindow } from './replay-window.js';

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

/** Seals records for one direction of a datagram session. */
export class DatagramSender {
  private readonly direction: SendDirection;
  private readonly header: Buffer;

  constructor(cipher: RecordCipher, cid: Uint8Array, private readonly mode: RecordHeaderMode = 'layer') {
    if (cid.length !== CONNECTION_ID_SIZE) throw new SealwireError('INVALID_ARGUMENT', 'connection id must be 8 bytes');
    this.direction = new SendDirection(cipher);
    this.header = Buffer.alloc(mode === 'layer' ? RECORD_HEADER_SIZE : 1);
    if (mode === 'layer') this.header.set(cid, 1);
  }

  get overhead(): number {
    return (this.mode === 'layer' ? RECORD_HEADER_SIZE : 1) + this.direction.overhead;
  }

  get sequence(): bigint {
    return this.direction.sequence;
  }

  /** One complete datagram: header ‖ sealed body. Throws `LIMIT` at the sequence hard limit. */
  seal(type: number, plaintext: Uint8Array): Uint8Array {
    this.header[0] = type;
    if (this.mode === 'layer') this.header.writeBigUInt64BE(this.direction.sequence, DATAGRAM_PREFIX_SIZE);
    const chunks = this.direction.seal(type, this.header, plaintext);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  wipe(): void {
    this.direction.wipe();
  }
}

/** Opens records of the peer's direction, in any order, each sequence number once. */
export class DatagramReceiver {
  private readonly window = new ReplayWindow();
  private cipher: RecordCipher | null;
  private nextCipher: RecordCipher | null = null;
  private epoch = 0n;
  private readonly perKey: bigint;

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
    this.perKey = cipher.recordsPerKey;
  }

  /**
   * Opens a whole record datagram (header included; its length is checked by the caller to be at
   * least `RECORD_HEADER_SIZE`). Returns the plaintext, or throws `REPLAY` (seen or too old, before
   * any decryption), `BAD_RECORD` (does not authenticate) or `TOO_LARGE` (plaintext over
   * `MAX_PLAINTEXT`, the limit on every record). The window moves only on success.
   */
  open(datagram: Uint8Array): Uint8Array {
    const cipher = this.cipher;
    if (!cipher) throw new SealwireError('CLOSED', 'record direction is closed');
    const view = Buffer.isBuffer(datagram) ? datagram : Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
    const type = view[0]!;
    const seq = view.readBigUInt64BE(DATAGRAM_PREFIX_SIZE);
    if (seq >= SEQUENCE_HARD_LIMIT || !this.window.mayAccept(seq)) {
      throw new SealwireError('REPLAY', `record ${seq} already received or behind the replay window`);
    }
    const epoch = seq / this.perKey;
    let c: RecordCipher;
    if (epoch === this.epoch) c = cipher;
    else if (epoch === this.epoch + 1n) c = this.nextCipher ??= cipher.next();
    else throw new SealwireError('BAD_RECORD', `record ${seq} is from a key epoch this side does not hold`);
    const split = this.mode === 'layer' ? RECORD_HEADER_SIZE : 1;
    const header = view.subarray(0, split);
    const body = view.subarray(split);
    const plaintext = this.inPlace && c.openInPlace ? c.openInPlace(type, seq, header, body) : c.open(type, seq, header, body);
    if (plaintext === null) throw new SealwireError('BAD_RECORD', `record ${seq} failed authentication (tampered, or from another session)`);
    checkReceivedPlaintext(plaintext, seq);
    this.window.accept(seq);
    if (c !== cipher) {
      // The peer moved to the next key: the old one goes (records still in flight under it are lost).
      cipher.wipe();
      this.cipher = c;
      this.nextCipher = null;
      this.epoch = epoch;
    }
    return plaintext;
  }

  wipe(): void {
    this.cipher?.wipe();
    this.nextCipher?.wipe();
    this.cipher = null;
    this.nextCipher = null;
  }
}
