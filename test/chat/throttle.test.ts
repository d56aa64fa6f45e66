/**
 * The sign-in backoff as a pure unit, driven by a fake clock: a guesser hammering one account for
 * a full minute gets only a handful of checks while another user signs in at once; a source that
 * fails against many accounts slows down without locking out accounts that signed in from it;
 * parallel attempts against one account hold one check at most.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_THROTTLE,
  SignInThrottle,
  backoffMs,
  memoryThrottleStore,
  retryAfterSeconds,
  sourceOf,
  throttledReason,
} from '../../src/chat/throttle.js';
import { maxChecksIn } from './throttle-bound.js';

/**
 * A guesser that tries every `everyMs` against `account` from `source`, each check taking
 * `checkMs`; returns the attempts it made and the checks it got in `windowMs`.
 */
async function guess(throttle: SignInThrottle, account: string, source: string, windowMs: number, everyMs: number, checkMs: number, start = 0) {
  let attempts = 0;
  let checked = 0;
  let busyUntil = -1;
  for (let now = start; now < start + windowMs; now += everyMs) {
    if (busyUntil >= 0 && now >= busyUntil) {
      await throttle.failed(account, source, busyUntil);
      throttle.end(account, source);
      busyUntil = -1;
    }
    attempts++;
    const verdict = await throttle.check(account, source, now);
    if (!verdict.ok) continue;
    if (!throttle.begin(verdict.slot, source).ok) continue; // a check is in flight
    checked++;
    busyUntil = now + checkMs;
  }
  if (busyUntil >= 0) {
    await throttle.failed(account, source, busyUntil);
    throttle.end(account, source);
  }
  return { attempts, checked };
}

