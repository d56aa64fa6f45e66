/**
 * One direction of a stream's record layer (Go's `halfConn`): the cipher, the implicit 64-bit
 * sequence number, and the key schedule.
 *
 * - The sequence number is a `bigint`, written as 64 bits; it starts at 0 and only moves forward.
 * - On the receiving side it moves only after a record authenticates (docs/DESIGN.md §10: a failed
 *   decryption must not advance the nonce).
 * - Soft limit: every `cipher.recordsPerKey` records the direction switches to `cipher.next()`,
 *   a key derived one-way from the current one, and wipes the old key. Both ends switch at the
 *   same sequence number, so no message is needed.
 * - Hard limit: the direction refuses to go past `SEQUENCE_HARD_LIMIT` (error `LIMIT`), so a
 *   sequence number, and with it a nonce, is never reused.
 * - Size: a received record whose plaintext is over `MAX_PLAINTEXT` is refused (`TOO_LARGE`), the
 *   limit the sender keeps, so both ends agree on it.
 */
import { SealwireError } from '../errors.js';
import type { RecordCipher } from './cipher.js';
import type { Allocate } from './buffers.js';
import { MAX_PLAINTEXT, SEQUENCE_HARD_LIMIT } from './limits.js';

/** Test seam: start a direction near its limits. Never set outside tests. */
export interface DirectionTestingOptions {
  initialSequenceForTestingOnly?: bigint;
}

/** A cipher's `recordsPerKey`, refused unless positive (0 would divide by zero, or never move an epoch). */
export function checkRecordsPerKey(cipher: RecordCipher): bigint {
  const n = cipher.recordsPerKey;
  if (typeof n !== 'bigint' || n < 1n) {
    throw new SealwireError('INVALID_ARGUMENT', `record cipher's recordsPerKey must be a positive bigint, got ${String(n)}`);
  }
  return n;
}

abstract class Direction {
  protected seq: bigint;
  private cipher: RecordCipher | null;
  private epochEnd: bigint;

  constructor(cipher: RecordCipher, options: DirectionTestingOptions = {}) {
    this.cipher = cipher;
    this.seq = options.initialSequenceForTestingOnly ?? 0n;
    const perKey = checkRecordsPerKey(cipher);
    this.epochEnd = (this.seq / perKey + 1n) * perKey;
  }

  /** The sequence number of the next record in this direction. */
  get sequence(): bigint {
    return this.seq;
  }

  get overhead(): number {
    return this.live().overhead;
  }

  /** Length of the sealed body of a `plaintextLength`-byte record (see RecordCipher.sealedLength). */
  sealedLength(plaintextLength: number): number {
    const c = this.live();
    return c.sealedLength ? c.sealedLength(plaintextLength) : c.overhead + plaintextLength;
  }

  /** The cipher for the current sequence number, rotating the key at an epoch boundary. */
  protected current(): RecordCipher {
    const c = this.live();
    if (this.seq >= SEQUENCE_HARD_LIMIT) {
      throw new SealwireError('LIMIT', 'sequence number reached its 64-bit limit; the session must end');
    }
    if (this.seq < this.epochEnd) return c;
    const next = c.next();
    const perKey = checkRecordsPerKey(next);
    c.wipe();
    this.cipher = next;
    this.epochEnd += perKey;
    return next;
  }

  private live(): RecordCipher {
    if (!this.cipher) throw new SealwireError('CLOSED', 'record direction is closed');
    return this.cipher;
  }

  /** Wipes the key. Later use throws `CLOSED`. */
  wipe(): void {
    this.cipher?.wipe();
    this.cipher = null;
  }
}

/**
 * The record size limit, on receive as on send: a record's plaintext is at most `MAX_PLAINTEXT`
 * bytes, whatever the frame or datagram around it allowed. Throws `TOO_LARGE`.
 */
export function checkReceivedPlaintext(plaintext: Uint8Array, seq: bigint): void {
  if (plaintext.length > MAX_PLAINTEXT) {
    throw new SealwireError('TOO_LARGE', `record ${seq} carries ${plaintext.length} plaintext bytes; the limit is ${MAX_PLAINTEXT}`);
  }
}

export class SendDirection extends Direction {
  /** Where the cipher builds records (record/buffers.ts); unset: a fresh buffer per record. */
  allocate: Allocate | undefined;

  /**
   * Seals a record under the next sequence number. `header` is what precedes the body on the
   * wire (see RecordCipher.seal); the returned chunks are the whole record.
   */
  seal(type: number, header: Uint8Array, plaintext: Uint8Array): Uint8Array[] {
    const chunks = this.current().seal(type, this.seq, header, plaintext, this.allocate);
    this.seq++;
    return chunks;
  }
}

export class ReceiveDirection extends Direction {
  /**
   * Opens the record expected next. Throws `BAD_RECORD` when it does not authenticate; the
   * sequence number then stays where it was. Where the plaintext goes:
   * - `inPlace === true`: the caller owns `body`, and a cipher that can decrypts over it
   *   (`RecordCipher.openInPlace`);
   * - `inPlace` a buffer: `body` is borrowed (a deframer's scratch) and must not be returned or
   *   kept; the buffer is memory the caller gives up, which a cipher that can decrypts into
   *   (`RecordCipher.openInto`);
   * - otherwise a new buffer.
   */
  open(type: number, header: Uint8Array, body: Uint8Array, inPlace: boolean | Uint8Array = false): Uint8Array {
    const c = this.current();
    const seq = this.seq;
    const plaintext =
      inPlace === true && c.openInPlace
        ? c.openInPlace(type, seq, header, body)
        : inPlace instanceof Uint8Array && c.openInto
          ? c.openInto(type, seq, header, body, inPlace)
          : c.open(type, seq, header, body);
    if (plaintext === null) {
      throw new SealwireError('BAD_RECORD', `record ${this.seq} failed authentication (tampered, replayed, reordered or from another session)`);
    }
    checkReceivedPlaintext(plaintext, this.seq);
    this.seq++;
    return plaintext;
  }
}
