/**
 * Writing a record's 64-bit sequence number into a nonce or header, on the record hot path.
 *
 * Sequence numbers are `bigint`s (they may reach 2^64 − 1), but every real one is far below
 * 2^53, where a `Number` holds it exactly: two 32-bit halves written byte by byte cost a fraction
 * of `Buffer.writeBigUInt64BE`'s range checks. Larger values take the exact `bigint` path.
 */

const TWO_32 = 0x1_0000_0000;

/** Writes `value` (0 ≤ value < 2^64) big-endian at `offset` (8 bytes; the caller sized `out`). */
export function writeU64BE(out: Uint8Array, offset: number, value: bigint): void {
  if (value <= 0x1f_ffff_ffff_ffffn) {
    const n = Number(value);
    const hi = Math.floor(n / TWO_32);
    const lo = n >>> 0;
    out[offset] = hi >>> 24;
    out[offset + 1] = (hi >>> 16) & 0xff;
    out[offset + 2] = (hi >>> 8) & 0xff;
    out[offset + 3] = hi & 0xff;
    out[offset + 4] = lo >>> 24;
    out[offset + 5] = (lo >>> 16) & 0xff;
    out[offset + 6] = (lo >>> 8) & 0xff;
    out[offset + 7] = lo & 0xff;
    return;
  }
  new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(offset, value, false);
}
