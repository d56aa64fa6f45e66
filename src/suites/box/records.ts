/**
 * `box` records, in one of two ciphers that the handshake negotiates (messages.ts, `BoxCipherId`).
 *
 * **XSalsa20-Poly1305** (seed 003): `Box[data](ECs -> ES)` / `Box[data](ESs -> EC)` under the
 * session's precomputed direction keys. secretbox has no associated data, so the record's type and sequence number go
 * into the nonce (messages.ts); the length is implicit in the ciphertext. A flipped header bit
 * therefore changes the nonce or the body, and the MAC fails.
 *
 * The frame is built in one buffer: header ‖ MAC ‖ ciphertext (from the transport's pool when it
 * has one, record/buffers.ts). A record the session owns is opened in place.
 *
 * **ChaCha20-Poly1305** (RFC 8439, crypto/record-aead.ts): body = ciphertext ‖ tag (16), the
 * record header (stream: length ‖ type; datagram: type ‖ cid ‖ seq) as associated data, nonce =
 * direction byte ‖ 3 zero bytes ‖ u64 sequence (big-endian). Its key per direction is
 * `BLAKE2b-256(key = session direction key, "sealwire box record" ‖ offer ‖ choice)`
 * (`recordKey`): the negotiation is in the key, so two sides that disagree about it cannot
 * exchange a single record. Directions have separate keys and separate nonce prefixes.
 */
import { SealwireError } from '../../errors.js';
import { BOX_MAC_SIZE, BOX_NONCE_SIZE, blake2b, blake2bInto, secretboxOpen, secretboxOpenInPlace, secretboxOpenInto, secretboxSealInto } from '../../crypto/box.js';
import type { Allocate } from '../../record/buffers.js';
import { writeU64BE } from '../../record/u64.js';
import { wipe } from '../../crypto/secrets.js';
import type { RecordCipher } from '../../record/cipher.js';
import { CHACHA_KEY_SIZE, CHACHA_NONCE_SIZE, CHACHA_TAG_SIZE, OPENSSL_FROM, chachaOpen, chachaSealInto, chachaSealOpenSsl } from '../../crypto/record-aead.js';
import type { DirectionKeys } from '../../crypto/box.js';
import type { BoxCipherName } from '../../crypto/record-aead.js';
import { BoxCipherId, Direction, writeCounterNonce, type DirectionByte } from './messages.js';

const REKEY_CONTEXT = Buffer.from('sealwire box rekey');

/**
 * Both ciphers' nonces (XSalsa20: 192 bits, ChaCha20: 96 bits) hold the 64-bit counter without
 * birthday concerns; the key still turns over every 2^32 records so that no key protects an
 * unbounded amount of traffic.
 */
const RECORDS_PER_KEY = 1n << 32n;

/**
 * The nonce buffers every box record cipher writes before each seal or open: one per process, not
 * one per direction (an idle session keeps fewer objects). Safe because every call rewrites all of
 * a nonce's varying bytes right before libsodium or OpenSSL reads it, synchronously, and the other
 * bytes are always zero; a nonce is public.
 */
const XSALSA_NONCE = Buffer.alloc(BOX_NONCE_SIZE);
const CHACHA_NONCE = Buffer.alloc(CHACHA_NONCE_SIZE);

/** The ChaCha20-Poly1305 record nonce: direction ‖ 3 zero bytes ‖ u64 sequence (big-endian). */
function chachaNonce(direction: DirectionByte, seq: bigint): Buffer {
  CHACHA_NONCE[0] = direction;
  writeU64BE(CHACHA_NONCE, 4, seq);
  return CHACHA_NONCE;
}

/** What both record ciphers share: one direction's key, its turnover and its wiping. */
abstract class BoxDirectionCipher {
  readonly recordsPerKey = RECORDS_PER_KEY;

  /** Takes ownership of `key` (wiped by `wipe()`). */
  constructor(
    protected readonly key: Buffer,
    protected readonly direction: DirectionByte,
  ) {}

  /** The same cipher under `key`. */
  protected abstract withKey(key: Buffer): RecordCipher;

  next(): RecordCipher {
    return this.withKey(blake2b(32, REKEY_CONTEXT, this.key));
  }

  wipe(): void {
    wipe(this.key);
  }
}

export class BoxRecordCipher extends BoxDirectionCipher implements RecordCipher {
  readonly overhead = BOX_MAC_SIZE;
  private readonly nonce = XSALSA_NONCE;

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

  openInto(type: number, seq: bigint, header: Uint8Array, body: Uint8Array, into: Uint8Array): Uint8Array | null {
    if (into.length < body.length - BOX_MAC_SIZE) return this.open(type, seq, header, body);
    writeCounterNonce(this.nonce, type, this.direction, seq);
    return secretboxOpenInto(body, this.nonce, this.key, into);
  }

  protected withKey(key: Buffer): RecordCipher {
    return new BoxRecordCipher(key, this.direction);
  }
}

const RECORD_KEY_CONTEXT = Buffer.from('sealwire box record');

