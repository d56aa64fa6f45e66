/**
 * The chat's PostgreSQL schema, created or migrated on start. `sealwire_schema` holds the version
 * applied; each step below runs once, in order, in one transaction under an advisory lock, so
 * several chat servers starting together migrate once.
 *
 * Tables (names are kept as the account spells them; `*_key` columns hold the lower-case form
 * used for lookups):
 *   users(name, name_key UNIQUE, password_hash, created_at)     accounts
 *   history(id, kind, sender, body, at)                         the room's recent messages
 *   offline(id, recipient_key, sender, body, at)                private messages waiting
 *   throttle(key, count, last, expires)                         sign-in backoff (shared)
 *   rate(user_key, tokens, at)                                  message rate buckets (shared; `at` in
 *                                                              ms on the database's clock): `takeToken`'s,
 *                                                              and members' saved `m:<user>`, `b:<user>`
 *   servers(id, started, seen)                                  one heartbeat row per chat server
 *   presence(user_key, name, server_id, session)                who is signed in where
 *   events(id, uid UNIQUE, server_id, kind, sender, recipient, body, at)
 *                                                              the bus between servers
 * `at`, `last`, `expires` are milliseconds since the Unix epoch; `seen`/`started` are the
 * database's own clock (timestamptz), so servers need no synchronised clocks for liveness.
 */
import type { PoolClient } from 'pg';

/** Advisory lock ids (arbitrary constants, "sealwire" in spirit). */
export const LOCK_MIGRATE = 0x5ea1_0001;
export const LOCK_EVENTS = 0x5ea1_0002;

const STEPS: readonly string[] = [
  `CREATE TABLE users (
     name text NOT NULL,
     name_key text PRIMARY KEY,
     password_hash text NOT NULL,
     created_at bigint NOT NULL);
   CREATE TABLE history (
     id bigserial PRIMARY KEY,
     kind text NOT NULL,
     sender text NOT NULL,
     body text NOT NULL,
     at bigint NOT NULL);
   CREATE TABLE offline (
     id bigserial PRIMARY KEY,
     recipient_key text NOT NULL,
     sender text NOT NULL,
     body text NOT NULL,
     at bigint NOT NULL);
   CREATE INDEX offline_recipient ON offline (recipient_key, id);
   CREATE TABLE throttle (
     key text PRIMARY KEY,
     count integer NOT NULL,
     last bigint NOT NULL,
     expires bigint NOT NULL);
   CREATE TABLE rate (
     user_key text PRIMARY KEY,
     tokens double precision NOT NULL,
     at double precision NOT NULL);
   CREATE TABLE servers (
     id text PRIMARY KEY,
     started timestamptz NOT NULL DEFAULT now(),
     seen timestamptz NOT NULL DEFAULT now());
   CREATE TABLE presence (
     user_key text PRIMARY KEY,
     name text NOT NULL,
     server_id text NOT NULL,
     session text NOT NULL);
   CREATE INDEX presence_server ON presence (server_id);
   CREATE TABLE events (
     id bigserial PRIMARY KEY,
     uid text NOT NULL UNIQUE,
     server_id text NOT NULL,
     kind text NOT NULL,
     sender text NOT NULL,
     recipient text,
     body text,
     at bigint NOT NULL);`,
];

/** Brings the schema to the newest version; returns the version now in place. */
export async function migrate(client: PoolClient): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_MIGRATE]);
    await client.query('CREATE TABLE IF NOT EXISTS sealwire_schema (version integer NOT NULL)');
    const r = await client.query<{ version: number }>('SELECT version FROM sealwire_schema');
    let version = r.rows[0]?.version ?? 0;
    if (r.rows.length === 0) await client.query('INSERT INTO sealwire_schema (version) VALUES (0)');
    while (version < STEPS.length) {
      await client.query(STEPS[version]!);
      version += 1;
    }
    await client.query('UPDATE sealwire_schema SET version = $1', [version]);
    await client.query('COMMIT');
    return version;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}
