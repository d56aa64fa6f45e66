/**
 * Load (quick form): 1,000 concurrent sessions per suite and stream transport, each doing round
 * trips of 1 KiB checked byte for byte. The soak (`npm run soak`) runs the full 100 round trips.
 */
import { describe, expect, it } from 'vitest';
import { runLoad } from './lib/load.js';
import { targets } from './lib/targets.js';

const QUICK = { sessions: 1000, roundTrips: 10, size: 1024, boundMs: 60_000 };

describe('robustness: load', () => {
  it.each(targets())('$suite over $transport: 1,000 concurrent sessions × 10 round trips of 1 KiB, no loss, corruption or stuck session', async (target) => {
    const { tally, failures } = await runLoad(target, QUICK);
    expect(failures).toEqual([]);
    expect(tally.sessions).toBe(1000);
    expect(tally.roundTrips).toBe(1000 * QUICK.roundTrips);
    expect(tally.bytes).toBe(2 * 1000 * QUICK.roundTrips * 1024);
    expect(tally.errors.size).toBe(0);
  }, 90_000);
});
