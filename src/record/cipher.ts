/**
 * The interface between the shared record layer and a suite's record protection.
 *
 * The record layer owns sequence numbers, key epochs and framing (direction.ts, frame.ts); a
 * `RecordCipher` only protects one record under one key. Every suite supplies one per direction.
 * The record's type and sequence number are always authenticated: ciphers with associated data
 * put the header there (which holds the type) and build the nonce from the sequence number;
 * secretbox, which has no associated data, puts both in the nonce.
 */

import type { Allocate } from './buffers.js';

export interface RecordCipher {
  /** Bytes the cipher adds to a plaintext (tag, IV, MAC, …); the least it adds if that varies. */
  readonly overhead: number;
  /**
   * Length of the sealed body for `plaintextLength` bytes, for ciphers whose overhead varies with
   * the length (CBC padding). Without it the body is `overhead + plaintextLength`.
   */
  sealedLength?(plaintextLength: number): number;
  /**
   * Records sealed under one key before the record layer derives the next (`next()`), chosen
   * below the cipher's usage limit for 64 KiB records (docs/DESIGN.md §10: per-key usage limits).
   */
  readonly recordsPerKey: bigint;
  /**
   * Seals one record. `header` is the record header already on the wire before the body (it holds
   * the type); the result is the complete record, header first, as one or more chunks ready for a
   * vectored write. The header chunk may be copied into a larger buffer. A cipher that builds the
   * record in one buffer takes it from `allocate` when given (record/buffers.ts).
   */
  seal(type: number, seq: bigint, header: Uint8Array, plaintext: Uint8Array, allocate?: Allocate): Uint8Array[];
  /** Opens one record body; returns the plaintext or `null` when it does not authenticate. */
  open(type: number, seq: bigint, header: Uint8Array, body: Uint8Array): Uint8Array | null;
  /** The cipher for the next key epoch, derived one-way from this one's keys. */
  next(): RecordCipher;
  /** Overwrites the key material. The cipher must not be used afterwards. */
  wipe(): void;
  /**
   * Like `open`, but may decrypt over `body`, which the caller owns and will not read again
   * (saves one allocation per record). When the record does not authenticate the contents of
   * `body` are unspecified (libsodium's AEAD zeroes its output); the caller drops it. Optional:
   * the record layer falls back to `open`.
   */
  openInPlace?(type: number, seq: bigint, header: Uint8Array, body: Uint8Array): Uint8Array | null;
  /**
   * Like `open`, but writes the plaintext at the start of `into` (memory the caller owns, any
   * contents) and returns that view; or returns `null` when the record does not authenticate
   * (then `into`'s contents are unspecified). A cipher may ignore `into` when it is too small and
   * allocate as `open` does. Optional: the record layer falls back to `open`.
   */
  openInto?(type: number, seq: bigint, header: Uint8Array, body: Uint8Array, into: Uint8Array): Uint8Array | null;
}
