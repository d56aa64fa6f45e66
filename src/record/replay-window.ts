/**
 * Sliding replay window for datagram records (RFC 6479, as wireguard-go's `replay/replay.go`).
 *
 * A bitmap of `WINDOW_BLOCKS` 32-bit words remembers which sequence numbers near the highest one
 * have been seen. `WINDOW_SIZE` (8160) numbers behind the highest are tracked, a little wider than
 * WireGuard's 8128 (docs/DESIGN.md §10, quinn#2710: a narrow window silently drops reordered packets).
 *
 * Rule: `accept` is called only after a record has authenticated (docs/DESIGN.md §10: an unauthenticated
 * packet must never move the window). `mayAccept` is the read-only pre-check that lets a receiver
 * skip decryption of an obvious replay; it never changes the state.
 *
 * Sequence numbers are JavaScript numbers, exact up to `MAX_WINDOW_SEQUENCE` (2^53 − 1): no BigInt
 * on the per-record path. The wire carries 64 bits; a number at or above 2^53 is refused here (it
 * would take 2^53 records to reach honestly: 28 years at 10 million records a second), and the
 * datagram layer refuses it before decrypting (record/datagram.ts). `bigint` arguments are taken
 * too, for callers that hold one, under the same bound.
 */

const BLOCK_BITS = 32;
const WINDOW_BLOCKS = 256;
const BLOCK_MASK = WINDOW_BLOCKS - 1;
/** Sequence numbers at most this far behind the highest seen are still accepted once. */
export const WINDOW_SIZE = (WINDOW_BLOCKS - 1) * BLOCK_BITS;
/** The highest sequence number a window takes: 2^53 − 1, the last exact integer of a number. */
export const MAX_WINDOW_SEQUENCE = Number.MAX_SAFE_INTEGER;

/** `seq` as an exact number, or -1 when it is not an integer in 0..MAX_WINDOW_SEQUENCE. */
function exact(seq: number | bigint): number {
  if (typeof seq === 'bigint') return seq >= 0n && seq <= BigInt(MAX_WINDOW_SEQUENCE) ? Number(seq) : -1;
  return Number.isSafeInteger(seq) && seq >= 0 ? seq : -1;
}

export class ReplayWindow {
  /** Allocated on the first accepted record: an idle session holds no bitmap. */
  private bits: Uint32Array | null = null;
  /** Highest sequence number accepted, or -1 before the first. */
  private last = -1;

  /** Highest accepted sequence number (-1 before any). */
  get highest(): number {
    return this.last;
  }

  /**
   * True when `seq` is neither behind the window nor already seen (and at most
   * `MAX_WINDOW_SEQUENCE`). Does not change the window.
   */
  mayAccept(seq: number | bigint): boolean {
    const s = exact(seq);
    return s >= 0 && this.fresh(s);
  }

  /**
   * Records `seq` as seen; returns false (and changes nothing) when it is a replay, too old or out
   * of range. Call only for a record that authenticated.
   */
  accept(seq: number | bigint): boolean {
    const s = exact(seq);
    if (s < 0 || !this.fresh(s)) return false;
    const bits = (this.bits ??= new Uint32Array(WINDOW_BLOCKS));
    if (s > this.last) {
      // Blocks are numbered floor(seq / 32): exact for numbers, as 32 is a power of two.
      const current = this.last < 0 ? -1 : Math.floor(this.last / BLOCK_BITS);
      const target = Math.floor(s / BLOCK_BITS);
      // Clear the blocks the window slides over (all of them if it jumps past the whole window).
      const clear = Math.min(target - current, WINDOW_BLOCKS);
      for (let i = 1; i <= clear; i++) bits[(current + i) & BLOCK_MASK] = 0;
      this.last = s;
    }
    const b = blockOf(s);
    bits[b] = bits[b]! | (1 << (s & 31));
    return true;
  }

  /** The read-only check on an exact, in-range number. */
  private fresh(s: number): boolean {
    if (s > this.last) return true;
    if (this.last - s >= WINDOW_SIZE) return false;
    const bits = this.bits;
    return bits === null || (bits[blockOf(s)]! & (1 << (s & 31))) === 0;
  }
}

/**
 * The bitmap word of `s`: floor(s / 32) mod 256. `>>>` first takes `s` mod 2^32 (exact for any
 * integer number), which keeps bits 5–12 as they are.
 */
function blockOf(s: number): number {
  return (s >>> 5) & BLOCK_MASK;
}
