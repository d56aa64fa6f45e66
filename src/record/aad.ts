/**
 * The authenticated prefix of a record in the suites whose MAC or AEAD binds the record's place in
 * the stream (secsess, ccm, cbcmac): `type (1) ‖ seq (u64) ‖ header`. One place, so the suites
 * cannot drift apart in what they bind.
 */

/** A reusable 9-byte scratch buffer for `recordAad`, one per cipher. */
export const recordAadScratch = (): Buffer => Buffer.alloc(1 + 8);

/** `type ‖ u64 seq ‖ header`, written into `scratch` (returned as is when there is no header). */
export function recordAad(scratch: Buffer, type: number, seq: bigint, header: Uint8Array): Buffer {
  scratch[0] = type;
  scratch.writeBigUInt64BE(seq, 1);
  return header.length === 0 ? scratch : Buffer.concat([scratch, header]);
}
