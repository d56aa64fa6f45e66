/**
 * Randomness is injected, never fetched ad hoc: the sans-I/O core (suites/, record/, session/)
 * takes an `Rng` so that tests can replay a handshake byte for byte. Production code uses
 * `systemRng` (the OS CSPRNG through OpenSSL).
 */
import { randomBytes } from 'node:crypto';

/** Returns `n` fresh random bytes. */
export type Rng = (n: number) => Buffer;

export const systemRng: Rng = (n) => randomBytes(n);
