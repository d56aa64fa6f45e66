/**
 * The chat server's account store: an embedded SQLite database (node-sqlite3-wasm: SQLite compiled
 * to WebAssembly, so no native build and no install script). One table:
 *
 *     users(name TEXT PRIMARY KEY COLLATE NOCASE, password_hash TEXT, created_at INTEGER)
 *
 * `password_hash` is the Argon2id string from crypto/password.ts; no password is ever stored, and
 * no message body either (the server keeps no history).
 */
import { createRequire } from 'node:module';
import type { Database as SqliteDatabase } from 'node-sqlite3-wasm';
import { SealwireError } from '../errors.js';

const require = createRequire(import.meta.url);

export interface Account {
  readonly name: string;
  readonly passwordHash: string;
}

export interface AccountStore {
  /** The account, found regardless of case, or undefined. */
  find(name: string): Account | undefined;
  /** Creates an account; false when the name (in any case) is taken. */
  create(name: string, passwordHash: string, now: number): boolean;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);`;

/** Opens (creating on first use) the SQLite account database at `path`. */
export function openAccountStore(path: string): AccountStore {
  let db: SqliteDatabase;
  try {
    const { Database } = require('node-sqlite3-wasm') as typeof import('node-sqlite3-wasm');
    db = new Database(path);
    db.exec(SCHEMA);
  } catch (e) {
    throw new SealwireError('IO', `cannot open the chat database ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
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
    close() {
      if (db.isOpen) db.close();
    },
  };
}

/** An in-memory store for tests and demos. */
export function memoryAccountStore(): AccountStore {
  const accounts = new Map<string, Account>();
  return {
    find: (name) => accounts.get(name.toLowerCase()),
    create(name, passwordHash) {
      if (accounts.has(name.toLowerCase())) return false;
      accounts.set(name.toLowerCase(), { name, passwordHash });
      return true;
    },
    close() {},
  };
}