/**
 * The ChaCha20-Poly1305 record key of one direction: `BLAKE2b-256(key = sessionKey, "sealwire box
 * record" ‖ offer ‖ choice)`. Does not consume `sessionKey`.
 */
export function recordKey(sessionKey: Uint8Array, offer: number, choice: number): Buffer {
  const out = Buffer.alloc(CHACHA_KEY_SIZE);
  recordKeyInto(out, sessionKey, offer, choice);
  return out;
}

/** `recordKey`, written into `out` (32 bytes). */
function recordKeyInto(out: Uint8Array, sessionKey: Uint8Array, offer: number, choice: number): void {
  blake2bInto(out, Buffer.concat([RECORD_KEY_CONTEXT, Buffer.from([offer, choice])]), sessionKey);
}

export class BoxChachaRecordCipher extends BoxDirectionCipher implements RecordCipher {
  readonly overhead = CHACHA_TAG_SIZE;

  /** Takes ownership of `key` (a record key from `recordKey`, wiped by `wipe()`). */
  constructor(key: Buffer, direction: DirectionByte) {
    if (key.length !== CHACHA_KEY_SIZE) throw new SealwireError('INVALID_ARGUMENT', `ChaCha20-Poly1305 record key must be ${CHACHA_KEY_SIZE} bytes`);
    super(key, direction);
  }

  seal(_type: number, seq: bigint, header: Uint8Array, plaintext: Uint8Array, allocate: Allocate = Buffer.allocUnsafe): Uint8Array[] {
    const nonce = chachaNonce(this.direction, seq);
    const n = plaintext.length;
    if (n >= OPENSSL_FROM) {
      const [ciphertext, tag] = chachaSealOpenSsl(plaintext, header, nonce, this.key);
      return [header, ciphertext, tag];
    }
    const h = header.length;
    const out = allocate(h + n + CHACHA_TAG_SIZE);
    out.set(header, 0);
    chachaSealInto(out.subarray(h, h + n), out.subarray(h + n), plaintext, header, nonce, this.key);
    return [out];
  }

  open(_type: number, seq: bigint, header: Uint8Array, body: Uint8Array): Uint8Array | null {
    const nonce = chachaNonce(this.direction, seq);
    return chachaOpen(body, header, nonce, this.key);
  }

  openInPlace(_type: number, seq: bigint, header: Uint8Array, body: Uint8Array): Uint8Array | null {
    if (body.length < CHACHA_TAG_SIZE) return null;
    const nonce = chachaNonce(this.direction, seq);
    // Large records, when OpenSSL is on (record-aead.ts): into a new buffer.
    if (body.length - CHACHA_TAG_SIZE >= OPENSSL_FROM) return chachaOpen(body, header, nonce, this.key);
    return chachaOpen(body, header, nonce, this.key, body.subarray(0, body.length - CHACHA_TAG_SIZE));
  }

  openInto(type: number, seq: bigint, header: Uint8Array, body: Uint8Array, into: Uint8Array): Uint8Array | null {
    const n = body.length - CHACHA_TAG_SIZE;
    if (n < 0) return null;
    if (into.length < n || n >= OPENSSL_FROM) return this.open(type, seq, header, body);
    const nonce = chachaNonce(this.direction, seq);
    return chachaOpen(body, header, nonce, this.key, into.subarray(0, n));
  }

  protected withKey(key: Buffer): RecordCipher {
    return new BoxChachaRecordCipher(key, this.direction);
  }
}

/**
 * The record ciphers of an established session, as seen by `role`, for the negotiated `choice`.
 * Takes ownership of `keys`: XSalsa20-Poly1305 records use them as they are (seed 003);
 * ChaCha20-Poly1305 records use keys derived from them with the Offer and the Choice, and `keys`
 * are wiped.
 */
export function establishRecords(role: 'client' | 'server', choice: BoxCipherName, offer: number, keys: DirectionKeys): { send: RecordCipher; receive: RecordCipher } {
  const sendDir = role === 'client' ? Direction.CLIENT_TO_SERVER : Direction.SERVER_TO_CLIENT;
  const receiveDir = role === 'client' ? Direction.SERVER_TO_CLIENT : Direction.CLIENT_TO_SERVER;
  if (choice === 'xsalsa20-poly1305') {
    return { send: new BoxRecordCipher(keys.send, sendDir), receive: new BoxRecordCipher(keys.receive, receiveDir) };
  }
  const id = BoxCipherId[choice];
  // Both record keys in one buffer: an idle session keeps one allocation for them, not two.
  const both = Buffer.alloc(2 * CHACHA_KEY_SIZE);
  const sendKey = both.subarray(0, CHACHA_KEY_SIZE);
  const receiveKey = both.subarray(CHACHA_KEY_SIZE);
  recordKeyInto(sendKey, keys.send, offer, id);
  recordKeyInto(receiveKey, keys.receive, offer, id);
  const send = new BoxChachaRecordCipher(sendKey, sendDir);
  const receive = new BoxChachaRecordCipher(receiveKey, receiveDir);
  wipe(keys.send, keys.receive);
  return { send, receive };
}
