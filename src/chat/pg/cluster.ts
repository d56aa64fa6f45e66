/**
 * The bus between chat servers on one PostgreSQL: what one server accepts, every server delivers
 * to its own members, exactly once and in the order it was accepted.
 *
 * Mechanism (docs/DEPLOY.md says it to operators):
 * - **Events table + NOTIFY of ids.** A server stores each accepted event (public message, /me,
 *   private message, join, leave, takeover) as a row of `events`, then `NOTIFY sealwire_events`.
 *   Every server (the one that stored it too) reads `WHERE id > last ORDER BY id` and delivers.
 *   Inserts take one advisory transaction lock, so ids commit in id order and a reader never
 *   skips an id that commits later. A poll every `pollMs` covers a lost notification.
 * - **Exactly once.** Each event carries a `uid` (server id + a counter of this process) that is
 *   UNIQUE in the table: an insert retried after a lost answer (the database restarted during the
 *   commit) does nothing the second time. A reader delivers each id once, as `last` only rises.
 * - **Per-sender order.** A server writes its events one at a time from one outbox queue, in the
 *   order its members' messages arrived, so one sender's events get rising ids.
 * - **Outbox.** While the database is unreachable the queue keeps what was accepted (in memory)
 *   and retries with backoff; local members stay connected; the operator is told once when the
 *   database goes and once when it is back; reading resumes at `last`, so nothing is missed.
 * - **Liveness by heartbeat rows.** Each server updates `servers.seen = now()` every
 *   `heartbeatMs`; any server connected for at least `deadAfterMs` (so not one just back from a
 *   database outage, when every row looks stale), and only when PostgreSQL itself has been up
 *   that long, deletes rows older than `deadAfterMs` (the database's clock) with
 *   the presence of their members, and stores a `left` event for each, so a SIGKILLed server's
 *   members are shown as left within `deadAfterMs + heartbeatMs`. A server that finds its own
 *   row gone (it was cut off that long) registers again and re-announces its members.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { LOCK_EVENTS } from './schema.js';
import { scrub, type PgStore } from './store.js';

export type ClusterEventKind = 'say' | 'me' | 'private' | 'joined' | 'left' | 'takeover';

/** One event as every server sees it. */
export interface ClusterEvent {
  readonly id: number;
  readonly server: string;
  readonly kind: ClusterEventKind;
  /** The sender (say, me, private) or the member concerned (joined, left, takeover). */
  readonly user: string;
  /** Private: the recipient. Takeover: the session id that now holds `user`. */
  readonly to: string | null;
  readonly text: string | null;
  readonly at: number;
}

export interface ClusterOptions {
  readonly heartbeatMs?: number;
  readonly deadAfterMs?: number;
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
  /** Milliseconds since the epoch, for event times (default Date.now). */
  readonly now?: () => number;
}

interface Job {
  readonly run: (c: pg.PoolClient) => Promise<void>;
  /** A plain event insert: consecutive ones are written together in one transaction. */
  readonly insert?: (c: pg.PoolClient) => Promise<void>;
}

/** Events written in one transaction at most. */
const MAX_BATCH = 200;

const CHANNEL = 'sealwire_events';
/** Events are kept this long for servers that catch up after an outage (ms). */
const KEEP_EVENTS_MS = 10 * 60_000;

/**
 * Emits `'event'` (ClusterEvent) for every event of the room in id order, `'reregistered'` when
 * this server had been declared dead and is back (the caller re-announces its members with
 * `claim`), `'db'` (`'down' | 'up'`).
 */
export class PgCluster extends EventEmitter {
  readonly serverId: string;
  private readonly heartbeatMs: number;
  private readonly deadAfterMs: number;
  private readonly pollMs: number;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  private readonly outbox: Job[] = [];
  private counter = 0;
  private last = 0;
  private draining = false;
  private reading = false;
  private readAgain = false;
  private closed = false;
  private dbDown = false;
  private listener: pg.Client | undefined;
  private timers: NodeJS.Timeout[] = [];
  private retryMs = 100;
  /** When this server's database connection last came back (or it joined), Date.now() ms. */
  private upSince = Date.now();

