/**
 * The chat server's account store: an embedded SQLite database (node-sqlite3-wasm: SQLite compiled
 * to WebAssembly, so no native build and no install script). The accounts table:
 *
 *     users(name TEXT PRIMARY KEY COLLATE NOCASE, password_hash TEXT, created_at INTEGER)
 *
 * `password_hash` is the Argon2id string from crypto/password.ts; no password is ever stored. The
 * same file holds the room's recent history and the private messages waiting for offline members
 * (history.ts: the `MessageStore` seam, asynchronous so that a networked database can serve it).
 */
import { createRequire } from 'node:module';
import type { Database as SqliteDatabase } from 'node-sqlite3-wasm';
import { SealwireError } from '../errors.js';
import type { ThrottleStore } from './throttle.js';
import type { RateStore } from './limits.js';
import type { ClusterLink } from './server.js';
import { sqliteMessageStore, MESSAGE_SCHEMA, memoryMessageStore, type MessageStore } from './history.js';

const require = createRequire(import.meta.url);

export interface Account {
  readonly name: string;
  readonly passwordHash: string;
}

/**
 * Accounts. The embedded SQLite store answers at once; a store on a database server (pg/store.ts)
 * answers with a Promise: the chat server awaits either.
 */
export interface AccountStore {
  /** The account, found regardless of case, or undefined. */
  find(name: string): Account | undefined | Promise<Account | undefined>;
  /** Creates an account; false when the name (in any case) is taken. */
  create(name: string, passwordHash: string, now: number): boolean | Promise<boolean>;
  /** Replaces an account's password hash; false when there is no such account. */
  setPassword(name: string, passwordHash: string): boolean | Promise<boolean>;
  close(): void | Promise<void>;
}

/** The embedded store answers at once (what tests of the SQLite file rely on). */
export interface LocalAccountStore extends AccountStore {
  find(name: string): Account | undefined;
  create(name: string, passwordHash: string, now: number): boolean;
  setPassword(name: string, passwordHash: string): boolean;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);`;

/**
 * The chat server's database: accounts, and the room's history and offline messages. A database
 * shared by several chat servers (pg/database.ts) also gives the sign-in throttle's state, the
 * members' saved rate buckets and the link to the other servers.
 */
export interface ChatDatabase {
  readonly accounts: AccountStore;
  readonly messages: MessageStore;
  readonly throttle?: ThrottleStore;
  /** Members' rate buckets between servers (saved when they leave one, read at sign-in). */
  readonly rate?: RateStore;
  readonly cluster?: ClusterLink;
  close(): void | Promise<void>;
}

/** Opens (creating on first use) the SQLite chat database at `path`. Throws `IO` when it cannot. */
export function openChatDatabase(path: string): ChatDatabase {
  const db = openSqlite(path);
  const accounts = sqliteAccounts(db);
  return { accounts, messages: sqliteMessageStore(db), close: () => accounts.close() };
}

function openSqlite(path: string): SqliteDatabase {
  let db: SqliteDatabase;
  try {
    const { Database } = require('node-sqlite3-wasm') as typeof import('node-sqlite3-wasm');
    db = new Database(path);
    db.exec(SCHEMA + MESSAGE_SCHEMA);
  } catch (e) {
    throw new SealwireError('IO', `cannot open the chat database ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return db;
}

/** Opens (creating on first use) the SQLite account database at `path`. */
export function openAccountStore(path: string): LocalAccountStore {
  return sqliteAccounts(openSqlite(path));
}

function sqliteAccounts(db: SqliteDatabase): LocalAccountStore {
  return {
    find(name) {
      const row = db.get('SELECT name, password_hash FROM users WHERE name = ?', [name]);
      if (!row) return undefined;
      return { name: String(row['name']), passwordHash: String(row['password_hash']) };
    },
    create(name, passwordHash, now) {
      const r = db.run('INSERT OR IGNORE INTO users (name, password_hash, created_at) VALUES (?, ?, ?)', [name, passwordHash, Math.floor(now)]);
      return r.changes === 1;
    },
    setPassword(name, passwordHash) {
      return db.run('UPDATE users SET password_hash = ? WHERE name = ?', [passwordHash, name]).changes === 1;
    },
    close() {
      if (db.isOpen) db.close();
    },
  };
}

/** An in-memory store for tests and demos. */
export function memoryAccountStore(): LocalAccountStore {
  const accounts = new Map<string, Account>();
  return {
    find: (name) => accounts.get(name.toLowerCase()),
    create(name, passwordHash) {
      if (accounts.has(name.toLowerCase())) return false;
      accounts.set(name.toLowerCase(), { name, passwordHash });
      return true;
    },
    setPassword(name, passwordHash) {
      const a = accounts.get(name.toLowerCase());
      if (!a) return false;
      accounts.set(name.toLowerCase(), { name: a.name, passwordHash });
      return true;
    },
    close() {},
  };
}

/** An in-memory chat database for tests and demos. */
export function memoryChatDatabase(): ChatDatabase {
  return { accounts: memoryAccountStore(), messages: memoryMessageStore(), close() {} };
}
