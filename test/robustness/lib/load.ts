/**
 * Load: many concurrent sessions, each doing round trips of fixed-size messages through an echo
 * server, with every byte checked. First all sessions are opened (at most `handshakeConcurrency`
 * handshakes at a time, below the server's bound on handshakes in progress), then all of them run
 * their round trips at once, so `sessions` sessions are live together.
 *
 * Failures are counted, not hidden: a lost byte (a session that never gets its echo before the
 * bound), a corrupted or duplicated byte, a session that errors, or one that does not close.
 */
import { randomBytes } from 'node:crypto';
import type { SecureSession } from '../../../src/index.js';
import { bounded, startServer, Tally, type Target } from './targets.js';

export interface LoadOptions {
  sessions: number;
  roundTrips: number;
  size: number;
  handshakeConcurrency?: number;
  /** Upper bound for the whole run; sessions still running then are reported as stuck. */
  boundMs?: number;
}

export interface LoadResult {
  tally: Tally;
  failures: string[];
}

/** Runs the load against a fresh echo server for `target`. */
export async function runLoad(target: Target, o: LoadOptions): Promise<LoadResult> {
  const tally = new Tally();
  const failures: string[] = [];
  const running = await startServer(target, (s) => s.pipe(s), { maxHandshakes: Math.max(512, (o.handshakeConcurrency ?? 128) * 2) });
  const sessions: SecureSession[] = [];
  try {
    // Phase 1: open every session.
    let next = 0;
    const opener = async (): Promise<void> => {
      while (next < o.sessions) {
        next++;
        sessions.push(await running.dial());
        tally.handshakes++;
      }
    };
    await bounded(Promise.all(Array.from({ length: o.handshakeConcurrency ?? 128 }, opener)), o.boundMs ?? 120_000, 'opening sessions');
    tally.sessions += sessions.length;

    // Phase 2: every session does its round trips, all at once.
    const done = new Set<number>();
    const work = sessions.map((s, i) =>
      roundTrips(s, o.roundTrips, o.size).then(
        () => {
          done.add(i);
          tally.roundTrips += o.roundTrips;
          tally.bytes += 2 * o.roundTrips * o.size;
        },
        (e: unknown) => {
          done.add(i);
          tally.error(e);
          failures.push(`session ${i}: ${e instanceof Error ? e.message : String(e)}`);
        },
      ),
    );
    try {
      await bounded(Promise.all(work), o.boundMs ?? 120_000, 'round trips');
    } catch {
      failures.push(`${o.sessions - done.size} sessions stuck (no echo within the bound)`);
    }
  } finally {
    for (const s of sessions) if (!s.destroyed) s.destroy();
    await running.close();
  }
  for (const e of [...running.handshakeErrors, ...running.sessionErrors]) {
    tally.error(e);
    failures.push(`server: ${e.code} ${e.message}`);
  }
  return { tally, failures };
}

/** `n` round trips of `size` random bytes, each echo compared byte for byte; then a clean close. */
function roundTrips(s: SecureSession, n: number, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let expected = randomBytes(size);
    let got: Buffer[] = [];
    let have = 0;
    let left = n;
    let ended = false;
    const fail = (msg: string): void => {
      s.destroy();
      reject(new Error(msg));
    };
    s.on('data', (chunk: Buffer) => {
      have += chunk.length;
      got.push(chunk);
      if (have > size) return fail(`received ${have} bytes for a ${size}-byte round trip (duplicated or foreign data)`);
      if (have < size) return;
      const echo = Buffer.concat(got, have);
      if (!echo.equals(expected)) return fail(`corrupted echo in round trip ${n - left}`);
      got = [];
      have = 0;
      if (--left === 0) {
        s.end();
        return;
      }
      expected = randomBytes(size);
      s.write(expected);
    });
    s.once('end', () => {
      ended = true;
      if (left !== 0) fail(`the server ended after ${n - left} of ${n} round trips`);
    });
    s.once('error', (e) => reject(e));
    s.once('close', () => {
      if (left === 0 && ended) resolve();
      else reject(new Error(`closed after ${n - left} of ${n} round trips${ended ? '' : ' without the server\'s close record'}`));
    });
    s.write(expected);
  });
}
