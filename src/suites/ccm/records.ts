/**
 * `ccm` records (seed 002): `IV (12) ‖ AES-128-CCM ciphertext ‖ tag (16)`, fixed-size fields in
 * place of the seed's `ciphertext@IV@tag` (a delimiter that breaks on binary data).
 *
 * - The IV is the seed's: 12 random bytes R, encrypted with AES-CCM under nonce R; the first 12
 *   bytes of that ciphertext are the IV. sealwire derives it under a key of its own (`ivKey`), so
 *   the derivation never meets a record's nonce under the record key. Nonces are random (96
 *   bits), so the key turns over every 2^21 records (docs/DESIGN.md §10: CCM usage limits), where the
 *   chance of any IV repeating stays below 2^-54.
 * - The associated data is the record type, the implicit 64-bit sequence number and the header
 *   before the body (the seed authenticates only the ciphertext): replayed, reordered, retyped or
 *   cut records do not open.
 */
import { CCM_NONCE_SIZE, CCM_TAG_SIZE, ccmOpen, ccmSeal } from '../../crypto/aead.js';
import { hkdfSha256 } from '../../crypto/hkdf.js';
import { wipe } from '../../crypto/secrets.js';
import type { Rng } from '../../crypto/random.js';
import type { RecordCipher } from '../../record/cipher.js';
import { recordAad, recordAadScratch } from '../../record/aad.js';

const RECORDS_PER_KEY = 1n << 21n;
const KEY_SIZE = 16;

export interface CcmKeys {
  /** AES-128 key of the records. */
  readonly key: Buffer;
  /** AES-128 key of the IV derivation. */
  readonly ivKey: Buffer;
}

/** The seed's derived IV: CCM-encrypt R under nonce R, keep the first 12 bytes. */
export function deriveIv(ivKey: Uint8Array, random: Uint8Array): Buffer {
  return ccmSeal(ivKey, random, new Uint8Array(0), random).ciphertext;
}

export class CcmRecordCipher implements RecordCipher {
  readonly overhead = CCM_NONCE_SIZE + CCM_TAG_SIZE;
  readonly recordsPerKey = RECORDS_PER_KEY;
  private readonly aadPrefix = recordAadScratch();

  /** Takes ownership of the keys (wiped by `wipe()`). */
  constructor(
    private readonly keys: CcmKeys,
    private readonly rng: Rng,
  ) {}

  seal(type: number, seq: bigint, header: Uint8Array, plaintext: Uint8Array): Uint8Array[] {
    const iv = deriveIv(this.keys.ivKey, this.rng(CCM_NONCE_SIZE));
    const { ciphertext, tag } = ccmSeal(this.keys.key, iv, this.aad(type, seq, header), plaintext);
    return [header, iv, ciphertext, tag];
  }

  open(type: number, seq: bigint, header: Uint8Array, body: Uint8Array): Uint8Array | null {
    if (body.length < this.overhead) return null;
    const iv = body.subarray(0, CCM_NONCE_SIZE);
    const ciphertext = body.subarray(CCM_NONCE_SIZE, body.length - CCM_TAG_SIZE);
    const tag = body.subarray(body.length - CCM_TAG_SIZE);
    return ccmOpen(this.keys.key, iv, this.aad(type, seq, header), ciphertext, tag);
  }

  next(): RecordCipher {
    const okm = hkdfSha256(Buffer.concat([this.keys.key, this.keys.ivKey]), Buffer.alloc(0), 'sealwire ccm rekey', 2 * KEY_SIZE);
    return new CcmRecordCipher({ key: okm.subarray(0, KEY_SIZE), ivKey: okm.subarray(KEY_SIZE) }, this.rng);
  }

  wipe(): void {
    wipe(this.keys.key, this.keys.ivKey);
  }

  private aad(type: number, seq: bigint, header: Uint8Array): Buffer {
    return recordAad(this.aadPrefix, type, seq, header);
  }
}

/** Both directions' keys from the agreed secret, the server's nonce and the transcript hash. */
export function deriveCcmKeys(secret: Uint8Array, serverNonce: Uint8Array, th: Uint8Array): { c2s: CcmKeys; s2c: CcmKeys } {
  const ikm = Buffer.concat([secret, serverNonce]);
  const okm = hkdfSha256(ikm, th, 'sealwire ccm v1 record keys', 4 * KEY_SIZE);
  wipe(ikm);
  const part = (i: number): Buffer => okm.subarray(i * KEY_SIZE, (i + 1) * KEY_SIZE);
  return { c2s: { key: part(0), ivKey: part(1) }, s2c: { key: part(2), ivKey: part(3) } };
}
