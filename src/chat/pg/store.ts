/**
 * The chat's shared store on PostgreSQL: accounts, the room's history, offline private messages,
 * the sign-in throttle and the message rate buckets, so that several chat servers on one database
 * agree on all of them. Every method is one statement or one short transaction, atomic by itself
 * (a read-change-write is a single `INSERT … ON CONFLICT … DO UPDATE` or `DELETE … RETURNING`),
 * so two servers racing on one row cannot both win.
 *
 * The same method names and rules as the embedded SQLite store's, asynchronous:
 * - `appendHistory` keeps the newest `keep` entries (0 stores nothing);
 * - `queueOffline` refuses (false) when `max` already wait for that recipient;
 * - `takeOffline` removes what it returns in one statement, so a message is handed out once.
 */
import pg from 'pg';
import { SealwireError } from '../../errors.js';
import type { ThrottleEntry, ThrottleStore } from '../throttle.js';
import type { RateSnapshot, RateStore } from '../limits.js';
import { migrate } from './schema.js';
import { redactUrl } from './url.js';

export interface PgAccount {
  readonly name: string;
  readonly passwordHash: string;
}

export type PgHistoryKind = 'say' | 'me';

export interface PgHistoryEntry {
  readonly kind: PgHistoryKind;
  readonly from: string;
  readonly text: string;
  /** When the server accepted it, ms since the epoch. */
  readonly at: number;
}

export interface PgOfflineMessage {
  readonly from: string;
  readonly text: string;
  readonly at: number;
}

export interface PgStoreOptions {
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
  /** One line per event for the operator (never a password: URLs are redacted). */
  readonly log?: (line: string) => void;
}

/** Opens a pool on `url`, creates or migrates the schema, and returns the store. Throws `IO` (redacted) on failure. */
export async function openPgStore(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
  const shown = redactUrl(url);
  const log = options.log ?? (() => {});
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', (e) => log(`database connection lost (${shown}): ${scrub(e, url)}`));
  // A client checked out between two queries has no pool listener: the query in flight fails
  // (and the outbox retries), so its 'error' event only needs a listener.
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end().catch(() => {});
    throw new SealwireError('IO', `cannot open the chat database ${shown}: ${scrub(e, url)}`);
  }
  return new PgStore(pool, url);
}

/** The error's message with any trace of the URL's password removed. */
export function scrub(e: unknown, url: string): string {
  const msg = e instanceof Error ? e.message : String(e);
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // no password to hide
  }
  return password ? msg.split(password).join('***') : msg;
}

export class PgStore {
  constructor(
    /** The pool, shared with the bus (cluster.ts). */
    readonly pool: pg.Pool,
    readonly url: string,
  ) {}

  // ---- accounts ----

  /** The account, found regardless of case, or undefined. */
  async find(name: string): Promise<PgAccount | undefined> {
    const r = await this.pool.query<{ name: string; password_hash: string }>('SELECT name, password_hash FROM users WHERE name_key = $1', [name.toLowerCase()]);
    const row = r.rows[0];
    return row ? { name: row.name, passwordHash: row.password_hash } : undefined;
  }

  /** Creates an account; false when the name (in any case) is taken. */
  async create(name: string, passwordHash: string, now: number): Promise<boolean> {
    const r = await this.pool.query('INSERT INTO users (name, name_key, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name_key) DO NOTHING', [
      name,
      name.toLowerCase(),
      passwordHash,
      Math.floor(now),
    ]);
    return r.rowCount === 1;
  }

  /** Replaces an account's password hash; false when there is no such account. */
  async setPassword(name: string, passwordHash: string): Promise<boolean> {
    const r = await this.pool.query('UPDATE users SET password_hash = $2 WHERE name_key = $1', [name.toLowerCase(), passwordHash]);
    return r.rowCount === 1;
  }

  // ---- history and offline messages ----

  async appendHistory(entry: PgHistoryEntry, keep: number): Promise<void> {
    if (keep <= 0) return;
    await this.pool.query(
      `WITH added AS (INSERT INTO history (kind, sender, body, at) VALUES ($1, $2, $3, $4) RETURNING id)
       DELETE FROM history WHERE id <= (SELECT id FROM added) - $5`,
      [entry.kind, entry.from, entry.text, Math.floor(entry.at), keep],
    );
  }

  async recentHistory(limit: number): Promise<PgHistoryEntry[]> {
    if (limit <= 0) return [];
    const r = await this.pool.query<{ kind: string; sender: string; body: string; at: string }>(
      'SELECT kind, sender, body, at FROM (SELECT * FROM history ORDER BY id DESC LIMIT $1) h ORDER BY id',
      [limit],
    );
    return r.rows.map((row) => ({ kind: row.kind === 'me' ? 'me' : 'say', from: row.sender, text: row.body, at: Number(row.at) }));
  }

