/**
 * `box` records: `Box[data](ECs -> ES)` / `Box[data](ESs -> EC)` under the session's precomputed
 * direction keys. secretbox has no associated data, so the record's type and sequence number go
 * into the nonce (messages.ts); the length is implicit in the ciphertext. A flipped header bit
 * therefore changes the nonce or the body, and the MAC fails.
 *
 * The frame is built in one buffer: header ‖ MAC ‖ ciphertext (from the transport's pool when it
 * has one, record/buffers.ts). A record the session owns is opened in place.
 */
import { BOX_MAC_SIZE, BOX_NONCE_SIZE, blake2b, secretboxOpen, secretboxOpenInPlace, secretboxSealInto } from '../../crypto/box.js';
import type { Allocate } from '../../record/buffers.js';
import { wipe } from '../../crypto/secrets.js';
import type { RecordCipher } from '../../record/cipher.js';
import { writeCounterNonce, type DirectionByte } from './messages.js';

const REKEY_CONTEXT = Buffer.from('sealwire box rekey');

/**
 * XSalsa20's 192-bit nonces hold a 64-bit counter without birthday concerns; the key still turns
 * over every 2^32 records so that no key protects an unbounded amount of traffic.
 */
const RECORDS_PER_KEY = 1n << 32n;

export class BoxRecordCipher implements RecordCipher {
  readonly overhead = BOX_MAC_SIZE;
  readonly recordsPerKey = RECORDS_PER_KEY;
  private readonly nonce = Buffer.alloc(BOX_NONCE_SIZE);

  /** Takes ownership of `key` (wiped by `wipe()`). */
  constructor(
    private readonly key: Buffer,
    private readonly direction: DirectionByte,
  ) {}

  seal(type: number, seq: bigint, header: Uint8Array, plaintext: Uint8Array, allocate: Allocate = Buffer.allocUnsafe): Uint8Array[] {
    writeCounterNonce(this.nonce, type, this.direction, seq);
    const out = allocate(header.length + BOX_MAC_SIZE + plaintext.length);
    out.set(header, 0);
    secretboxSealInto(out.subarray(header.length), plaintext, this.nonce, this.key);
    return [out];
  }

  open(type: number, seq: bigint, _header: Uint8Array, body: Uint8Array): Uint8Array | null {
    writeCounterNonce(this.nonce, type, this.direction, seq);
    return secretboxOpen(body, this.nonce, this.key);
  }

  openInPlace(type: number, seq: bigint, _header: Uint8Array, body: Uint8Array): Uint8Array | null {
    writeCounterNonce(this.nonce, type, this.direction, seq);
    return secretboxOpenInPlace(body, this.nonce, this.key);
  }

  next(): RecordCipher {
    return new BoxRecordCipher(blake2b(32, REKEY_CONTEXT, this.key), this.direction);
  }

  wipe(): void {
    wipe(this.key);
  }
}
