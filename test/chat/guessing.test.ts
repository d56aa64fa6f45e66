/**
 * Online password guessing over real sessions (loopback TCP, the box suite, Argon2id at its real
 * interactive cost): guessers with a fresh client key per attempt hammer one account in parallel
 * for a window; only a handful of their attempts are even checked, every other one is answered
 * "too many attempts, try again in N s" at once, and another user signs in within seconds, as does
 * the account's owner with the client key she signed in with before.
 *
 * The window is 8 s here (SEALWIRE_GUESS_WINDOW_MS=60000 runs the full minute; the unit test in
 * throttle.test.ts covers the minute with a fake clock). The bound is the policy's own: the checks
 * a tireless guesser can get in the window (maxChecksIn), which is proportional to the minute's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/index.js';
import { listenChat, connectChat, type ChatListener } from '../../src/chat/net.js';
import { ChatRefusedError } from '../../src/chat/client.js';
import { memoryAccountStore } from '../../src/chat/store.js';
import { retryAfterSeconds } from '../../src/chat/throttle.js';
import { maxChecksIn } from './throttle-bound.js';

const WINDOW_MS = Number(process.env['SEALWIRE_GUESS_WINDOW_MS'] ?? 8000);
const GUESSERS = 4;
const serverKey = generateKeyPair('x25519');

describe('online guessing against one account over real sessions', () => {
  let listener: ChatListener;
  const logs: string[] = [];

  beforeAll(async () => {
    // The real password cost (no cheap test cost here): the figures are the ones users get.
    listener = await listenChat({ server: { key: serverKey, anyClient: true }, transport: 'tcp', store: memoryAccountStore(), log: (l) => logs.push(l) });
  });
  afterAll(async () => {
    await listener?.close();
  });

  const aliceKey = generateKeyPair('x25519');
  const attempt = async (user: string, password: string, signup = false, key = generateKeyPair('x25519')): Promise<string> => {
    // A fresh client key for every attempt (the default), as a guesser would use.
    const client = await connectChat({ port: listener.port, serverKey: serverKey.publicKey, key, transport: 'tcp' }, { user, password, signup });
    await client.quit();
    return 'welcome';
  };
  const outcome = (e: unknown): string => {
    if (e instanceof ChatRefusedError) return e.reason;
    throw e;
  };

  it(
    `checks at most the policy's bound of guesses in ${WINDOW_MS / 1000} s and lets another user, and the owner's known key, sign in within seconds`,
    async () => {
      await attempt('alice', 'alice-real-password', true, aliceKey);
      await attempt('bob', 'bob-real-password', true);
      const stats = listener.chat.signInStats;
      const before = { ...stats };
      const answers = new Map<string, number>();
      const start = performance.now();
      const guesser = async (n: number): Promise<void> => {
        for (let i = 0; performance.now() - start < WINDOW_MS; i++) {
          const reason = await attempt('alice', `guess-${n}-${i}`).catch(outcome);
          answers.set(reason, (answers.get(reason) ?? 0) + 1);
        }
      };
      const guessing = Promise.all(Array.from({ length: GUESSERS }, (_, n) => guesser(n)));
      // Bob, from the same address, in the middle of it.
      await new Promise((r) => setTimeout(r, WINDOW_MS / 2));
      const t0 = performance.now();
      expect(await attempt('bob', 'bob-real-password')).toBe('welcome');
      const bobMs = performance.now() - t0;
      // Alice herself, with the client key she signed up with: the guesser cannot lock her out.
      const t1 = performance.now();
      expect(await attempt('alice', 'alice-real-password', false, aliceKey)).toBe('welcome');
      const aliceMs = performance.now() - t1;
      await guessing;
      const elapsed = performance.now() - start;

      const wrong = answers.get('wrong user name or password') ?? 0;
      const throttled = [...answers].filter(([r]) => retryAfterSeconds(r) !== undefined).reduce((n, [, c]) => n + c, 0);
      const made = [...answers.values()].reduce((a, b) => a + b, 0);
      const checked = stats.checked - before.checked - 2; // bob's and alice's checks are not the guessers'
      const figures = `window ${Math.round(elapsed)} ms: ${made} attempts, ${checked} checked (bound ${maxChecksIn(elapsed)}), ${throttled} throttled; bob signed in in ${Math.round(bobMs)} ms, alice with her key in ${Math.round(aliceMs)} ms`;
      if (process.env['SEALWIRE_FIGURES']) console.log(figures);

      // Every answer is a wrong password (checked) or the backoff's (not checked); nothing else.
      expect(wrong + throttled, figures).toBe(made);
      expect(checked, figures).toBe(wrong);
      expect(checked, figures).toBeLessThanOrEqual(maxChecksIn(elapsed));
      expect(throttled, figures).toBeGreaterThan(checked);
      expect(bobMs, figures).toBeLessThan(10_000);
      expect(aliceMs, figures).toBeLessThan(10_000);
      // The operator's log shows the backoff once per stretch, not once per attempt.
      expect(logs.filter((l) => /too many attempts/.test(l)).length).toBeLessThanOrEqual(checked + 1);
    },
    WINDOW_MS + 60_000,
  );
});