  async queueOffline(to: string, message: PgOfflineMessage, max: number): Promise<boolean> {
    // One statement: the count and the insert see the same snapshot; a race between two servers
    // can exceed `max` by the number of racers at most, never without bound.
    const r = await this.pool.query(
      `INSERT INTO offline (recipient_key, sender, body, at)
       SELECT $1, $2, $3, $4 WHERE (SELECT count(*) FROM offline WHERE recipient_key = $1) < $5`,
      [to.toLowerCase(), message.from, message.text, Math.floor(message.at), max],
    );
    return r.rowCount === 1;
  }

  async takeOffline(to: string): Promise<PgOfflineMessage[]> {
    const r = await this.pool.query<{ id: string; sender: string; body: string; at: string }>(
      'DELETE FROM offline WHERE recipient_key = $1 RETURNING id, sender, body, at',
      [to.toLowerCase()],
    );
    return r.rows.sort((a, b) => Number(a.id) - Number(b.id)).map((row) => ({ from: row.sender, text: row.body, at: Number(row.at) }));
  }

  // ---- limits shared by every server ----

  /** The sign-in throttle's state in the database (throttle.ts's `ThrottleStore`). */
  readonly throttle: ThrottleStore = {
    get: async (key: string, now: number): Promise<ThrottleEntry | undefined> => {
      const r = await this.pool.query<{ count: number; last: string; expires: string }>('SELECT count, last, expires FROM throttle WHERE key = $1 AND expires > $2', [key, Math.floor(now)]);
      const row = r.rows[0];
      return row ? { count: row.count, last: Number(row.last), expires: Number(row.expires) } : undefined;
    },
    put: async (key: string, entry: ThrottleEntry): Promise<void> => {
      await this.pool.query(
        'INSERT INTO throttle (key, count, last, expires) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET count = EXCLUDED.count, last = EXCLUDED.last, expires = EXCLUDED.expires',
        [key, entry.count, Math.floor(entry.last), Math.floor(entry.expires)],
      );
    },
    delete: async (key: string): Promise<void> => {
      await this.pool.query('DELETE FROM throttle WHERE key = $1', [key]);
    },
  };

  /**
   * Members' rate buckets (limits.ts's `RateStore`): saved when a member leaves a server, read at
   * sign-in on any. Two rows of the `rate` table per member, `m:<user>` (messages) and `b:<user>`
   * (bytes); user names hold no ':', so they never meet `takeToken`'s rows. `at` is the database's
   * clock and `load` answers with the age, so the servers' clocks need not agree.
   */
  readonly rate: RateStore = {
    save: async (user: string, snapshot: RateSnapshot): Promise<void> => {
      const key = user.toLowerCase();
      await this.pool.query(
        `WITH now AS (SELECT extract(epoch FROM clock_timestamp()) * 1000 AS ms)
         INSERT INTO rate AS b (user_key, tokens, at) SELECT k, t, ms FROM now, (VALUES ($1, $2::float8), ($3, $4::float8)) AS v (k, t)
         ON CONFLICT (user_key) DO UPDATE SET tokens = EXCLUDED.tokens, at = EXCLUDED.at`,
        [`m:${key}`, snapshot.messages, `b:${key}`, snapshot.bytes],
      );
    },
    load: async (user: string): Promise<(RateSnapshot & { ageMs: number }) | undefined> => {
      const key = user.toLowerCase();
      const r = await this.pool.query<{ user_key: string; tokens: number; age_ms: number }>(
        `SELECT user_key, tokens, extract(epoch FROM clock_timestamp()) * 1000 - at AS age_ms FROM rate WHERE user_key IN ($1, $2)`,
        [`m:${key}`, `b:${key}`],
      );
      const messages = r.rows.find((row) => row.user_key === `m:${key}`);
      const bytes = r.rows.find((row) => row.user_key === `b:${key}`);
      if (!messages || !bytes) return undefined;
      return { messages: Number(messages.tokens), bytes: Number(bytes.tokens), ageMs: Math.min(Number(messages.age_ms), Number(bytes.age_ms)) };
    },
  };

  /**
   * Takes one token from `user`'s bucket (`ratePerSecond` refill, `burst` capacity), on the
   * database's clock so that every server counts the same bucket. False when the bucket is empty.
   */
  async takeToken(user: string, ratePerSecond: number, burst: number): Promise<boolean> {
    const r = await this.pool.query(
      `WITH now AS (SELECT extract(epoch FROM clock_timestamp()) * 1000 AS ms)
       INSERT INTO rate AS b (user_key, tokens, at) SELECT $1, $3::float8 - 1, ms FROM now
       ON CONFLICT (user_key) DO UPDATE
         SET tokens = LEAST($3::float8, b.tokens + ((SELECT ms FROM now) - b.at) / 1000.0 * $2::float8) - 1,
             at = (SELECT ms FROM now)
         WHERE LEAST($3::float8, b.tokens + ((SELECT ms FROM now) - b.at) / 1000.0 * $2::float8) >= 1`,
      [user.toLowerCase(), ratePerSecond, burst],
    );
    return r.rowCount === 1;
  }

  /** Ends the pool. */
  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}
