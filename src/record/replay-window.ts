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
 */

const BLOCK_BITS = 32;
const WINDOW_BLOCKS = 256;
const BLOCK_MASK = BigInt(WINDOW_BLOCKS - 1);
/** Sequence numbers at most this far behind the highest seen are still accepted once. */
export const WINDOW_SIZE = (WINDOW_BLOCKS - 1) * BLOCK_BITS;

export class ReplayWindow {
  /** Allocated on the first accepted record: an idle session holds no bitmap. */
  private bits: Uint32Array | null = null;
  /** Highest sequence number accepted, or -1n before the first. */
  private last = -1n;

  /** Highest accepted sequence number (-1n before any). */
  get highest(): bigint {
    return this.last;
  }

  /** True when `seq` is neither behind the window nor already seen. Does not change the window. */
  mayAccept(seq: bigint): boolean {
    if (seq < 0n) return false;
    if (seq > this.last) return true;
    if (this.last - seq >= BigInt(WINDOW_SIZE)) return false;
    const bits = this.bits;
    return bits === null || (bits[this.blockOf(seq)]! & (1 << Number(seq & 31n))) === 0;
  }

  /**
   * Records `seq` as seen; returns false (and changes nothing) when it is a replay or too old.
   * Call only for a record that authenticated.
   */
  accept(seq: bigint): boolean {
    if (!this.mayAccept(seq)) return false;
    const bits = (this.bits ??= new Uint32Array(WINDOW_BLOCKS));
    if (seq > this.last) {
      const current = this.last < 0n ? -1n : this.last >> 5n;
      const target = seq >> 5n;
      // Clear the blocks the window slides over (all of them if it jumps past the whole window).
      const diff = target - current;
      const clear = diff > BigInt(WINDOW_BLOCKS) ? WINDOW_BLOCKS : Number(diff);
      for (let i = 1; i <= clear; i++) bits[Number((current + BigInt(i)) & BLOCK_MASK)] = 0;
      this.last = seq;
    }
    const b = this.blockOf(seq);
    bits[b] = (bits[b] ?? 0) | (1 << Number(seq & 31n));
    return true;
  }

  private blockOf(seq: bigint): number {
    return Number((seq >> 5n) & BLOCK_MASK);
  }
}
