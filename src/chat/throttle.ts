/**
 * Sign-in throttling: how fast passwords can be guessed online, and who may wait for a password
 * check. Sans-I/O: every decision takes the time (`now`, milliseconds on the caller's clock) as
 * an argument, so tests drive a whole minute with a fake clock. The state lives behind the small
 * `ThrottleStore` interface (in memory here; a database can back it so that several chat servers
 * share it).
 *
 * Rules (docs/SECURITY.md gives the figures):
 * - **Per account.** After `freeFailures` failed sign-ins, each further attempt waits
 *   `baseDelayMs · 2^(failures − freeFailures − 1)`, capped at `maxDelayMs`, counted from the last
 *   failure. A success clears the account's count (unless it came through a known device, below);
 *   a count is forgotten `forgetAfterMs` after its last failure. Unknown names are throttled exactly like real ones, so the answer tells nothing.
 * - **Known devices.** A client key that has signed up or in to an account before (remembered
 *   `knownForMs`) skips the account's and the source's waits and has a count of its own, with the
 *   same doubling, and its check does not wait for one in flight from another key: a guesser (who
 *   does not hold that key) cannot lock the owner out.
 * - **Per source address** (IPv4 address, IPv6 /64): a source that has failed against more than
 *   `sourceFreeAccounts` distinct accounts waits too, with the same doubling but a short cap
 *   (`sourceMaxDelayMs`), and never for an account that has signed in from that source before:
 *   users behind the same NAT (or loopback) are slowed at worst, not locked out.
 * - **One check in flight per account** (and per known device; `begin`/`end`, in this process):
 *   parallel guesses against one account are answered at once, not queued, so one account's
 *   guesser holds one slot of the shared hash queue at most. A source has at most
 *   `maxPendingPerSource` checks waiting or running.
 *
 * A refused attempt gets `throttledReason(ms)`: "too many attempts, try again in N s", distinct from
 * the wrong-password answer; `retryAfterSeconds` reads N back on the client.
 */
import { isIPv6 } from 'node:net';

export interface ThrottlePolicy {
  /** Failed sign-ins an account may have before each further attempt must wait. */
  readonly freeFailures: number;
  /** The first wait (ms); it doubles with each further failure. */
  readonly baseDelayMs: number;
  /** The longest wait for an account (ms). */
  readonly maxDelayMs: number;
  /** Distinct accounts a source address may fail against before its attempts wait. */
  readonly sourceFreeAccounts: number;
  /** The longest wait for a source address (ms): short, since other users may share it. */
  readonly sourceMaxDelayMs: number;
  /** Failures are forgotten this long after the last one (ms). */
  readonly forgetAfterMs: number;
  /** How long an account that signed in from a source, or with a client key, stays exempt from
   * that source's and that account's waits (ms). */
  readonly knownForMs: number;
  /** Password checks one source address may have waiting or running at once. */
  readonly maxPendingPerSource: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  freeFailures: 3,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  sourceFreeAccounts: 5,
  sourceMaxDelayMs: 5000,
  forgetAfterMs: 15 * 60_000,
  knownForMs: 30 * 24 * 3_600_000,
  maxPendingPerSource: 16,
};

/** What the store keeps per key. */
export interface ThrottleEntry {
  /** Failures counted (for a source: distinct accounts failed; for a pair: 1 = seen). */
  readonly count: number;
  /** When the last one happened (ms, the caller's clock). */
  readonly last: number;
  /** When the entry is forgotten (ms, the caller's clock). */
  readonly expires: number;
}

/**
 * Where throttle state lives. Keys are short ASCII strings (`a:<account>`, `s:<source>`,
 * `f:<source>|<account>`, `k:<source>|<account>`, `d:<account>#<key>`, `c:<account>#<key>`;
 * `<key>` is a client key's fingerprint). Asynchronous so that a shared database can back
 * it; such a store should update an entry atomically (read, change and write in one statement).
 */
export interface ThrottleStore {
  /** The entry, or undefined when there is none or it has expired by `now`. */
  get(key: string, now: number): Promise<ThrottleEntry | undefined>;
  put(key: string, entry: ThrottleEntry): Promise<void>;
  delete(key: string): Promise<void>;
}