  private constructor(
    private readonly store: PgStore,
    options: ClusterOptions,
  ) {
    super();
    this.serverId = randomBytes(6).toString('hex');
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.deadAfterMs = options.deadAfterMs ?? 15_000;
    this.pollMs = options.pollMs ?? 1000;
    this.log = options.log ?? (() => {});
    this.now = options.now ?? Date.now;
  }

  /** Registers this server, starts listening, heartbeat and sweeping. Throws when the database is unreachable. */
  static async join(store: PgStore, options: ClusterOptions = {}): Promise<PgCluster> {
    const c = new PgCluster(store, options);
    await store.pool.query('INSERT INTO servers (id) VALUES ($1)', [c.serverId]);
    const r = await store.pool.query<{ max: string | null }>('SELECT max(id) AS max FROM events');
    c.last = Number(r.rows[0]?.max ?? 0);
    await c.listen();
    c.timers.push(setInterval(() => void c.heartbeat(), c.heartbeatMs));
    c.timers.push(setInterval(() => void c.read(), c.pollMs));
    for (const t of c.timers) t.unref();
    return c;
  }

  /** Queues an event; it is stored once, after every event queued before it. */
  publish(kind: ClusterEventKind, user: string, to: string | null = null, text: string | null = null): void {
    const uid = this.uid();
    const at = this.now();
    const insert = (c: pg.PoolClient): Promise<void> => this.insertEvent(c, uid, kind, user, to, text, at);
    this.outbox.push({ run: (c) => this.transaction(c, () => insert(c)), insert });
    void this.drain();
  }

  /**
   * Records that `user` is signed in here with `session`, replacing wherever they were, and stores
   * a `takeover` event (every server closes the user's other sessions) when they were signed in,
   * else a `joined` event, in one transaction. Resolves once stored.
   */
  claim(user: string, session: string): Promise<void> {
    const uid = this.uid();
    const at = this.now();
    return new Promise((resolve) => {
      this.enqueue(async (c) => {
        await this.transaction(c, async () => {
          const r = await c.query('SELECT 1 FROM presence WHERE user_key = $1', [user.toLowerCase()]);
          await c.query(
            'INSERT INTO presence (user_key, name, server_id, session) VALUES ($1, $2, $3, $4) ON CONFLICT (user_key) DO UPDATE SET name = $2, server_id = $3, session = $4',
            [user.toLowerCase(), user, this.serverId, session],
          );
          // A retry after a lost COMMIT answer finds the row and picks 'takeover', but the uid is
          // already stored, so the event is not stored twice.
          if (r.rowCount === 0) await this.insertEvent(c, uid, 'joined', user, null, null, at);
          else await this.insertEvent(c, uid, 'takeover', user, session, null, at);
        });
        resolve();
      });
    });
  }

  /** Records that `user`'s `session` signed out, with a `left` event if that session still held the user. */
  release(user: string, session: string): void {
    const uid = this.uid();
    const at = this.now();
    this.enqueue((c) =>
      this.transaction(c, async () => {
        const r = await c.query('DELETE FROM presence WHERE user_key = $1 AND session = $2', [user.toLowerCase(), session]);
        if (r.rowCount === 1) await this.insertEvent(c, uid, 'left', user, null, null, at);
      }),
    );
  }

  /** Members signed in on any live server. */
  async online(): Promise<string[]> {
    const r = await this.store.pool.query<{ name: string }>('SELECT name FROM presence ORDER BY name');
    return r.rows.map((row) => row.name);
  }

  /** True when `user` is signed in on some server. */
  async isOnline(user: string): Promise<boolean> {
    const r = await this.store.pool.query('SELECT 1 FROM presence WHERE user_key = $1', [user.toLowerCase()]);
    return r.rowCount === 1;
  }

