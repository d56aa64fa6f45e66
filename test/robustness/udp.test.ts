/**
 * The UDP transport (see lib/udp.ts), quick form: 1,000 concurrent box sessions with round trips
 * of 1 KiB checked byte for byte, a Hello flood from many source ports, garbage datagrams, and the
 * amplification rule on every reply to them; for every suite this build runs over UDP. The soak
 * (`npm run soak`) runs the full 100 round trips and larger floods.
 */
import { describe, expect, it } from 'vitest';
import { runUdpLoad, udpGarbage, udpHelloFlood, udpSuites } from './lib/udp.js';

describe('robustness: UDP', () => {
  it('box: 1,000 concurrent UDP sessions × 10 round trips of 1 KiB, no loss, corruption or stuck session', async () => {
    const { tally, failures } = await runUdpLoad('box', { sessions: 1000, roundTrips: 10, size: 1024, boundMs: 60_000 });
    expect(failures).toEqual([]);
    expect(tally.sessions).toBe(1000);
    expect(tally.roundTrips).toBe(10_000);
    expect(tally.bytes).toBe(2 * 10_000 * 1024);
    expect(tally.errors.size).toBe(0);
  }, 90_000);

  it.each(udpSuites().filter((s) => s !== 'box'))('%s: 100 concurrent UDP sessions × 5 round trips of 1 KiB', async (suite) => {
    const { tally, failures } = await runUdpLoad(suite, { sessions: 100, roundTrips: 5, size: 1024, wave: 50, boundMs: 60_000 });
    expect(failures).toEqual([]);
    expect(tally.roundTrips).toBe(500);
  }, 90_000);

  it.each(udpSuites())('%s: a Hello flood from 200 source ports (bound 256 half-open): memory bounded, no reply larger than its Hello, a legitimate client connects', async (suite) => {
    const tally = await udpHelloFlood(suite, 200, suite === 'box' ? 5 : 2);
    expect(tally.sessions).toBe(1);
    const held = tally.figures.get(`udpFloodHalfOpenHeld/${suite}`) ?? 0;
    expect(held).toBeLessThanOrEqual(256);
    // box answers Hellos without state; a suite that keeps state for them fills (part of) its table.
    if (suite === 'box') expect(held).toBe(0);
    else expect(held).toBeGreaterThan(0);
  }, 90_000);

  it.each(udpSuites())('%s: 300 garbage, truncated, bit-flipped and unknown-id datagrams: no state, no amplification, the session survives', async (suite) => {
    const tally = await udpGarbage(suite, 300);
    expect(tally.sessions).toBe(1);
  }, 60_000);
});
