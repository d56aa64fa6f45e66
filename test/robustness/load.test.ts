/**
 * Load (quick form): concurrent sessions per suite and stream transport, each doing round trips of
 * 1 KiB checked byte for byte. 1,000 concurrent sessions for box over TCP and for one RSA suite
 * (secsess) over TCP; 200 for the other pairs, to keep `npm test` within its time budget on two
 * cores. The soak (`npm run soak`) runs 1,000 sessions × 100 round trips for every pair.
 */
import { describe, expect, it } from 'vitest';
import { runLoad } from './lib/load.js';
import { targets, type Target } from './lib/targets.js';

const FULL = (t: Target): boolean => t.transport === 'tcp' && (t.suite === 'box' || t.suite === 'secsess');
const cases = targets().map((t) => ({ ...t, sessions: FULL(t) ? 1000 : 200 }));

describe('robustness: load', () => {
  it.each(cases)('$suite over $transport: $sessions concurrent sessions × 10 round trips of 1 KiB, no loss, corruption or stuck session', async (c) => {
    const o = { sessions: c.sessions, roundTrips: 10, size: 1024, boundMs: 60_000 };
    const { tally, failures } = await runLoad(c, o);
    expect(failures).toEqual([]);
    expect(tally.sessions).toBe(o.sessions);
    expect(tally.roundTrips).toBe(o.sessions * o.roundTrips);
    expect(tally.bytes).toBe(2 * o.sessions * o.roundTrips * o.size);
    expect(tally.errors.size).toBe(0);
  }, 90_000);
});
