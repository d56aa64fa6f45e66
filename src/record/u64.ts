/**
 * Big-endian 32- and 64-bit integers in records and nonces, on the record hot path, for any
 * `Uint8Array` (datagrams are not always `Buffer`s).
 *
 * Sequence numbers are `bigint`s on streams (they may reach 2^64 − 1) and numbers on datagrams
 * (record/datagram.ts), but every real one is far below 2^53, where a `Number` holds it exactly:
 * two 32-bit halves written byte by byte cost a fraction of `Buffer.writeBigUInt64BE`'s range
 * checks. Larger `bigint`s take the exact `DataView` path.
 */

const TWO_32 = 0x1_0000_0000;
/** The high 32-bit word of 2^53 − 1, the largest number `readU64BENumber` returns. */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;

/** Reads the unsigned 32-bit integer at `offset` (4 bytes; the caller checked the length). */
export function readU32BE(b: Uint8Array, offset: number): number {
  return ((b[offset]! << 24) | (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!) >>> 0;
}

/** Writes `value` (an integer 0 ≤ value < 2^53) big-endian at `offset` (8 bytes). */
export function writeU64BENumber(out: Uint8Array, offset: number, value: number): void {
  // `>>>` takes a number mod 2^32, exact for integers; the high word is then an exact division.
  const lo = value >>> 0;
  const hi = (value - lo) / TWO_32;
  out[offset] = hi >>> 24;
  out[offset + 1] = (hi >>> 16) & 0xff;
  out[offset + 2] = (hi >>> 8) & 0xff;
  out[offset + 3] = hi & 0xff;
  out[offset + 4] = lo >>> 24;
  out[offset + 5] = (lo >>> 16) & 0xff;
  out[offset + 6] = (lo >>> 8) & 0xff;
  out[offset + 7] = lo & 0xff;
}

/**
 * Reads the unsigned 64-bit integer at `offset` (8 bytes; the caller checked the length) as a
 * number, or -1 when it is 2^53 or more (not exact as a number).
 */
export function readU64BENumber(b: Uint8Array, offset: number): number {
  const hi = readU32BE(b, offset);
  if (hi > MAX_SAFE_HIGH_WORD) return -1;
  return hi * TWO_32 + readU32BE(b, offset + 4);
}

/** Writes `value` (0 ≤ value < 2^64) big-endian at `offset` (8 bytes; the caller sized `out`). */
export function writeU64BE(out: Uint8Array, offset: number, value: bigint): void {
  if (value <= 0x1f_ffff_ffff_ffffn) writeU64BENumber(out, offset, Number(value));
  else new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(offset, value, false);
}
