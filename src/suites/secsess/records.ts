/**
 * `secsess` records (seed 001, "SecSess-TCP"):
 *
 *     IV (16) ‖ AES-256-CBC(enc, IV, NONCE (u64) ‖ MSG_LENGTH (u32) ‖ MSG) ‖ HMAC-SHA256 (32)
 *
 * - Encrypt-then-MAC: the HMAC covers the record type, the implicit 64-bit sequence number, the
 *   bytes before the body (the frame header), the IV and the ciphertext; it is verified in
 *   constant time before anything is decrypted (crypto/cbc-hmac.ts). The seed MACs the same
 *   `α = IV ‖ AES(…)`; the type, sequence number and header are added so that a record cannot be
 *   replayed, reordered, retyped or cut.
 * - NONCE, as the seed says, rises by a random 1 to 10 with every record a side writes; a record
 *   whose NONCE does not rise above the last one read is refused. Each direction has its own
 *   NONCE (and its own keys), so a record cannot be reflected back to its sender.
 * - MSG_LENGTH must equal the length of MSG; PKCS#7 padding follows it.
 */
import { SealwireError } from '../../errors.js';
import { CBC_IV_SIZE, CBC_RECORDS_PER_KEY, cbcCiphertextLength, deriveEtmKeyPairs, etmOpen, etmSeal, rekeyEtm, type EtmKeys } from '../../crypto/cbc-hmac.js';
import { recordAad, recordAadScratch } from '../../record/aad.js';
import { HMAC_SHA256_SIZE } from '../../crypto/hmac.js';
import { wipe } from '../../crypto/secrets.js';
import type { Rng } from '../../crypto/random.js';
import type { RecordCipher } from '../../record/cipher.js';

const INNER_HEADER = 8 + 4;
const MAX_NONCE = 0xffff_ffff_ffff_ffffn;
export const SECSESS_REKEY_INFO = 'sealwire secsess rekey';

/** The nonce state one direction shares between its key epochs. */
interface NonceState {
  value: bigint;
}

export class SecsessRecordCipher implements RecordCipher {
  readonly overhead = CBC_IV_SIZE + INNER_HEADER + 1 + HMAC_SHA256_SIZE;
  readonly recordsPerKey = CBC_RECORDS_PER_KEY;
  private readonly aad = recordAadScratch();

  /** Takes ownership of the keys (wiped by `wipe()`). */
  constructor(
    private readonly keys: EtmKeys,
    private readonly rng: Rng,
    private readonly nonce: NonceState = { value: 0n },
  ) {}

  /** The NONCE of the last record sealed or opened (tests). */
  get lastNonce(): bigint {
    return this.nonce.value;
  }

  sealedLength(plaintextLength: number): number {
    return CBC_IV_SIZE + cbcCiphertextLength(INNER_HEADER + plaintextLength) + HMAC_SHA256_SIZE;
  }

  seal(type: number, seq: bigint, header: Uint8Array, plaintext: Uint8Array): Uint8Array[] {
    const random = this.rng(CBC_IV_SIZE + 1);
    const iv = random.subarray(0, CBC_IV_SIZE);
    // A uniform step of 1..10: bytes 250..255 would favour small steps, so they are drawn again.
    let r = random[CBC_IV_SIZE]!;
    while (r >= 250) r = this.rng(1)[0]!;
    const next = this.nonce.value + 1n + BigInt(r % 10);
    if (next > MAX_NONCE) throw new SealwireError('LIMIT', 'secsess: NONCE reached its 64-bit limit; the session must end');
    this.nonce.value = next;
    const inner = Buffer.allocUnsafe(INNER_HEADER + plaintext.length);
    inner.writeBigUInt64BE(next, 0);
    inner.writeUInt32BE(plaintext.length, 8);
    inner.set(plaintext, INNER_HEADER);
    const { ciphertext, tag } = etmSeal(this.keys, iv, this.macInput(type, seq, header), inner, HMAC_SHA256_SIZE);
    return [header, iv, ciphertext, tag];
  }

  open(type: number, seq: bigint, header: Uint8Array, body: Uint8Array): Uint8Array | null {
    const ctLength = body.length - CBC_IV_SIZE - HMAC_SHA256_SIZE;
    if (ctLength < cbcCiphertextLength(INNER_HEADER) || ctLength % 16 !== 0) return null;
    const iv = body.subarray(0, CBC_IV_SIZE);
    const ciphertext = body.subarray(CBC_IV_SIZE, CBC_IV_SIZE + ctLength);
    const tag = body.subarray(CBC_IV_SIZE + ctLength);
    const inner = etmOpen(this.keys, iv, this.macInput(type, seq, header), ciphertext, tag);
    if (!inner || inner.length < INNER_HEADER) return null;
    const nonce = inner.readBigUInt64BE(0);
    const length = inner.readUInt32BE(8);
    if (length !== inner.length - INNER_HEADER) return null;
    // The seed's rule: a NONCE that does not rise marks an incorrect record.
    if (nonce <= this.nonce.value) return null;
    this.nonce.value = nonce;
    return inner.subarray(INNER_HEADER);
  }

  next(): RecordCipher {
    return new SecsessRecordCipher(rekeyEtm(this.keys, SECSESS_REKEY_INFO), this.rng, this.nonce);
  }

  wipe(): void {
    wipe(this.keys.enc, this.keys.mac);
  }

  private macInput(type: number, seq: bigint, header: Uint8Array): Buffer {
    return recordAad(this.aad, type, seq, header);
  }
}

/** Keys of both directions from the transported AES_KEY ‖ HMAC_KEY and the server's random. */
export function deriveSecsessKeys(aesKey: Uint8Array, hmacKey: Uint8Array, serverRandom: Uint8Array): { c2s: EtmKeys; s2c: EtmKeys } {
  const ikm = Buffer.concat([aesKey, hmacKey]);
  try {
    return deriveEtmKeyPairs(ikm, serverRandom, 'sealwire secsess v1 record keys');
  } finally {
    wipe(ikm);
  }
}
