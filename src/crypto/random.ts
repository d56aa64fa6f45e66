/**
 * Randomness is injected, never fetched ad hoc: the sans-I/O core (suites/, record/, session/)
 * takes an `Rng` so that tests can replay a handshake byte for byte. Production code uses
 * `systemRng` (the OS CSPRNG through OpenSSL).
 *
 * `systemRng` draws small requests from a 4 KiB block filled by one `randomFillSync` call, and
 * zeroes each part of the block as it hands it out (a copy, in memory of the caller's own). A
 * `box` handshake asks for 32 + 16 + 24 bytes on each side; one OpenSSL call per request cost more
 * than the rest of the handshake's bookkeeping on a busy server (BENCHMARKS.md, fourth pass).
 * Node never forks a running process without exec (cluster workers start fresh), so no two
 * processes can hold the same block.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { SealwireError } from '../errors.js';

/** Returns `n` fresh random bytes. */
export type Rng = (n: number) => Buffer;

/** Bytes fetched at once from the CSPRNG. */
const BLOCK_SIZE = 4096;
/** Requests larger than this go straight to the CSPRNG. */
const DIRECT_FROM = 256;

let block: Buffer | null = null;
/** Bytes of `block` already handed out (and zeroed). */
let used = BLOCK_SIZE;

export const systemRng: Rng = (n) => {
  if (!Number.isInteger(n) || n < 0) throw new SealwireError('INVALID_ARGUMENT', `random byte count must be a non-negative integer, got ${n}`);
  if (n > DIRECT_FROM) return randomBytes(n);
  if (block === null || used + n > BLOCK_SIZE) {
    block ??= Buffer.allocUnsafeSlow(BLOCK_SIZE);
    randomFillSync(block);
    used = 0;
  }
  // Buffer.alloc: memory of the caller's own, not a slice of Node's shared pool.
  const out = Buffer.alloc(n);
  block!.copy(out, 0, used, used + n);
  block!.fill(0, used, used + n);
  used += n;
  return out;
};

/**
 * Test seam: how many bytes of the current block were handed out, and whether they all were
 * zeroed. (It reveals nothing of the bytes still to come.)
 */
export function rngBlockForTestingOnly(): { used: number; handedOutAreZero: boolean } {
  if (!block) return { used: 0, handedOutAreZero: true };
  return { used, handedOutAreZero: block.subarray(0, Math.min(used, BLOCK_SIZE)).every((b) => b === 0) };
}
