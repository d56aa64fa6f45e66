/** Password hashing (Argon2id via libsodium) and the SQLite account store. */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { hashPassword, verifyPassword, MAX_PASSWORD_BYTES } from '../../src/crypto/password.js';
import { openAccountStore } from '../../src/chat/store.js';
import { tempDir } from '../helpers/cli.js';
import { CHEAP_PASSWORD_COST_FOR_TESTING_ONLY as cost } from './helpers.js';

describe('password hashing', () => {
  it('stores an Argon2id string with a random salt, never the password, and verifies it', async () => {
    const a = await hashPassword('hunter2 hunter2', cost);
    const b = await hashPassword('hunter2 hunter2', cost);
    expect(a).toMatch(/^\$argon2id\$v=19\$m=8,t=1,p=1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('hunter2');
    expect(await verifyPassword(a, 'hunter2 hunter2')).toBe(true);
    expect(await verifyPassword(a, 'hunter2 hunter3')).toBe(false);
    expect(await verifyPassword(a, '')).toBe(false);
    expect(await verifyPassword('garbage', 'hunter2 hunter2')).toBe(false);
    expect(await verifyPassword(`${a}x`.repeat(10), 'hunter2 hunter2')).toBe(false);
  });

  it('uses the interactive cost by default and bounds the password length', async () => {
    expect(await hashPassword('default cost')).toMatch(/^\$argon2id\$v=19\$m=65536,t=2,p=1\$/);
    await expect(hashPassword('x'.repeat(MAX_PASSWORD_BYTES + 1), cost)).rejects.toThrow(/longer than/);
    await expect(hashPassword('', cost)).rejects.toThrow(/empty/);
  });
});

describe('SQLite account store', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('creates, finds regardless of case, refuses duplicates, and persists across reopening', async () => {
    const path = t.path('accounts.db');
    const hash = await hashPassword('a secret password', cost);
    const store = openAccountStore(path);
    expect(store.find('alice')).toBeUndefined();
    expect(store.create('Alice', hash, 1)).toBe(true);
    expect(store.create('alice', hash, 2)).toBe(false);
    expect(store.find('ALICE')).toEqual({ name: 'Alice', passwordHash: hash });
    store.close();
    const again = openAccountStore(path);
    expect(again.find('alice')?.name).toBe('Alice');
    again.close();
    const bytes = readFileSync(path);
    expect(bytes.includes(Buffer.from('a secret password'))).toBe(false);
    expect(bytes.includes(Buffer.from(hash))).toBe(true);
  });

  it('reports a database it cannot open as one IO error', () => {
    expect(() => openAccountStore(t.path('no/such/dir/x.db'))).toThrow(/cannot open the chat database/);
  });
});
