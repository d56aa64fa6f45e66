/**
 * What the chat server remembers besides accounts: the room's recent messages (history, shown to a
 * member who signs in) and the private messages waiting for an offline member (delivered at their
 * next sign-in, in order, exactly once).
 *
 * `MessageStore` is the seam: every method returns a Promise, so a store on a database server
 * (PostgreSQL, shared by several chat servers) can implement it as well as the embedded SQLite file
 * below. Its rules, which any implementation keeps:
 * - `appendHistory` keeps only the newest `keep` entries (0 stores nothing).
 * - `queueOffline` refuses (false) when `max` messages already wait for that recipient.
 * - `takeOffline` removes what it returns in one step (SQLite: one transaction; PostgreSQL:
 *   `DELETE … RETURNING`), so a message is handed out once even if two sign-ins race.
 *
 * Tables (SQLite; names are stored as the account spells them, looked up regardless of case):
 *
 *     history(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, sender TEXT, body TEXT, at INTEGER)
 *     offline(id INTEGER PRIMARY KEY AUTOINCREMENT, recipient TEXT COLLATE NOCASE, sender TEXT,
 *             body TEXT, at INTEGER)
 *
 * `at` is milliseconds since the Unix epoch (UTC).
 */
import type { Database as SqliteDatabase } from 'node-sqlite3-wasm';

export type HistoryKind = 'say' | 'me';

export interface HistoryEntry {
  readonly kind: HistoryKind;
  readonly from: string;
  readonly text: string;
  /** When the server accepted it, ms since the epoch. */
  readonly at: number;
}

export interface OfflineMessage {
  readonly from: string;
  readonly text: string;
  readonly at: number;
}

export interface MessageStore {
  /** Appends one message to the room's history, then keeps only the newest `keep` entries. */
  appendHistory(entry: HistoryEntry, keep: number): Promise<void>;
  /** The newest `limit` entries of the history, oldest first. */
  recentHistory(limit: number): Promise<HistoryEntry[]>;
  /** Stores a private message for `to`; false (nothing stored) when `max` already wait for them. */
  queueOffline(to: string, message: OfflineMessage, max: number): Promise<boolean>;
  /** Removes and returns every message waiting for `to`, oldest first. */
  takeOffline(to: string): Promise<OfflineMessage[]>;
}

export const MESSAGE_SCHEMA = `
CREATE TABLE IF NOT EXISTS history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  sender TEXT NOT NULL,
  body TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS offline (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient TEXT NOT NULL COLLATE NOCASE,
  sender TEXT NOT NULL,
  body TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS offline_recipient ON offline (recipient, id);`;

/** The message store in the chat's SQLite database (opened by store.ts). */
export function sqliteMessageStore(db: SqliteDatabase): MessageStore {
  const kindOf = (v: unknown): HistoryKind => (v === 'me' ? 'me' : 'say');
  return {
    appendHistory(entry, keep) {
      if (keep <= 0) return Promise.resolve();
      db.run('INSERT INTO history (kind, sender, body, at) VALUES (?, ?, ?, ?)', [entry.kind, entry.from, entry.text, Math.floor(entry.at)]);
      db.run('DELETE FROM history WHERE id <= (SELECT MAX(id) FROM history) - ?', [keep]);
      return Promise.resolve();
    },
    recentHistory(limit) {
      if (limit <= 0) return Promise.resolve([]);
      const rows = db.all('SELECT kind, sender, body, at FROM history ORDER BY id DESC LIMIT ?', [limit]);
      return Promise.resolve(rows.reverse().map((r) => ({ kind: kindOf(r['kind']), from: String(r['sender']), text: String(r['body']), at: Number(r['at']) })));
    },
    queueOffline(to, message, max) {
      const waiting = Number(db.get('SELECT COUNT(*) AS n FROM offline WHERE recipient = ?', [to])?.['n'] ?? 0);
      if (waiting >= max) return Promise.resolve(false);
      db.run('INSERT INTO offline (recipient, sender, body, at) VALUES (?, ?, ?, ?)', [to, message.from, message.text, Math.floor(message.at)]);
      return Promise.resolve(true);
    },
    takeOffline(to) {
      db.exec('BEGIN IMMEDIATE');
      try {
        const rows = db.all('SELECT sender, body, at FROM offline WHERE recipient = ? ORDER BY id', [to]);
        db.run('DELETE FROM offline WHERE recipient = ?', [to]);
        db.exec('COMMIT');
        return Promise.resolve(rows.map((r) => ({ from: String(r['sender']), text: String(r['body']), at: Number(r['at']) })));
      } catch (e) {
        db.exec('ROLLBACK');
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
  };
}

/** An in-memory message store for tests and demos. */
export function memoryMessageStore(): MessageStore {
  const history: HistoryEntry[] = [];
  const offline = new Map<string, OfflineMessage[]>();
  return {
    appendHistory(entry, keep) {
      if (keep > 0) {
        history.push(entry);
        if (history.length > keep) history.splice(0, history.length - keep);
      }
      return Promise.resolve();
    },
    recentHistory: (limit) => Promise.resolve(limit > 0 ? history.slice(-limit) : []),
    queueOffline(to, message, max) {
      const list = offline.get(to.toLowerCase()) ?? [];
      if (list.length >= max) return Promise.resolve(false);
      list.push(message);
      offline.set(to.toLowerCase(), list);
      return Promise.resolve(true);
    },
    takeOffline(to) {
      const list = offline.get(to.toLowerCase()) ?? [];
      offline.delete(to.toLowerCase());
      return Promise.resolve(list);
    },
  };
}