/**
 * A store in this process's memory: at most `maxEntries` are kept (the oldest written go first),
 * so a flood of names cannot grow it.
 */
export function memoryThrottleStore(maxEntries = 50_000): ThrottleStore & { readonly size: number } {
  const entries = new Map<string, ThrottleEntry>();
  return {
    get size() {
      return entries.size;
    },
    get(key, now) {
      const e = entries.get(key);
      if (e && now >= e.expires) {
        entries.delete(key);
        return Promise.resolve(undefined);
      }
      return Promise.resolve(e);
    },
    put(key, entry) {
      entries.delete(key); // re-insert: Map order is the eviction order
      entries.set(key, entry);
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return Promise.resolve();
    },
    delete(key) {
      entries.delete(key);
      return Promise.resolve();
    },
  };
}

/** Sources whose last admitted attempt this process remembers. */
const MAX_ADMITTED = 10_000;

/** An attempt may go ahead, or must wait `retryAfterMs`. */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };
/** `check`'s answer: when ok, `slot` names the check to reserve with `begin` (the account, or the
 * account and a known device, whose checks do not wait for a guesser's). */
export type CheckVerdict = { readonly ok: true; readonly slot: string } | { readonly ok: false; readonly retryAfterMs: number };

/** How long after the last failure the next attempt must wait, for `count` failures. */
export function backoffMs(count: number, free: number, baseMs: number, capMs: number): number {
  if (count <= free) return 0;
  const doublings = Math.min(count - free - 1, 30);
  return Math.min(capMs, baseMs * 2 ** doublings);
}

/** The answer to a throttled attempt. */
export function throttledReason(retryAfterMs: number): string {
  return `too many attempts, try again in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`;
}

/** N of a `throttledReason` answer, or undefined for any other reason. */
export function retryAfterSeconds(reason: string): number | undefined {
  const m = /^too many attempts, try again in (\d{1,6}) s$/.exec(reason);
  return m ? Number(m[1]) : undefined;
}

/**
 * The source of a session for throttling: the address without the port, an IPv6 address cut to
 * its /64 (one subscriber usually holds a whole /64).
 */
