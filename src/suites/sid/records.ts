/**
 * `sid` records (seed 000's message 0x10, and 0x11 for the authenticated close):
 *
 *     cid (8) ‖ seq (u64) ‖ AES-128-GCM(AES_key, n(type, dir, seq), aad = type ‖ cid ‖ seq, sid ‖ data) ‖ tag (16)
 *
 * As in the seed, the cid travels in clear (a datagram server finds the session by it) and the
 * sid is the first thing inside the encryption, compared on arrival. sealwire adds the explicit
 * 64-bit sequence number, authenticated and part of the nonce, and the direction byte in the
 * nonce. Each direction has its own key, derived from the AES_key the server chose and the
 * transcript hash (`deriveSidKeys`), so the two legs of a handshake relayed between two servers
 * never share keys. The associated data is `type ‖ cid ‖ seq`, never the frame header: the same
 * record body travels over TCP and over UDP.
 *
 * `sealSidRecord` / `openSidRecord` are transport-neutral: a datagram transport opens a record,
 * then checks `seq` against its replay window (after authentication, never before). Over TCP,
 * `SidRecordCipher` requires `seq` to be exactly the next implicit sequence number.
 */
import { GCM_TAG_SIZE, gcmOpen, gcmSeal } from '../../crypto/aead.js';
import { hkdfSha256 } from '../../crypto/hkdf.js';
import { equalConstantTime, wipe } from '../../crypto/secrets.js';
import type { RecordCipher } from '../../record/cipher.js';
import { AES_KEY_SIZE, CID_SIZE, SID_SIZE, sidNonce, type DirectionByte } from './messages.js';

/** Records per key and direction: 2^22, well inside AES-GCM's usage limit (docs/DESIGN.md §10). */
export const SID_RECORDS_PER_KEY = 1n << 22n;
/** HKDF info of the record keys (the transcript hash is the salt). */
export const SID_RECORD_KEYS_INFO = 'sealwire sid v2 record keys';
/** HKDF info of a key turnover, followed by the direction's letter ('C' or 'S'). */
export const SID_REKEY_INFO = 'sealwire sid rekey ';
const HEADER_SIZE = CID_SIZE + 8;
export const SID_RECORD_OVERHEAD = HEADER_SIZE + SID_SIZE + GCM_TAG_SIZE;

export interface SidRecordKeys {
  /** This direction's AES-128 key (16 bytes). */
  readonly key: Buffer;
  readonly cid: Uint8Array;
  readonly sid: Uint8Array;
  readonly direction: DirectionByte;
}

function aad(type: number, cid: Uint8Array, seq: bigint): Buffer {
  const a = Buffer.allocUnsafe(1 + CID_SIZE + 8);
  a[0] = type;
  a.set(cid, 1);
  a.writeBigUInt64BE(seq, 1 + CID_SIZE);
  return a;
}

/** Seals one record; returns its body as chunks (cid ‖ seq, ciphertext, tag). */
export function sealSidRecord(k: SidRecordKeys, type: number, seq: bigint, data: Uint8Array): Buffer[] {
  const head = Buffer.allocUnsafe(HEADER_SIZE);
  head.set(k.cid, 0);
  head.writeBigUInt64BE(seq, CID_SIZE);
  const plain = Buffer.allocUnsafe(SID_SIZE + data.length);
  plain.set(k.sid, 0);
  plain.set(data, SID_SIZE);
  const { ciphertext, tag } = gcmSeal(k.key, sidNonce(type, k.direction, seq), aad(type, k.cid, seq), plain);
  return [head, ciphertext, tag];
}

/**
 * Opens a record body; `null` when it is too short, names another cid, or does not authenticate
 * or does not carry the session's sid. Returns the authenticated sequence number with the data.
 */
export function openSidRecord(k: SidRecordKeys, type: number, body: Uint8Array): { seq: bigint; data: Uint8Array } | null {
  if (body.length < SID_RECORD_OVERHEAD) return null;
  const cid = body.subarray(0, CID_SIZE);
  if (!equalConstantTime(cid, k.cid)) return null;
  const seq = Buffer.from(body.buffer, body.byteOffset + CID_SIZE, 8).readBigUInt64BE(0);
  const ciphertext = body.subarray(HEADER_SIZE, body.length - GCM_TAG_SIZE);
  const tag = body.subarray(body.length - GCM_TAG_SIZE);
  const plain = gcmOpen(k.key, sidNonce(type, k.direction, seq), aad(type, cid, seq), ciphertext, tag);
  if (!plain) return null;
  // The seed's check: the sid inside must be this session's.
  if (!equalConstantTime(plain.subarray(0, SID_SIZE), k.sid)) return null;
  return { seq, data: plain.subarray(SID_SIZE) };
}

/** One direction of a `sid` session over a stream: the explicit sequence must be the implicit one. */
export class SidRecordCipher implements RecordCipher {
  readonly overhead = SID_RECORD_OVERHEAD;
  readonly recordsPerKey = SID_RECORDS_PER_KEY;

  /** Takes ownership of `keys.key` (wiped by `wipe()`). */
  constructor(private readonly keys: SidRecordKeys) {}

  seal(type: number, seq: bigint, header: Uint8Array, plaintext: Uint8Array): Uint8Array[] {
    return [header, ...sealSidRecord(this.keys, type, seq, plaintext)];
  }

  open(type: number, seq: bigint, _header: Uint8Array, body: Uint8Array): Uint8Array | null {
    const r = openSidRecord(this.keys, type, body);
    return r && r.seq === seq ? r.data : null;
  }

  next(): RecordCipher {
    const info = SID_REKEY_INFO + String.fromCharCode(this.keys.direction);
    return new SidRecordCipher({ ...this.keys, key: hkdfSha256(this.keys.key, Buffer.alloc(0), info, this.keys.key.length) });
  }

  wipe(): void {
    wipe(this.keys.key);
  }
}

/**
 * The two directions' record keys: HKDF-SHA256(ikm = AES_key, salt = th, info =
 * "sealwire sid v2 record keys") → 32 bytes, client→server key first.
 */
export function deriveSidKeys(aesKey: Uint8Array, th: Uint8Array): { c2s: Buffer; s2c: Buffer } {
  const okm = hkdfSha256(aesKey, th, SID_RECORD_KEYS_INFO, 2 * AES_KEY_SIZE);
  return { c2s: okm.subarray(0, AES_KEY_SIZE), s2c: okm.subarray(AES_KEY_SIZE) };
}
