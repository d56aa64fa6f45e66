/**
 * `cbcmac` records (seed 004, step 12): `IV (16) ‖ MAC (16) ‖ AES-256-CBC(message)`.
 *
 * The seed MACs the plaintext (MAC-then-encrypt, the padding-oracle shape); sealwire MACs the
 * ciphertext instead (encrypt-then-MAC, crypto/cbc-hmac.ts): HMAC-SHA256 truncated to 128 bits,
 * over the record type, the implicit 64-bit sequence number, the bytes before the body, the IV
 * and the ciphertext, checked in constant time before decryption. Each direction has its own
 * keys.
 */
import { CBC_IV_SIZE, CBC_RECORDS_PER_KEY, cbcCiphertextLength, deriveEtmKeyPairs, etmOpen, etmSeal, rekeyEtm, type EtmKeys } from '../../crypto/cbc-hmac.js';
import { recordAad, recordAadScratch } from '../../record/aad.js';
import { wipe } from '../../crypto/secrets.js';
import type { Rng } from '../../crypto/random.js';
import type { RecordCipher } from '../../record/cipher.js';
import { MAC_SIZE } from './messages.js';

/** HKDF info of a key turnover (crypto/cbc-hmac.ts `rekeyEtm`). */
export const CBCMAC_REKEY_INFO = 'sealwire cbcmac rekey';

export class CbcmacRecordCipher implements RecordCipher {
  readonly overhead = CBC_IV_SIZE + MAC_SIZE + 1;
  readonly recordsPerKey = CBC_RECORDS_PER_KEY;
  private readonly aadPrefix = recordAadScratch();

  /** Takes ownership of the keys (wiped by `wipe()`). */
  constructor(
    private readonly keys: EtmKeys,
    private readonly rng: Rng,
  ) {}

  sealedLength(plaintextLength: number): number {
    return CBC_IV_SIZE + MAC_SIZE + cbcCiphertextLength(plaintextLength);
  }

  seal(type: number, seq: bigint, header: Uint8Array, plaintext: Uint8Array): Uint8Array[] {
    const iv = this.rng(CBC_IV_SIZE);
    const { ciphertext, tag } = etmSeal(this.keys, iv, this.aad(type, seq, header), plaintext, MAC_SIZE);
    return [header, iv, tag, ciphertext];
  }

  open(type: number, seq: bigint, header: Uint8Array, body: Uint8Array): Uint8Array | null {
    const ctLength = body.length - CBC_IV_SIZE - MAC_SIZE;
    if (ctLength < 16 || ctLength % 16 !== 0) return null;
    const iv = body.subarray(0, CBC_IV_SIZE);
    const tag = body.subarray(CBC_IV_SIZE, CBC_IV_SIZE + MAC_SIZE);
    return etmOpen(this.keys, iv, this.aad(type, seq, header), body.subarray(CBC_IV_SIZE + MAC_SIZE), tag);
  }

  next(): RecordCipher {
    return new CbcmacRecordCipher(rekeyEtm(this.keys, CBCMAC_REKEY_INFO), this.rng);
  }

  wipe(): void {
    wipe(this.keys.enc, this.keys.mac);
  }

  private aad(type: number, seq: bigint, header: Uint8Array): Buffer {
    return recordAad(this.aadPrefix, type, seq, header);
  }
}

/** Both directions' keys from the transported AES-key ‖ MAC-key and the transcript hash. */
export function deriveCbcmacKeys(secret: Uint8Array, th: Uint8Array): { c2s: EtmKeys; s2c: EtmKeys } {
  return deriveEtmKeyPairs(secret, th, 'sealwire cbcmac v1 record keys');
}