export function sourceOf(remote: string): string {
  let addr = remote;
  const bracket = /^\[(.*)\]:\d+$/.exec(remote);
  if (bracket) addr = bracket[1]!;
  else if (/^[^:]*:\d+$/.test(remote)) addr = remote.slice(0, remote.lastIndexOf(':'));
  else if (!isIPv6(remote) && remote.includes(':')) addr = remote.slice(0, remote.lastIndexOf(':'));
  if (addr.startsWith('::ffff:') && addr.includes('.')) return addr.slice(7);
  if (!isIPv6(addr)) return addr;
  const [head = '', tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = addr.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = addr.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Sign-in throttling over a `ThrottleStore` (see the header). */
export class SignInThrottle {
  readonly policy: ThrottlePolicy;
  private readonly inFlight = new Set<string>();
  private readonly pending = new Map<string, number>();
  /** When the last attempt of a slowed source was let through (this process only). */
  private readonly admitted = new Map<string, number>();

  constructor(
    private readonly store: ThrottleStore,
    policy: Partial<ThrottlePolicy> = {},
  ) {
    this.policy = { ...DEFAULT_THROTTLE, ...policy };
  }

  /**
   * Reserves the one check of `account` (a `slot` from `check`) and a pending place of `source`,
   * synchronously: call it right after `check`, with no await between, and call `end` once the
   * attempt is over (after `failed` or `succeeded`), so the next check sees the outcome.
   */
  begin(account: string, source: string): Verdict {
    if (this.inFlight.has(account)) return { ok: false, retryAfterMs: 1000 };
    const pending = this.pending.get(source) ?? 0;
    if (pending >= this.policy.maxPendingPerSource) return { ok: false, retryAfterMs: 1000 };
    this.inFlight.add(account);
    this.pending.set(source, pending + 1);
    return { ok: true };
  }

  /** Releases what `begin` reserved. */
  end(account: string, source: string): void {
    this.inFlight.delete(account);
    const pending = (this.pending.get(source) ?? 1) - 1;
    if (pending <= 0) this.pending.delete(source);
    else this.pending.set(source, pending);
  }

  /**
   * Whether an attempt on `account` from `source` (with the client key `device`, a fingerprint,
   * when the suite has one) may be checked at `now`. An attempt let through while its source waits
   * between attempts starts that source's next wait at once, so parallel attempts from one source
   * cannot all pass before the first failure is counted.
   */
  async check(account: string, source: string, now: number, device?: string): Promise<CheckVerdict> {
    const p = this.policy;
    if (device !== undefined && (await this.store.get(`d:${account}#${device}`, now))) {
      const own = await this.store.get(`c:${account}#${device}`, now);
      const wait = own ? own.last + backoffMs(own.count, p.freeFailures, p.baseDelayMs, p.maxDelayMs) - now : 0;
      return wait > 0 ? { ok: false, retryAfterMs: wait } : { ok: true, slot: `${account}#${device}` };
    }
    const acct = await this.store.get(`a:${account}`, now);
    const src = await this.store.get(`s:${source}`, now);
    const known = src && src.count > p.sourceFreeAccounts ? await this.store.get(`k:${source}|${account}`, now) : undefined;
    // From here on no await: the test and the update of `admitted` are one step in this process.
    let wait = acct ? acct.last + backoffMs(acct.count, p.freeFailures, p.baseDelayMs, p.maxDelayMs) - now : 0;
    const slowed = src !== undefined && src.count > p.sourceFreeAccounts && !known;
    if (slowed) {
      const since = Math.max(src.last, this.admitted.get(source) ?? -Infinity);
      wait = Math.max(wait, since + backoffMs(src.count, p.sourceFreeAccounts, p.baseDelayMs, p.sourceMaxDelayMs) - now);
    }
    if (wait > 0) return { ok: false, retryAfterMs: wait };
    if (slowed) {
      this.admitted.delete(source);
      this.admitted.set(source, now);
      while (this.admitted.size > MAX_ADMITTED) this.admitted.delete(this.admitted.keys().next().value!);
    }
    return { ok: true, slot: account };
  }

  /** Counts a wrong password (or unknown name) for `account` from `source` (see `check`). */
  async failed(account: string, source: string, now: number, device?: string): Promise<void> {
    const expires = now + this.policy.forgetAfterMs;
    if (device !== undefined && (await this.store.get(`d:${account}#${device}`, now))) {
      const own = await this.store.get(`c:${account}#${device}`, now);
      await this.store.put(`c:${account}#${device}`, { count: (own?.count ?? 0) + 1, last: now, expires });
      return;
    }
    const acct = await this.store.get(`a:${account}`, now);
    await this.store.put(`a:${account}`, { count: (acct?.count ?? 0) + 1, last: now, expires });
    const pair = `f:${source}|${account}`;
    const seen = await this.store.get(pair, now);
    await this.store.put(pair, { count: 1, last: now, expires });
    const src = await this.store.get(`s:${source}`, now);
    await this.store.put(`s:${source}`, { count: (src?.count ?? 0) + (seen ? 0 : 1), last: now, expires });
  }

  /**
   * A correct password: clears the count it was checked under (a known device's own, else the
   * account's: so the owner signing in with a known key does not reset a guesser's wait), and
   * remembers the account at `source` and the device for the account.
   */
  async succeeded(account: string, source: string, now: number, device?: string): Promise<void> {
    const expires = now + this.policy.knownForMs;
    const known = device !== undefined && (await this.store.get(`d:${account}#${device}`, now)) !== undefined;
    if (known) await this.store.delete(`c:${account}#${device}`);
    else await this.store.delete(`a:${account}`);
    await this.store.put(`k:${source}|${account}`, { count: 1, last: now, expires });
    if (device !== undefined) await this.store.put(`d:${account}#${device}`, { count: 1, last: now, expires });
  }
}
