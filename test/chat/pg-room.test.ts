/**
 * One chat room on three chat servers sharing one real PostgreSQL (test/helpers/postgres.ts):
 * members spread over the servers, clients over UDP through relays that drop 10 % of datagrams.
 * Public messages arrive at every member exactly once and in order per sender; /me, private
 * messages and presence cross servers; /who lists every server's members; history and offline
 * messages stored through one server are served by another; signing in on another server closes
 * the old session; a server that dies is noticed by the others within the bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/index.js';
import { listenChat, connectChat, type ChatListener } from '../../src/chat/net.js';
import type { ChatClient } from '../../src/chat/client.js';
import { openPgChatDatabase } from '../../src/chat/pg/database.js';
import type { PgCluster } from '../../src/chat/pg/cluster.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startLossyRelay, type Relay } from './udp-relay.js';
import { CHEAP_PASSWORD_COST_FOR_TESTING_ONLY as cost, Events } from './helpers.js';

const key = generateKeyPair('x25519');
const PW = 'correct horse battery';
const HEARTBEAT_MS = 250;
const DEAD_AFTER_MS = 4000;
const reliable = { initialRtoMs: 30, maxRtoMs: 300, maxAttempts: 40 };

let db: TestPostgres;
const servers: { listener: ChatListener; cluster: PgCluster; relay: Relay }[] = [];
const clients: ChatClient[] = [];
const logs: string[] = [];

beforeAll(async () => {
  db = await startPostgres();
  for (let i = 0; i < 3; i++) {
    let cluster: PgCluster | undefined;
    const listener = await listenChat({
      server: { key, anyClient: true },
      transport: 'udp',
      reliable,
      passwordCost: cost,
      limits: { burst: 1000, ratePerSecond: 1000 },
      log: (l) => logs.push(`${'ABC'[i]}: ${l}`),
      openDatabase: async () => {
        const d = await openPgChatDatabase(db.url, { heartbeatMs: HEARTBEAT_MS, deadAfterMs: DEAD_AFTER_MS, pollMs: 200, log: (l) => logs.push(`${'ABC'[i]}: ${l}`) });
        cluster = d.cluster;
        return d;
      },
    });
    const relay = await startLossyRelay({ serverPort: listener.port, loss: 0.1, reorder: 0.05, seed: 100 + i });
    servers.push({ listener, cluster: cluster!, relay });
  }
}, 90_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => {})));
  for (const s of servers) {
    await s.relay.close();
    await s.listener.close().catch(() => {});
  }
  await db?.stop();
}, 60_000);

async function join(server: number, user: string, signup: boolean): Promise<{ client: ChatClient; events: Events }> {
  const client = await connectChat({ port: servers[server]!.relay.port, serverKey: key.publicKey, transport: 'udp', reliable }, { user, password: PW, signup });
  clients.push(client);
  return { client, events: new Events(client) };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`timed out: ${what}`)), ms))]);
}

describe('three chat servers on one PostgreSQL', () => {
  let alice: { client: ChatClient; events: Events };
  let bob: { client: ChatClient; events: Events };
  let carol: { client: ChatClient; events: Events };

  it('members on different servers see each other join and in /who', async () => {
    alice = await join(0, 'alice', true);
    bob = await join(1, 'bob', true);
    carol = await join(2, 'carol', true);
    await within(alice.events.next((e) => e.kind === 'joined' && e.user === 'carol'), 15_000, 'alice sees carol join');
    alice.client.who();
    const who = await within(alice.events.next((e) => e.kind === 'online'), 10_000, '/who');
    expect(who.kind === 'online' && [...who.users].sort()).toEqual(['alice', 'bob', 'carol']);
  }, 60_000);

  it('3 members × 100 public messages over 10 % loss: every member gets each once, in order per sender', async () => {
    const members = { alice, bob, carol };
    for (const [name, m] of Object.entries(members)) for (let k = 0; k < 100; k++) m.client.say(`${name} ${k}`);
    for (const [name, m] of Object.entries(members)) {
      for (const other of Object.keys(members).filter((o) => o !== name)) {
        await within(m.events.next((e) => e.kind === 'public' && e.from === other && e.text === `${other} 99`), 60_000, `${name} gets ${other} 99`);
      }
    }
    await new Promise((r) => setTimeout(r, 1000)); // anything doubled would arrive meanwhile
    for (const [name, m] of Object.entries(members)) {
      for (const other of Object.keys(members)) {
        const expected = other === name ? [] : Array.from({ length: 100 }, (_, k) => `${other} ${k}`);
        expect(m.events.publicTexts(other)).toEqual(expected);
      }
    }
    const dropped = servers.reduce((n, s) => n + s.relay.stats.dropped, 0);
    expect(dropped).toBeGreaterThan(50);
  }, 120_000);

  it('/me and private messages cross servers, exactly once', async () => {
    alice.client.me('waves');
    alice.client.msg('carol', 'psst carol');
    bob.client.msg('ALICE', 'hi alice');
    await within(carol.events.next((e) => e.kind === 'private' && e.text === 'psst carol'), 15_000, 'carol private');
    await within(alice.events.next((e) => e.kind === 'private' && e.from === 'bob'), 15_000, 'alice private');
    await within(bob.events.next((e) => e.kind === 'emote' && e.from === 'alice' && e.text === 'waves'), 15_000, 'bob emote');
    await new Promise((r) => setTimeout(r, 800));
    expect(carol.events.all.filter((e) => e.kind === 'private')).toEqual([{ kind: 'private', from: 'alice', text: 'psst carol' }]);
    expect(bob.events.all.filter((e) => e.kind === 'private')).toEqual([]);
    expect(carol.events.all.filter((e) => e.kind === 'emote')).toEqual([{ kind: 'emote', from: 'alice', text: 'waves' }]);
  }, 30_000);

  it('history and offline messages stored through one server are served by another', async () => {
    const dave = await join(0, 'dave', true);
    await dave.client.quit();
    await within(alice.events.next((e) => e.kind === 'left' && e.user === 'dave'), 15_000, 'dave left');
    alice.client.msg('dave', 'while you were away'); // stored by server A
    await within(alice.events.notice(/dave is offline/), 15_000, 'offline notice');
    const back = await join(2, 'dave', false); // served by server C
    await within(back.events.next((e) => e.kind === 'private' && e.text === 'while you were away'), 15_000, 'offline delivered');
    const history = back.events.all.filter((e) => e.kind === 'history');
    expect(history.length).toBeGreaterThan(0);
    expect(history.at(-1)).toMatchObject({ kind: 'history', action: 'me', from: 'alice', text: 'waves' });
    back.client.who();
    await within(back.events.next((e) => e.kind === 'online'), 10_000, '/who');
    await back.client.quit();
  }, 60_000);

  it('signing in on another server closes the session on the first', async () => {
    const bob2 = await join(2, 'bob', false);
    await within(bob.events.notice(/bob signed in from another session; this one is closed/), 15_000, "bob's first session closed");
    bob2.client.say('bob moved');
    await within(alice.events.next((e) => e.kind === 'public' && e.text === 'bob moved'), 15_000, 'bob moved');
    expect(alice.events.all.filter((e) => e.kind === 'left' && e.user === 'bob')).toEqual([]);
    bob = bob2;
  }, 30_000);

  it('PostgreSQL restarted mid-run: what the servers accepted meanwhile arrives once, in order', async () => {
    const presenceBefore = carol.events.all.filter((e) => e.kind === 'left' || e.kind === 'joined').length;
    await db.pause();
    for (let k = 0; k < 20; k++) alice.client.say(`outage ${k}`);
    for (let k = 0; k < 20; k++) bob.client.say(`outage ${k}`);
    await new Promise((r) => setTimeout(r, 1500));
    await db.start();
    for (const from of ['alice', 'bob']) {
      await within(carol.events.next((e) => e.kind === 'public' && e.from === from && e.text === 'outage 19'), 30_000, `carol gets ${from}'s outage 19`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const outage = Array.from({ length: 20 }, (_, k) => `outage ${k}`);
    for (const from of ['alice', 'bob']) expect(carol.events.publicTexts(from).filter((t) => t.startsWith('outage'))).toEqual(outage);
    expect(alice.events.publicTexts('bob').filter((t) => t.startsWith('outage'))).toEqual(outage);
    expect(logs.some((l) => /database unreachable/.test(l))).toBe(true);
    expect(logs.some((l) => /database reachable again/.test(l))).toBe(true);
    // Nobody left: the servers stayed up, and none declared another dead for the outage.
    await new Promise((r) => setTimeout(r, DEAD_AFTER_MS + 1000));
    expect(carol.events.all.filter((e) => e.kind === 'left' || e.kind === 'joined').length).toBe(presenceBefore);
  }, 60_000);

  it('a server that dies is noticed: its members are shown as left within the bound', async () => {
    const t0 = Date.now();
    servers[0]!.cluster.dieForTestingOnly(); // server A stops heartbeating, as if SIGKILLed
    await within(bob.events.next((e) => e.kind === 'left' && e.user === 'alice'), 30_000, 'alice left');
    expect(Date.now() - t0).toBeLessThan(DEAD_AFTER_MS + HEARTBEAT_MS + 3000);
    bob.client.who();
    const who = await within(bob.events.next((e) => e.kind === 'online' && !e.users.includes('alice')), 10_000, '/who without alice');
    expect(who.kind === 'online' && [...who.users].sort()).toEqual(['bob', 'carol']);
    for (const l of logs) expect(l).not.toContain(db.password);
  }, 40_000);
});