describe('sign-in backoff per account', () => {
  it('gives a guesser a handful of checks in a full minute (at most a few dozen), while another user signs in at once', async () => {
    const throttle = new SignInThrottle(memoryThrottleStore());
    // 100 attempts a second for 60 s, each check taking 300 ms (Argon2id, interactive cost).
    const { attempts, checked } = await guess(throttle, 'alice', '127.0.0.1', 60_000, 10, 300);
    if (process.env['SEALWIRE_FIGURES']) console.log(`fake clock, 60 s: ${attempts} attempts, ${checked} checked (bound ${maxChecksIn(60_000)})`);
    expect(attempts).toBe(6000);
    expect(checked).toBeLessThanOrEqual(maxChecksIn(60_000));
    expect(checked).toBeLessThanOrEqual(24);
    expect(checked).toBeGreaterThanOrEqual(DEFAULT_THROTTLE.freeFailures + 1);
    // Another user behind the same address, in the middle of it all: no wait at all.
    expect(throttle.begin('bob', '127.0.0.1').ok).toBe(true);
    expect(await throttle.check('bob', '127.0.0.1', 30_000)).toEqual({ ok: true, slot: 'bob' });
  });

  it('doubles the wait after the free failures, up to the cap', () => {
    const p = DEFAULT_THROTTLE;
    const waits = Array.from({ length: 10 }, (_, i) => backoffMs(i + 1, p.freeFailures, p.baseDelayMs, p.maxDelayMs));
    expect(waits).toEqual([0, 0, 0, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(backoffMs(10_000, 3, 1000, 30_000)).toBe(30_000);
  });

  it('says how long to wait, and the wait is counted from the last failure', async () => {
    const throttle = new SignInThrottle(memoryThrottleStore());
    for (let i = 0; i < 5; i++) await throttle.failed('alice', 'a', 1000 * i);
    // 5 failures: wait 2 s after the last one (at 4 s).
    expect(await throttle.check('alice', 'a', 4500)).toEqual({ ok: false, retryAfterMs: 1500 });
    expect(await throttle.check('alice', 'a', 6000)).toEqual({ ok: true, slot: 'alice' });
  });

  it('clears the count on success, and forgets it after a quiet while', async () => {
    const throttle = new SignInThrottle(memoryThrottleStore());
    for (let i = 0; i < 8; i++) await throttle.failed('alice', 'a', 0);
    expect((await throttle.check('alice', 'a', 100)).ok).toBe(false);
    await throttle.succeeded('alice', 'a', 200);
    expect((await throttle.check('alice', 'a', 300)).ok).toBe(true);
    for (let i = 0; i < 10; i++) await throttle.failed('bob', 'a', 0);
    expect(await throttle.check('bob', 'a', 20_000)).toEqual({ ok: false, retryAfterMs: 10_000 });
    expect((await throttle.check('bob', 'a', DEFAULT_THROTTLE.forgetAfterMs + 1)).ok).toBe(true);
  });

  it('lets one check of an account run at a time; a parallel attempt is answered at once', () => {
    const throttle = new SignInThrottle(memoryThrottleStore());
    expect(throttle.begin('alice', '10.0.0.1').ok).toBe(true);
    expect(throttle.begin('alice', '10.0.0.2')).toEqual({ ok: false, retryAfterMs: 1000 });
    expect(throttle.begin('bob', '10.0.0.2').ok).toBe(true);
    throttle.end('alice', '10.0.0.1');
    expect(throttle.begin('alice', '10.0.0.2').ok).toBe(true);
  });

  it('bounds the checks one source may have waiting or running', () => {
    const throttle = new SignInThrottle(memoryThrottleStore(), { maxPendingPerSource: 3 });
    for (const user of ['a', 'b', 'c']) expect(throttle.begin(user, '10.0.0.1').ok).toBe(true);
    expect(throttle.begin('d', '10.0.0.1').ok).toBe(false);
    expect(throttle.begin('d', '10.0.0.2').ok).toBe(true);
    throttle.end('a', '10.0.0.1');
    expect(throttle.begin('d', '10.0.0.1').ok).toBe(false); // d is in flight from the other source
    expect(throttle.begin('e', '10.0.0.1').ok).toBe(true);
  });
});

describe('sign-in backoff and known client keys', () => {
  it("lets the owner's known client key in while a guesser holds the account's wait; the key has a count of its own", async () => {
    const throttle = new SignInThrottle(memoryThrottleStore());
    await throttle.succeeded('alice', '10.0.0.9', 0, 'SHA256:owner');
    for (let i = 0; i < 10; i++) await throttle.failed('alice', '10.0.0.1', 1000); // a guesser, fresh keys
    expect(await throttle.check('alice', '10.0.0.1', 1000, 'SHA256:fresh')).toEqual({ ok: false, retryAfterMs: 30_000 });
    const owner = await throttle.check('alice', '10.0.0.1', 1000, 'SHA256:owner');
    expect(owner).toEqual({ ok: true, slot: 'alice#SHA256:owner' });
    // The guesser's check in flight does not hold the owner's.
    expect(throttle.begin('alice', '10.0.0.1').ok).toBe(true);
    expect(throttle.begin('alice#SHA256:owner', '10.0.0.1').ok).toBe(true);
    // The owner's typos count for the owner's key only, with the same doubling.
    for (let i = 0; i < 4; i++) await throttle.failed('alice', '10.0.0.1', 2000, 'SHA256:owner');
    expect(await throttle.check('alice', '10.0.0.1', 2000, 'SHA256:owner')).toEqual({ ok: false, retryAfterMs: 1000 });
    expect(await throttle.check('alice', '10.0.0.1', 2000, 'SHA256:fresh')).toEqual({ ok: false, retryAfterMs: 29_000 });
    // The owner's success with her key clears her key's count, not the guesser's wait.
    await throttle.succeeded('alice', '10.0.0.1', 2000, 'SHA256:owner');
    expect(await throttle.check('alice', '10.0.0.1', 2000, 'SHA256:owner')).toEqual({ ok: true, slot: 'alice#SHA256:owner' });
    expect(await throttle.check('alice', '10.0.0.1', 2000, 'SHA256:fresh')).toEqual({ ok: false, retryAfterMs: 29_000 });
    // A key known for another account is not known for this one.
    await throttle.succeeded('bob', '10.0.0.1', 3000, 'SHA256:bobs');
    expect((await throttle.check('alice', '10.0.0.1', 3000, 'SHA256:bobs')).ok).toBe(false);
  });
});

describe('sign-in backoff per source address', () => {
  it('slows a source that fails against many accounts, but not for an account that signed in from it, nor other sources', async () => {
    const throttle = new SignInThrottle(memoryThrottleStore());
    await throttle.succeeded('carol', '192.0.2.7', 0);
    const free = DEFAULT_THROTTLE.sourceFreeAccounts;
    for (let i = 0; i < free; i++) await throttle.failed(`user${i}`, '192.0.2.7', 1000);
    expect((await throttle.check('fresh', '192.0.2.7', 1000)).ok).toBe(true); // not yet
    await throttle.failed(`user${free}`, '192.0.2.7', 1000);
    const slowed = await throttle.check('fresh', '192.0.2.7', 1000);
    expect(slowed).toEqual({ ok: false, retryAfterMs: 1000 });
    expect((await throttle.check('carol', '192.0.2.7', 1000)).ok).toBe(true); // signed in here before
    expect((await throttle.check('fresh', '198.51.100.1', 1000)).ok).toBe(true); // another source
    // Capped low: other users behind the address wait seconds, never long.
    for (let i = 0; i < 100; i++) await throttle.failed(`spray${i}`, '192.0.2.7', 2000);
    const capped = await throttle.check('fresh', '192.0.2.7', 2000);
    expect(capped).toEqual({ ok: false, retryAfterMs: DEFAULT_THROTTLE.sourceMaxDelayMs });
    expect((await throttle.check('fresh', '192.0.2.7', 2000 + DEFAULT_THROTTLE.sourceMaxDelayMs)).ok).toBe(true);
  });

  it('counts repeated failures against one account once for the source', async () => {
    const throttle = new SignInThrottle(memoryThrottleStore());
    for (let i = 0; i < 50; i++) await throttle.failed('alice', '192.0.2.7', i);
    expect((await throttle.check('bob', '192.0.2.7', 100)).ok).toBe(true);
  });

  it('lets parallel attempts of a slowed source through one at a time', async () => {
    const throttle = new SignInThrottle(memoryThrottleStore());
    for (let i = 0; i < 10; i++) await throttle.failed(`user${i}`, 's', 0);
    const at = 60_000; // the wait since the last failure is over
    const verdicts = await Promise.all(['n1', 'n2', 'n3', 'n4'].map((u) => throttle.check(u, 's', at)));
    expect(verdicts.filter((v) => v.ok)).toHaveLength(1);
  });

  it('names the source by address without the port, and an IPv6 source by its /64', () => {
    expect(sourceOf('127.0.0.1:5000')).toBe('127.0.0.1');
    expect(sourceOf('::ffff:10.1.2.3:443')).toBe('10.1.2.3');
    expect(sourceOf('[2001:db8:1:2:3:4:5:6]:9')).toBe('2001:db8:1:2::/64');
    expect(sourceOf('2001:db8::7:1234')).toBe('2001:db8:0:0::/64');
    expect(sourceOf('2001:db8:0:0:ffff::1:80')).toBe('2001:db8:0:0::/64');
    expect(sourceOf('::1:5000')).toBe('0:0:0:0::/64');
    expect(sourceOf('memory:0')).toBe('memory');
  });
});

describe('the answer to a throttled attempt', () => {
  it('says how many seconds to wait, rounded up, and the client can read them back', () => {
    expect(throttledReason(1500)).toBe('too many attempts, try again in 2 s');
    expect(throttledReason(1)).toBe('too many attempts, try again in 1 s');
    expect(retryAfterSeconds(throttledReason(30_000))).toBe(30);
    expect(retryAfterSeconds('wrong user name or password')).toBeUndefined();
  });
});

describe('the in-memory throttle store', () => {
  it('stays bounded however many names are tried', async () => {
    const store = memoryThrottleStore(100);
    const throttle = new SignInThrottle(store);
    for (let i = 0; i < 1000; i++) await throttle.failed(`name${i}`, `10.0.${i >> 8}.${i & 255}`, i);
    expect(store.size).toBeLessThanOrEqual(100);
  });
});
