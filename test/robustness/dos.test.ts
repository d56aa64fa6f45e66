/** Denial of service (see lib/dos.ts) for every suite over every stream transport. */
import { describe, expect, it } from 'vitest';
import { halfOpenFlood, slowSender } from './lib/dos.js';
import { targets } from './lib/targets.js';

describe('robustness: denial of service', () => {
  it.each(targets())('$suite over $transport: 1,500 half-open handshakes (bound 512): memory bounded, legitimate clients still served', async (target) => {
    const tally = await halfOpenFlood(target, 1500);
    expect(tally.sessions).toBe(3);
  }, 60_000);

  // Over TCP for every suite, over the memory transport for box (the deadline is the transport's,
  // the same code for every suite; the soak runs every pair).
  it.each(targets().filter((t) => t.transport === 'tcp' || t.suite === 'box'))('$suite over $transport: a one-byte-a-second sender is cut off by the handshake timeout', async (target) => {
    const tally = await slowSender(target);
    expect(tally.errors.get('TIMEOUT')).toBe(1);
  }, 30_000);
});
