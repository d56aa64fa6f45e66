/**
 * The chat's PostgreSQL store and bus against a real PostgreSQL (test/helpers/postgres.ts):
 * schema migration, accounts, history, offline messages handed out once, the shared sign-in
 * throttle and rate buckets, and the bus between servers: every event exactly once and in order
 * per sender on every server, presence and takeover, a dead server's members shown as left, and a
 * database restart in the middle of traffic losing and doubling nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { openPgStore, type PgStore } from '../../src/chat/pg/store.js';
import { PgCluster, type ClusterEvent } from '../../src/chat/pg/cluster.js';
import { isDatabaseUrl, redactUrl } from '../../src/chat/pg/url.js';

let db: TestPostgres;
const opened: PgStore[] = [];
const clusters: PgCluster[] = [];

beforeAll(async () => {
  db = await startPostgres();
}, 60_000);

afterAll(async () => {
  for (const c of clusters) await c.leave(100).catch(() => {});
  for (const s of opened) await s.close();
  await db?.stop();
}, 60_000);

async function store(logs?: string[]): Promise<PgStore> {
  const s = await openPgStore(db.url, { log: (l) => logs?.push(l) });
  opened.push(s);
  return s;
}

async function cluster(s: PgStore, opts: ConstructorParameters<typeof Object>[0] = {}, logs?: string[]): Promise<{ c: PgCluster; events: ClusterEvent[] }> {
  const c = await PgCluster.join(s, { pollMs: 200, log: (l) => logs?.push(l), ...(opts as object) });
  clusters.push(c);
  const events: ClusterEvent[] = [];
  c.on('event', (e: ClusterEvent) => events.push(e));
  return { c, events };
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('database URL', () => {
  it('tells a URL from a file path and never shows the password', () => {
    expect(isDatabaseUrl('postgres://u:p@h:5432/d')).toBe(true);
    expect(isDatabaseUrl('postgresql://h/d')).toBe(true);
    expect(isDatabaseUrl('./chat.db')).toBe(false);
    expect(redactUrl('postgres://alice:s3cret@db.example:5432/chat')).toBe('postgres://alice:***@db.example:5432/chat');
    expect(() => redactUrl('postgres://[bad')).toThrow(/does not parse/);
  });

  it('a wrong password fails with a line that does not contain it', async () => {
    const bad = db.url.replace(db.password, 'wrong-password-xyz');
    const err = await openPgStore(bad).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/cannot open the chat database postgres:\/\/sealwire:\*\*\*@/);
    expect((err as Error).message).not.toContain('wrong-password-xyz');
  });
});

describe('PostgreSQL store', () => {
  it('migrates once, whoever starts first', async () => {
    await Promise.all([store(), store(), store()]);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const r = await c.query<{ version: number }>('SELECT version FROM sealwire_schema');
    await c.end();
    expect(r.rows).toEqual([{ version: 1 }]);
  });

  it('accounts: one name in any case, found from any server', async () => {
    const a = await store();
    const b = await store();
    expect(await a.create('Alice', 'hash-1', 1)).toBe(true);
    expect(await b.create('alice', 'hash-2', 2)).toBe(false);
    expect(await b.find('ALICE')).toEqual({ name: 'Alice', passwordHash: 'hash-1' });
    expect(await b.setPassword('alice', 'hash-3')).toBe(true);
    expect((await a.find('alice'))?.passwordHash).toBe('hash-3');
    expect(await a.setPassword('nobody', 'x')).toBe(false);
    expect(await a.find('nobody')).toBeUndefined();
  });

  it('history keeps the newest entries; offline messages are handed out once, in order', async () => {
    const a = await store();
    const b = await store();
    for (let i = 0; i < 8; i++) await a.appendHistory({ kind: i % 2 ? 'me' : 'say', from: 'alice', text: `h${i}`, at: 1000 + i }, 5);
    const h = await b.recentHistory(3);
    expect(h.map((e) => e.text)).toEqual(['h5', 'h6', 'h7']);
    expect(h[0]).toEqual({ kind: 'me', from: 'alice', text: 'h5', at: 1005 });
    expect((await b.recentHistory(50)).length).toBe(5);
    for (let i = 0; i < 4; i++) expect(await a.queueOffline('Bob', { from: 'alice', text: `p${i}`, at: i }, 3)).toBe(i < 3);
    const [x, y] = await Promise.all([a.takeOffline('bob'), b.takeOffline('BOB')]);
    const all = [...x, ...y];
    expect(all.map((m) => m.text)).toEqual(['p0', 'p1', 'p2']);
    expect(await a.takeOffline('bob')).toEqual([]);
  });

  it('sign-in throttle and rate buckets are shared by every server', async () => {
    const a = await store();
    const b = await store();
    await a.throttle.put('a:carol', { count: 4, last: 100, expires: 5000 });
    expect(await b.throttle.get('a:carol', 200)).toEqual({ count: 4, last: 100, expires: 5000 });
    expect(await b.throttle.get('a:carol', 5000)).toBeUndefined();
    await b.throttle.delete('a:carol');
    expect(await a.throttle.get('a:carol', 200)).toBeUndefined();
    // A burst of 5 at a slow refill: 5 tokens across both servers, not 5 each.
    const taken = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).takeToken('dave', 0.01, 5)));
    expect(taken.filter(Boolean).length).toBe(5);
  });
});

describe('PostgreSQL bus between servers', () => {
  it('3 servers × 100 messages: every server sees every message once, in order per sender', async () => {
    const s = await store();
    const nodes = await Promise.all([cluster(s), cluster(s), cluster(s)]);
    nodes.forEach(({ c }, i) => {
      for (let k = 0; k < 100; k++) c.publish('say', `user${i}`, null, `m${k}`);
    });
    for (const { events } of nodes) await until(() => events.filter((e) => e.kind === 'say').length >= 300, 30_000, '300 events');
    await new Promise((r) => setTimeout(r, 500));
    for (const { events } of nodes) {
      const says = events.filter((e) => e.kind === 'say');
      expect(says.length).toBe(300);
      for (let i = 0; i < 3; i++) expect(says.filter((e) => e.user === `user${i}`).map((e) => e.text)).toEqual(Array.from({ length: 100 }, (_, k) => `m${k}`));
    }
    // The same order everywhere.
    expect(nodes[1]!.events.map((e) => e.id)).toEqual(nodes[0]!.events.map((e) => e.id));
    for (const { c } of nodes) await c.leave();
  }, 60_000);

  it('presence: join, /who across servers, takeover from another server, leave', async () => {
    const s = await store();
    const A = await cluster(s);
    const B = await cluster(s);
    await A.c.claim('erin', 'sess-a');
    await B.c.claim('frank', 'sess-b');
    expect(await A.c.online()).toEqual(expect.arrayContaining(['erin', 'frank']));
    expect(await B.c.isOnline('Erin')).toBe(true);
    await B.c.claim('erin', 'sess-b2'); // erin signs in on B: A must close sess-a
    await until(() => A.events.some((e) => e.kind === 'takeover' && e.user === 'erin'), 10_000, 'takeover');
    const t = A.events.find((e) => e.kind === 'takeover')!;
    expect(t.to).toBe('sess-b2');
    A.c.release('erin', 'sess-a'); // the old session's sign-out must not remove the new one
    B.c.release('frank', 'sess-b');
    await until(() => A.events.some((e) => e.kind === 'left' && e.user === 'frank'), 10_000, 'frank left');
    expect(A.events.filter((e) => e.kind === 'left').map((e) => e.user)).toEqual(['frank']);
    expect(await A.c.isOnline('erin')).toBe(true);
    expect(A.events.filter((e) => e.kind === 'joined').map((e) => e.user)).toEqual(['erin', 'frank']);
    await A.c.leave();
    await B.c.leave();
  }, 30_000);

  it('a server that dies is noticed: its members are shown as left within the bound', async () => {
    const s = await store();
    const A = await cluster(s, { heartbeatMs: 250, deadAfterMs: 1500 });
    const B = await cluster(s, { heartbeatMs: 250, deadAfterMs: 1500 });
    await B.c.claim('gina', 'g1');
    await until(() => A.events.some((e) => e.kind === 'joined' && e.user === 'gina'), 10_000, 'gina joined');
    const t0 = Date.now();
    B.c.dieForTestingOnly();
    await until(() => A.events.some((e) => e.kind === 'left' && e.user === 'gina'), 10_000, 'gina left');
    expect(Date.now() - t0).toBeLessThan(1500 + 250 + 2000);
    expect(await A.c.isOnline('gina')).toBe(false);
    await A.c.leave();
  }, 30_000);

  it('PostgreSQL restarting mid-run: nothing accepted is lost or doubled, and the operator is told', async () => {
    const logs: string[] = [];
    const s = await store(logs);
    const A = await cluster(s, {}, logs);
    const B = await cluster(s, {}, logs);
    for (let k = 0; k < 50; k++) A.c.publish('say', 'hank', null, `r${k}`);
    await until(() => B.events.filter((e) => e.kind === 'say').length >= 10, 10_000, 'first events');
    await db.pause();
    for (let k = 50; k < 100; k++) A.c.publish('say', 'hank', null, `r${k}`);
    await new Promise((r) => setTimeout(r, 1500));
    await db.start();
    for (const n of [A, B]) await until(() => n.events.filter((e) => e.kind === 'say').length >= 100, 30_000, '100 events after restart');
    await new Promise((r) => setTimeout(r, 1000));
    for (const n of [A, B]) expect(n.events.filter((e) => e.kind === 'say').map((e) => e.text)).toEqual(Array.from({ length: 100 }, (_, k) => `r${k}`));
    expect(logs.some((l) => l.startsWith('database unreachable'))).toBe(true);
    expect(logs.some((l) => l.startsWith('database reachable again'))).toBe(true);
    for (const l of logs) expect(l).not.toContain(db.password);
    await A.c.leave();
    await B.c.leave();
  }, 90_000);
});