  /** Stops timers and the listener, writes what the outbox holds (bounded by `graceMs`), removes this server's row. */
  async leave(graceMs = 3000): Promise<void> {
    const deadline = Date.now() + graceMs;
    while ((this.outbox.length > 0 || this.draining) && Date.now() < deadline) await sleep(20);
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => {});
    // Our members leave the room for every other server (a clean shutdown; a crash is swept).
    await this.removeServer(this.serverId).catch((e: unknown) => this.log(`could not sign this server's members out: ${scrub(e, this.store.url)}`));
  }

  /**
   * Test seam: stops as a SIGKILLed process would (no heartbeat, no listener, nothing written,
   * nothing removed), so tests can watch the others notice without killing the test runner.
   */
  dieForTestingOnly(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.outbox.length = 0;
    const l = this.listener;
    this.listener = undefined;
    void l?.end().catch(() => {});
  }

  /** Events waiting in the outbox (not yet stored). */
  get pending(): number {
    return this.outbox.length;
  }

  // ---- internals ----

  private uid(): string {
    return `${this.serverId}:${++this.counter}`;
  }

  /** Runs `body` in a transaction that holds the events lock (ids commit in id order), then NOTIFYs. */
  private async transaction(c: pg.PoolClient, body: () => Promise<void>): Promise<void> {
    await c.query('BEGIN');
    try {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_EVENTS]);
      await body();
      await c.query(`NOTIFY ${CHANNEL}`);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  private async insertEvent(c: pg.PoolClient, uid: string, kind: ClusterEventKind, user: string, to: string | null, text: string | null, at: number): Promise<void> {
    await c.query('INSERT INTO events (uid, server_id, kind, sender, recipient, body, at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (uid) DO NOTHING', [
      uid,
      this.serverId,
      kind,
      user,
      to,
      text,
      at,
    ]);
  }

  private enqueue(run: (c: pg.PoolClient) => Promise<void>): void {
    this.outbox.push({ run });
    void this.drain();
  }

  /** Writes the outbox in order, one job at a time, retrying the head until it succeeds. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.outbox.length > 0 && !this.closed) {
        const job = this.outbox[0]!;
        // Consecutive plain inserts go in one transaction (in queue order: ids keep that order).
        let n = 1;
        if (job.insert) while (n < MAX_BATCH && this.outbox[n]?.insert) n++;
        const batch = this.outbox.slice(0, n);
        try {
          const c = await this.store.pool.connect();
          try {
            if (n === 1) await job.run(c);
            else
              await this.transaction(c, async () => {
                for (const j of batch) await j.insert!(c);
              });
          } finally {
            c.release();
          }
          this.outbox.splice(0, n);
          this.up();
        } catch (e) {
          this.down(e);
          await sleep(this.retryMs);
          this.retryMs = Math.min(this.retryMs * 2, 2000);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.store.url });
    client.on('error', (e) => this.down(e));
    client.on('end', () => {
      if (this.listener !== client || this.closed) return;
      this.listener = undefined;
      this.down(new Error('the listening connection ended'));
      void this.relisten();
    });
    client.on('notification', () => void this.read());
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
    void this.read();
  }

  private async relisten(): Promise<void> {
    let wait = 100;
    while (!this.closed && !this.listener) {
      try {
        await this.listen();
        this.up();
        return;
      } catch (e) {
        this.down(e);
        await sleep(wait);
        wait = Math.min(wait * 2, 2000);
      }
    }
  }

  /** Delivers every stored event after `last`, in id order. */
  private async read(): Promise<void> {
    if (this.closed) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        for (;;) {
          const r = await this.store.pool.query<{ id: string; server_id: string; kind: ClusterEventKind; sender: string; recipient: string | null; body: string | null; at: string }>(
            'SELECT id, server_id, kind, sender, recipient, body, at FROM events WHERE id > $1 ORDER BY id LIMIT 500',
            [this.last],
          );
          for (const row of r.rows) {
            const id = Number(row.id);
            if (id <= this.last) continue;
            this.last = id;
            const event: ClusterEvent = { id, server: row.server_id, kind: row.kind, user: row.sender, to: row.recipient, text: row.body, at: Number(row.at) };
            try {
              this.emit('event', event);
            } catch (e) {
              this.log(`delivering event ${id} failed: ${(e as Error).message}`);
            }
          }
          if (r.rows.length < 500 || this.closed) break;
        }
      } while (this.readAgain && !this.closed);
      this.up();
    } catch (e) {
      this.down(e);
    } finally {
      this.reading = false;
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.closed) return;
    try {
      const r = await this.store.pool.query('UPDATE servers SET seen = now() WHERE id = $1', [this.serverId]);
      if (r.rowCount === 0) {
        await this.store.pool.query('INSERT INTO servers (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET seen = now()', [this.serverId]);
        this.log('this chat server had been declared dead by the others (cut off from the database too long); registered again');
        this.emit('reregistered');
      }
      // After an outage every row looks stale: sweep only once this server has been connected for
      // `deadAfterMs`, so the others have had time to heartbeat again and are not declared dead.
      if (Date.now() - this.upSince >= this.deadAfterMs) await this.sweep();
      await this.store.pool.query('DELETE FROM events WHERE at < $1', [this.now() - KEEP_EVENTS_MS]);
      this.up();
    } catch (e) {
      this.down(e);
    }
  }

  /** Removes servers whose heartbeat is older than `deadAfterMs`, with their members (a `left` event each). */
  private async sweep(): Promise<void> {
    const c = await this.store.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_EVENTS]);
      const dead = await c.query<{ id: string }>(`DELETE FROM servers WHERE seen < now() - $1 * interval '1 millisecond'
         AND now() - pg_postmaster_start_time() > $1 * interval '1 millisecond' RETURNING id`, [this.deadAfterMs]);
      for (const { id } of dead.rows) {
        const gone = await this.dropMembers(c, id);
        this.log(`chat server ${id} stopped its heartbeat; ${gone} member(s) shown as left`);
      }
      if (dead.rows.length > 0) await c.query(`NOTIFY ${CHANNEL}`);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  /** Deletes `server`'s presence rows with a `left` event each (in the caller's transaction); returns how many. */
  private async dropMembers(c: pg.PoolClient, server: string): Promise<number> {
    const gone = await c.query<{ name: string; session: string }>('DELETE FROM presence WHERE server_id = $1 RETURNING name, session', [server]);
    for (const m of gone.rows) {
      await c.query("INSERT INTO events (uid, server_id, kind, sender, at) VALUES ($1, $2, 'left', $3, $4) ON CONFLICT (uid) DO NOTHING", [`gone:${server}:${m.session}`, server, m.name, this.now()]);
    }
    return gone.rows.length;
  }

  /** Removes `server`'s row and members in one transaction. */
  private async removeServer(server: string): Promise<void> {
    const c = await this.store.pool.connect();
    try {
      await this.transaction(c, async () => {
        await this.dropMembers(c, server);
        await c.query('DELETE FROM servers WHERE id = $1', [server]);
      });
    } finally {
      c.release();
    }
  }

  private down(e: unknown): void {
    if (this.closed || this.dbDown) return;
    this.dbDown = true;
    this.log(`database unreachable (${scrub(e, this.store.url)}); local members stay connected, accepted messages wait in the outbox; retrying`);
    this.emit('db', 'down');
  }

  private up(): void {
    this.retryMs = 100;
    if (!this.dbDown) return;
    this.dbDown = false;
    this.upSince = Date.now();
    this.log(`database reachable again; ${this.outbox.length} queued event(s) being written, catching up from event ${this.last}`);
    this.emit('db', 'up');
    void this.read();
    void this.drain();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
