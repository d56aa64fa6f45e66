/**
 * Message rate limits held across chat servers on one real PostgreSQL (test/helpers/postgres.ts):
 * a member who spends their burst on server A and signs in on server B is still limited there,
 * with the same answer, and refills at the configured rate; the same for the bytes of text, for a
 * session lost without a goodbye, and for a sign-in on B that takes over a live session on A.
 * The servers share a fake clock for their limiters; the time between leaving A and signing in
 * on B comes from the database's clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/index.js';
import { listenChat, connectChat, type ChatListener } from '../../src/chat/net.js';
import type { ChatClient } from '../../src/chat/client.js';
import type { MessageChannel } from '../../src/chat/channel.js';
import { openPgChatDatabase } from '../../src/chat/pg/database.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { CHEAP_PASSWORD_COST_FOR_TESTING_ONLY as cost, Events } from './helpers.js';

const key = generateKeyPair('x25519');
const PW = 'correct horse battery';
// Slow refills, so the real seconds a sign-in takes under load add less than one message (5 s)
// or a few bytes.
const LIMITS = { burst: 5, ratePerSecond: 0.2, burstBytes: 300, bytesPerSecond: 1 };
const MESSAGES_REFUSED = 'rate limit: more than 5 messages at once or 0.2 per second; message not delivered';
const BYTES_REFUSED = 'rate limit: more than 300 bytes at once or 1 per second; message not delivered';

let db: TestPostgres;
let now = 1_000_000; // the limiters' clock on both servers, moved by the test
const servers: ChatListener[] = [];
const clients: ChatClient[] = [];

beforeAll(async () => {
  db = await startPostgres();
  for (let i = 0; i < 2; i++) {
    servers.push(
      await listenChat({
        server: { key, anyClient: true },
        transport: 'tcp',
        passwordCost: cost,
        clock: () => now,
        limits: LIMITS,
        openDatabase: () => openPgChatDatabase(db.url, { heartbeatMs: 250, deadAfterMs: 4000, pollMs: 200 }),
      }),
    );
  }
}, 90_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => {})));
  for (const s of servers) await s.close().catch(() => {});
  await db?.stop();
}, 60_000);

async function join(server: number, user: string, signup: boolean): Promise<{ client: ChatClient; events: Events }> {
  const client = await connectChat({ port: servers[server]!.port, serverKey: key.publicKey, transport: 'tcp' }, { user, password: PW, signup });
  clients.push(client);
  return { client, events: new Events(client) };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`timed out: ${what}`)), ms))]);
}

const notices = (e: Events, text: string): number => e.all.filter((x) => x.kind === 'notice' && x.text === text).length;

describe('rate limits across two chat servers on one PostgreSQL', () => {
  it('a burst spent on server A is still spent on server B, which refills it at the configured rate', async () => {
    const wendy = await join(0, 'wendy', true); // watches the room from server A
    const onA = await join(0, 'alice', true);
    for (let i = 0; i < 6; i++) onA.client.say(`a${i}`);
    await within(onA.events.next((e) => e.kind === 'notice' && e.text === MESSAGES_REFUSED), 15_000, 'refused on A');
    await within(wendy.events.next((e) => e.kind === 'public' && e.text === 'a4'), 15_000, "wendy sees alice's burst");
    await onA.client.quit();

    const onB = await join(1, 'alice', false);
    onB.client.say('b0');
    await within(onB.events.next((e) => e.kind === 'notice' && e.text === MESSAGES_REFUSED), 15_000, 'refused on B');

    now += 5000; // one message more at 0.2 per second
    onB.client.say('b1');
    onB.client.say('b2');
    await within(onB.events.next(() => notices(onB.events, MESSAGES_REFUSED) === 2), 15_000, 'b2 refused');
    now += 5000;
    onB.client.say('b3');
    await within(wendy.events.next((e) => e.kind === 'public' && e.text === 'b3'), 15_000, 'wendy sees b3');
    expect(wendy.events.publicTexts('alice')).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b1', 'b3']);
    expect(notices(onA.events, MESSAGES_REFUSED)).toBe(1);
    expect(notices(onB.events, MESSAGES_REFUSED)).toBe(2);
    await onB.client.quit();
  }, 60_000);

  it('so is the bytes bucket, and a session lost without a goodbye saves it too', async () => {
    const wendy = await join(1, 'walter', true); // watches from server B
    const onA = await join(0, 'bob', true);
    onA.client.say('x'.repeat(250));
    await within(wendy.events.next((e) => e.kind === 'public' && e.from === 'bob'), 15_000, "walter sees bob's long message");
    // No quit: the client's session is torn down as if its process died (the client has no API for that).
    (onA.client as unknown as { channel: MessageChannel }).channel.destroy();
    await within(
      (async () => {
        while (servers[0]!.chat.online.includes('bob')) await new Promise((r) => setTimeout(r, 20));
      })(),
      15_000,
      'server A notices bob is gone',
    );

    const onB = await join(1, 'bob', false);
    onB.client.say('y'.repeat(100)); // 50 bytes left (and a few for the real seconds passed)
    await within(onB.events.next((e) => e.kind === 'notice' && e.text === BYTES_REFUSED), 15_000, 'refused on B');
    onB.client.say('short');
    await within(wendy.events.next((e) => e.kind === 'public' && e.text === 'short'), 15_000, 'a short one passes');
    expect(wendy.events.publicTexts('bob')).toEqual(['x'.repeat(250), 'short']);
    await onB.client.quit();
  }, 60_000);

  it('signing in on B while still signed in on A: B waits for A to save the buckets', async () => {
    const watcher = await join(0, 'wanda', true);
    const onA = await join(0, 'carol', true);
    for (let i = 0; i < 6; i++) onA.client.say(`a${i}`);
    await within(onA.events.next((e) => e.kind === 'notice' && e.text === MESSAGES_REFUSED), 15_000, 'refused on A');
    await within(watcher.events.next((e) => e.kind === 'public' && e.text === 'a4'), 15_000, "wanda sees carol's burst");

    const onB = await join(1, 'carol', false); // no quit on A: B's sign-in closes that session
    onB.client.say('b0');
    await within(onB.events.next((e) => e.kind === 'notice' && e.text === MESSAGES_REFUSED), 15_000, 'refused on B');
    expect(onA.client.replaced).toBe(true);
    now += 5000;
    onB.client.say('b1');
    await within(watcher.events.next((e) => e.kind === 'public' && e.text === 'b1'), 15_000, 'wanda sees b1');
    expect(watcher.events.publicTexts('carol')).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b1']);
    await onB.client.quit();
  }, 60_000);
});
