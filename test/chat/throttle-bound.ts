/** The most password checks the sign-in backoff lets a tireless guesser have, from the policy alone. */
import { DEFAULT_THROTTLE, backoffMs, type ThrottlePolicy } from '../../src/chat/throttle.js';

/** Checks one account's guesser can get in `windowMs` (checks taking no time at all). */
export function maxChecksIn(windowMs: number, p: ThrottlePolicy = DEFAULT_THROTTLE): number {
  let t = 0;
  let checks = 0;
  for (let failures = 0; t <= windowMs; failures++) {
    checks++;
    t += backoffMs(failures + 1, p.freeFailures, p.baseDelayMs, p.maxDelayMs);
  }
  return checks;
}
