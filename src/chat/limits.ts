/**
 * The chat server's limits, with their units, and the per-user rate limiter (a token bucket with
 * the time passed in, so tests drive it without clocks).
 */

export interface ChatLimits {
  /** Largest text of one public or private message, in UTF-8 bytes. */
  readonly maxMessageBytes: number;
  /** Messages a user may send per second, sustained. */
  readonly ratePerSecond: number;
  /** Messages a user may send at once before the sustained rate applies. */
  readonly burst: number;
  /**
   * Message text a user may send at once (UTF-8 bytes), refilled at `bytesPerSecond`. This, not
   * the message count, bounds what one account makes the server buffer: a burst is copied to
   * every member (100 KB × 99 recipients ≈ 10 MB), while 500 messages of 2000 bytes were ~100 MB.
   * Each recipient's own buffer is bounded too (`maxBufferedBytes`).
   */
  readonly burstBytes: number;
  /** Message text a user may send per second, sustained (UTF-8 bytes). */
  readonly bytesPerSecond: number;
  /** Bytes of messages waiting for one recipient (unread over TCP, unacknowledged over UDP)
   * before that recipient's session is dropped as too slow. */
  readonly maxBufferedBytes: number;
  /** Most members signed in to the room at once. */
  readonly maxMembers: number;
  /** Milliseconds a session may stay open without signing in. */
  readonly signInTimeoutMs: number;
  /** Password hashes computed at once (each takes 64 MiB); further sign-ins wait. */
  readonly concurrentHashes: number;
  /** Sign-ins waiting for a hash slot before new ones are refused as "busy". */
  readonly maxWaitingSignIns: number;
}

export const DEFAULT_LIMITS: ChatLimits = {
  maxMessageBytes: 2000,
  ratePerSecond: 20,
  burst: 500,
  burstBytes: 100_000,
  bytesPerSecond: 20_000,
  maxBufferedBytes: 1024 * 1024,
  maxMembers: 100,
  signInTimeoutMs: 30_000,
  concurrentHashes: 2,
  maxWaitingSignIns: 256,
};

/** Shortest password accepted at sign-up (characters). */
export const MIN_PASSWORD_CHARS = 8;

/** One key's bucket: `tokens` left at time `at` (ms, on the limiter's clock). */
export interface RateBucket {
  readonly tokens: number;
  readonly at: number;
}

/** A token bucket: `burst` tokens, refilled at `ratePerSecond`; each message takes one. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes `cost` tokens for `key` at time `now` (ms); false (taking none) when too few are left. */
  take(key: string, now: number, cost = 1): boolean {
    if (!this.has(key, now, cost)) return false;
    this.buckets.get(key)!.tokens -= cost;
    return true;
  }

  /** True when `key` has `cost` tokens at `now` (takes none). */
  has(key: string, now: number, cost = 1): boolean {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    const elapsed = Math.max(0, now - b.at);
    b.tokens = Math.min(this.burst, b.tokens + (elapsed * this.ratePerSecond) / 1000);
    b.at = now;
    this.buckets.set(key, b);
    return b.tokens >= cost;
  }

  /**
   * `key`'s bucket as of `now` (refilled to `now`; a full one for a key not seen), to be kept
   * elsewhere (another server) and given back to `import`.
   */
  export(key: string, now: number): RateBucket {
    const b = this.buckets.get(key);
    const tokens = b ? Math.min(this.burst, b.tokens + (Math.max(0, now - b.at) * this.ratePerSecond) / 1000) : this.burst;
    return { tokens, at: now };
  }

  /**
   * Sets `key`'s bucket (from `export`, maybe of another limiter): `tokens` at time `at` on this
   * limiter's clock, refilled from then on. Tokens are clamped to [0, burst] (a bucket saved with
   * another burst, or a damaged value, gives no more than a full bucket).
   */
  import(key: string, bucket: RateBucket): void {
    const tokens = Number.isFinite(bucket.tokens) ? Math.min(this.burst, Math.max(0, bucket.tokens)) : this.burst;
    this.buckets.set(key, { tokens, at: Number.isFinite(bucket.at) ? bucket.at : 0 });
  }

  /** Forgets buckets that have refilled completely (bounded memory). */
  prune(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.ratePerSecond) / 1000 >= this.burst) this.buckets.delete(key);
    }
  }
}

/** A user's two buckets (messages and bytes of text), as saved when they leave a server. */
export interface RateSnapshot {
  readonly messages: number;
  readonly bytes: number;
}

/**
 * Where a user's rate buckets are kept between servers (the chat server saves them when the
 * member leaves it and loads them at sign-in; never per message). The store keeps the time of the
 * save on its own clock and answers with the age, so servers need no synchronised clocks.
 */
export interface RateStore {
  save(user: string, snapshot: RateSnapshot): Promise<void>;
  /** The last snapshot saved for `user` and how long ago (ms), or undefined. */
  load(user: string): Promise<(RateSnapshot & { readonly ageMs: number }) | undefined>;
}

/** The default for one server: nothing to share (each limiter keeps its buckets in memory). */
export function noRateStore(): RateStore {
  return { save: async () => {}, load: async () => undefined };
}

/** A counting semaphore for the password hashes running at once. */
export class Semaphore {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly slots: number,
    private readonly maxWaiting: number,
  ) {}

  /** Runs `fn` when a slot is free; rejects at once (returns null) when too many wait. */
  run<T>(fn: () => Promise<T>): Promise<T> | null {
    if (this.running >= this.slots && this.waiting.length >= this.maxWaiting) return null;
    return new Promise<void>((resolve) => {
      if (this.running < this.slots) {
        this.running++;
        resolve();
      } else {
        this.waiting.push(() => {
          this.running++;
          resolve();
        });
      }
    }).then(() =>
      fn().finally(() => {
        this.running--;
        this.waiting.shift()?.();
      }),
    );
  }
}
