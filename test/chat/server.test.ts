/**
 * The chat server through the library (listenChat / connectChat over loopback TCP, and over a
 * lossy in-memory datagram pair): accounts, presence, private messages, sign-in twice, and every
 * limit answering with a clear notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/index.js';
import { listenChat, connectChat, type ChatListener } from '../../src/chat/net.js';
import { ChatClient, ChatRefusedError } from '../../src/chat/client.js';
import { ChatServer } from '../../src/chat/server.js';
import { memoryAccountStore } from '../../src/chat/store.js';
import { reliableChannel } from '../../src/chat/channel.js';
import { encodeFrame } from '../../src/record/frame.js';
import { connect } from '../../src/index.js';
import { CHEAP_PASSWORD_COST_FOR_TESTING_ONLY as cost, Events, lossyDatagramPair } from './helpers.js';

const serverKey = generateKeyPair('x25519');
const PW = 'correct horse battery';

describe('chat server over TCP', () => {
  let listener: ChatListener;
  let now = 0; // the rate limiter's clock, moved by the tests
  const open: ChatClient[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    listener = await listenChat({
      server: { key: serverKey },
      transport: 'tcp',
      store: memoryAccountStore(),
      passwordCost: cost,
      clock: () => now,
      limits: { maxMembers: 4, burst: 500, ratePerSecond: 20, maxMessageBytes: 2000 },
      log: (l) => logs.push(l),
    });
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.quit()));
    await listener.close();
  });

  const join = async (user: string, signup = false, password = PW): Promise<{ client: ChatClient; events: Events }> => {
    const client = await connectChat({ port: listener.port, serverKey: serverKey.publicKey, transport: 'tcp' }, { user, password, signup });
    open.push(client);
    return { client, events: new Events(client) };
  };

  it('signs up, announces joins, relays public and private messages, answers /who, announces leaving', async () => {
    const alice = await join('alice', true);
    expect(alice.client.user).toBe('alice');
    const bob = await join('bob', true);
    expect(bob.client.onlineAtSignIn).toEqual(['alice', 'bob']);
    await alice.events.next((e) => e.kind === 'joined' && e.user === 'bob');
    for (let i = 0; i < 100; i++) alice.client.say(`message ${i} for @bob`);
    alice.client.msg('bob', 'just for you');
    alice.client.who();
    await alice.events.next((e) => e.kind === 'online');
    await bob.events.next((e) => e.kind === 'private');
    expect(bob.events.publicTexts('alice')).toEqual(Array.from({ length: 100 }, (_, i) => `message ${i} for @bob`));
    expect(bob.events.all.filter((e) => e.kind === 'private')).toEqual([{ kind: 'private', from: 'alice', text: 'just for you' }]);
    expect(alice.events.all).toContainEqual({ kind: 'online', users: ['alice', 'bob'] });
    expect(alice.events.publicTexts()).toEqual([]); // no echo of one's own messages
    const carol = await join('carol', true);
    await bob.client.quit();
    await alice.events.next((e) => e.kind === 'left' && e.user === 'bob');
    await carol.events.next((e) => e.kind === 'left' && e.user === 'bob');
    expect(carol.events.all.some((e) => e.kind === 'private')).toBe(false);
    await carol.client.quit();
    expect(logs.join('\n')).not.toContain(PW);
    expect(logs.join('\n')).not.toContain('message 0');
  });

  it('refuses a wrong password and an unknown user with the same answer, and a taken name', async () => {
    const wrong = join('alice', false, 'not the password');
    await expect(wrong).rejects.toBeInstanceOf(ChatRefusedError);
    await expect(wrong).rejects.toThrow('sign-in refused: wrong user name or password');
    await expect(join('nobody-here')).rejects.toThrow('sign-in refused: wrong user name or password');
    await expect(join('ALICE', true)).rejects.toThrow(/sign-up refused: the name ALICE is taken/);
    await expect(join('dave', true, 'short')).rejects.toThrow(/at least 8 characters/);
    await expect(join('bad name!', true)).rejects.toThrow(/user names are/);
  });

  it('keeps a message to an offline account for its next sign-in, and refuses one to an unknown user', async () => {
    const bob = await join('bob');
    const sent: string[] = [];
    const unsent: string[] = [];
    bob.client.on('sent', (m: { text: string }) => sent.push(m.text));
    bob.client.on('unsent', (m: { text: string }) => unsent.push(m.text));
    bob.client.msg('CAROL', 'are you there?');
    expect(await bob.events.notice(/carol/i)).toEqual({ kind: 'notice', text: 'carol is offline; delivered when carol signs in' });
    bob.client.msg('zed', 'hello?');
    expect(await bob.events.notice(/zed/)).toEqual({ kind: 'notice', text: 'no user zed; message not delivered' });
    expect(sent).toEqual(['are you there?']);
    expect(unsent).toEqual(['hello?']);
    expect(bob.client.pending).toEqual([]);
    const carol = await join('carol');
    await carol.events.next((e) => e.kind === 'private');
    expect(carol.events.all.filter((e) => e.kind === 'private')).toEqual([{ kind: 'private', from: 'bob', text: 'are you there?' }]);
    await carol.client.quit();
    // Delivered once: the next sign-in finds nothing waiting.
    const again = await join('carol');
    again.client.who();
    await again.events.next((e) => e.kind === 'online');
    expect(again.events.all.some((e) => e.kind === 'private')).toBe(false);
    await Promise.all([again.client.quit(), bob.client.quit()]);
  });

  it('answers an oversized or unprintable message with a notice and delivers nothing', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    alice.client.say('x'.repeat(2001));
    expect((await alice.events.notice(/too long/)).kind).toBe('notice');
    alice.client.say('clear\x1b[2J');
    await alice.events.notice(/control characters/);
    alice.client.say('x'.repeat(2000));
    alice.client.say('after');
    await bob.events.next((e) => e.kind === 'public' && e.text === 'after');
    expect(bob.events.publicTexts()).toEqual(['x'.repeat(2000), 'after']);
    await Promise.all([alice.client.quit(), bob.client.quit()]);
  });

  it('lets a burst of 300 through, stops a sustained flood with a notice, and refills with time', async () => {
    now = 1_000_000;
    const alice = await join('alice');
    const bob = await join('bob');
    for (let i = 0; i < 300; i++) alice.client.say(`burst ${i}`);
    alice.client.say('end of burst');
    await bob.events.next((e) => e.kind === 'public' && e.text === 'end of burst');
    expect(alice.events.all.filter((e) => e.kind === 'notice')).toEqual([]);
    for (let i = 0; i < 1000; i++) alice.client.say(`flood ${i}`);
    const notice = await alice.events.notice(/rate limit/);
    expect(notice).toEqual({ kind: 'notice', text: 'rate limit: more than 500 messages at once or 20 per second; message not delivered' });
    now += 1000; // one second later: 20 more tokens
    for (let i = 0; i < 21; i++) alice.client.say(`later ${i}`);
    alice.client.who(); // refused too: the 22nd message of this second
    // 801 refusals of the flood, then 2 more: every refused message got its own notice.
    await alice.events.next(() => alice.events.all.filter((x) => x.kind === 'notice').length === 803);
    expect(alice.events.all.some((e) => e.kind === 'online')).toBe(false);
    now += 1000;
    alice.client.msg('bob', 'marker');
    await bob.events.next((e) => e.kind === 'private');
    const texts = bob.events.publicTexts('alice');
    expect(texts.filter((t) => t.startsWith('burst'))).toHaveLength(300);
    expect(texts.filter((t) => t.startsWith('flood'))).toHaveLength(199); // 500 - 301
    expect(texts.filter((t) => t.startsWith('later'))).toHaveLength(20);
    await Promise.all([alice.client.quit(), bob.client.quit()]);
  });

  it('refuses a sign-in when the room is full', async () => {
    now += 100_000;
    const members = await Promise.all(['alice', 'bob', 'carol', 'erin'].map((u) => join(u, u === 'erin')));
    await expect(join('frank', true)).rejects.toThrow('sign-up refused: the room is full (at most 4 signed in)');
    // Signing in again as a member is a takeover, not a fifth member.
    const again = await join('erin');
    await members[3]!.events.notice(/another session/);
    await Promise.all([...members.slice(0, 3).map((m) => m.client.quit()), again.client.quit()]);
    // frank's refused sign-up created no account: the room has room again, and the name is free.
    const frank = await join('frank', true);
    await frank.client.quit();
  });

  it('lets a second sign-in take over the first session, without leave/join notices', async () => {
    const bob = await join('bob');
    const first = await join('alice');
    await bob.events.next((e) => e.kind === 'joined' && e.user === 'alice');
    const closed = new Promise((resolve) => first.client.once('close', resolve));
    const second = await join('alice');
    expect(await first.events.notice(/another session/)).toEqual({ kind: 'notice', text: 'alice signed in from another session; this one is closed' });
    await closed;
    bob.client.say('still here?');
    await second.events.next((e) => e.kind === 'public' && e.text === 'still here?');
    expect(first.events.publicTexts()).toEqual([]);
    expect(bob.events.all.filter((e) => (e.kind === 'joined' || e.kind === 'left') && e.user === 'alice')).toEqual([{ kind: 'joined', user: 'alice' }]);
    await Promise.all([bob.client.quit(), second.client.quit()]);
  });

  it('drops a session that sends garbage and keeps serving the others', async () => {
    const session = await connect({ port: listener.port, serverKey: serverKey.publicKey });
    const closed = new Promise((resolve) => session.once('close', resolve));
    session.on('error', () => {});
    session.resume();
    session.write(encodeFrame(0x01, Buffer.from('{"t":"launch"}')));
    await closed;
    expect(logs.some((l) => /unknown type/.test(l))).toBe(true);
    const alice = await join('alice');
    await alice.client.quit();
  });
});

describe('chat server sign-in deadline', () => {
  it('closes a session that does not sign in', async () => {
    const logs: string[] = [];
    const listener = await listenChat({ server: { key: serverKey }, transport: 'tcp', store: memoryAccountStore(), limits: { signInTimeoutMs: 100 }, log: (l) => logs.push(l) });
    try {
      const session = await connect({ port: listener.port, serverKey: serverKey.publicKey });
      session.on('error', () => {});
      session.resume();
      await new Promise((resolve) => session.once('close', resolve));
      expect(logs.join('\n')).toMatch(/no sign-in within 100 ms/);
    } finally {
      await listener.close();
    }
  });
});

describe('chat server shutdown', () => {
  it.each(['tcp', 'udp'] as const)('says goodbye to every client, which then closes (%s)', async (transport) => {
    const listener = await listenChat({ server: { key: serverKey }, transport, store: memoryAccountStore(), passwordCost: cost });
    const client = await connectChat({ port: listener.port, serverKey: serverKey.publicKey, transport }, { user: 'alice', password: PW, signup: true });
    const events = new Events(client);
    const closed = new Promise((resolve) => client.once('close', resolve));
    await listener.close();
    expect(await events.notice(/shutting down/)).toEqual({ kind: 'notice', text: 'the server is shutting down' });
    expect(await closed).toBeNull();
  });
});

describe('chat over a lossy datagram channel', () => {
  it("delivers alice's 100 messages to bob exactly once and in order through 10% loss and reordering", async () => {
    const chat = new ChatServer({ store: memoryAccountStore(), passwordCost: cost });
    const reliable = { initialRtoMs: 20, maxRtoMs: 200, maxAttempts: 30 };
    const dial = (seed: number): ReturnType<typeof reliableChannel> => {
      const [clientEnd, serverEnd] = lossyDatagramPair(0.1, seed);
      chat.attach(reliableChannel(serverEnd, reliable));
      return reliableChannel(clientEnd, reliable);
    };
    const aliceChannel = dial(7);
    const alice = await ChatClient.signIn(aliceChannel, { user: 'alice', password: PW, signup: true });
    const bobChannel = dial(8);
    const bob = await ChatClient.signIn(bobChannel, { user: 'bob', password: PW, signup: true });
    const a = new Events(alice);
    const b = new Events(bob);
    await a.next((e) => e.kind === 'joined');
    const sent = Array.from({ length: 100 }, (_, i) => `m${i}`);
    for (const t of sent) alice.say(t);
    alice.msg('bob', 'done');
    await b.next((e) => e.kind === 'private');
    expect(b.publicTexts()).toEqual(sent);
    await bob.quit();
    await a.next((e) => e.kind === 'left');
    await alice.quit();
    expect(aliceChannel.core.stats.retransmitted + bobChannel.core.stats.retransmitted).toBeGreaterThan(0);
    await chat.close();
  });
});
