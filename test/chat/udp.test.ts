/**
 * Chat over UDP, the default transport: the CLI in line mode through a relay that drops 10% of
 * the datagrams (handshakes included) and reorders some, both ways; and the library over plain
 * loopback UDP. Alice's messages must reach bob exactly once and in order all the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { generateKeyPair } from '../../src/index.js';
import { connectChat, listenChat } from '../../src/chat/net.js';
import { memoryAccountStore } from '../../src/chat/store.js';
import { portOf, runCli, startCli, tempDir, type Background } from '../helpers/cli.js';
import { CHEAP_PASSWORD_COST_FOR_TESTING_ONLY as cost, ChatProcess, Events } from './helpers.js';
import { startLossyRelay, type Relay } from './udp-relay.js';

describe('sealwire chat over UDP through a lossy, reordering relay (line mode)', () => {
  const t = tempDir('sealwire-chat-udp-');
  const env = { HOME: t.path('home'), SEALWIRE_HOME: '' };
  let server: Background;
  let relay: Relay;
  const clients: ChatProcess[] = [];

  beforeAll(async () => {
    await runCli(['keygen', '--out', t.path('server')]);
    server = await startCli(['chat-server', '--key', t.path('server'), '--db', t.path('chat.db'), '--port', '0'], { env });
    // CHAT_RELAY_SEED replays another pattern of losses.
    relay = await startLossyRelay({ serverPort: portOf(server.firstLine), loss: 0.1, reorder: 0.1, seed: Number(process.env["CHAT_RELAY_SEED"] ?? 42) });
  });
  afterAll(async () => {
    for (const c of clients) c.kill();
    await relay?.close();
    await server?.stop();
    t.cleanup();
  });

  const chat = (user: string): ChatProcess => {
    writeFileSync(t.path(`${user}.pw`), `${user}-password-123\n`);
    const p = new ChatProcess([`127.0.0.1:${relay.port}`, '--server-key', t.path('server.pub'), '--user', user, '--signup', '--password-file', t.path(`${user}.pw`)], env);
    clients.push(p);
    return p;
  };

  it("delivers alice's 100 messages to bob exactly once, in order; /msg, /who and leaving work too", async () => {
    const alice = chat('alice');
    await alice.waitFor(/^! signed up/);
    const bob = chat('bob');
    await bob.waitFor(/^! signed up/);
    await alice.waitFor(/^\* bob joined$/);
    const sent = Array.from({ length: 100 }, (_, i) => `udp message ${i}`);
    alice.write(...sent, '/msg bob private over udp', '/who');
    expect(await bob.waitFor(/^\[private\]/)).toBe('[private] alice: private over udp');
    expect(await alice.waitFor(/^\* online:/)).toBe('* online: alice, bob');
    expect(bob.lines.filter((l) => l.startsWith('alice: '))).toEqual(sent.map((s) => `alice: ${s}`));
    bob.write('/quit');
    expect(await bob.exited).toBe(0);
    expect(await alice.waitFor(/^\* bob left$/)).toBe('* bob left');
    expect(await alice.end()).toBe(0);
    expect(relay.stats.dropped).toBeGreaterThan(0);
    expect(relay.stats.reordered).toBeGreaterThan(0);
  });

  it('refuses a wrong password over UDP with one line on stderr and exit 1', async () => {
    writeFileSync(t.path('wrong.pw'), 'not-alices-password\n');
    const wrong = new ChatProcess([`127.0.0.1:${relay.port}`, '--server-key', t.path('server.pub'), '--user', 'alice', '--password-file', t.path('wrong.pw')], env);
    clients.push(wrong);
    expect(await wrong.exited).toBe(1);
    expect(wrong.lines).toEqual([]);
    expect(wrong.stderr.trim().split('\n')).toEqual(['sealwire chat: sign-in refused: wrong user name or password']);
  });
});

describe('chat library over loopback UDP', () => {
  it('signs up, relays messages, and signs out', async () => {
    const key = generateKeyPair('x25519');
    const listener = await listenChat({ server: { key }, transport: 'udp', store: memoryAccountStore(), passwordCost: cost });
    try {
      const options = { port: listener.port, serverKey: key.publicKey, transport: 'udp' as const };
      const alice = await connectChat(options, { user: 'alice', password: 'alice-password', signup: true });
      const bob = await connectChat(options, { user: 'bob', password: 'bob-password', signup: true });
      const a = new Events(alice);
      const b = new Events(bob);
      await a.next((e) => e.kind === 'joined');
      for (let i = 0; i < 50; i++) alice.say(`m${i}`);
      bob.msg('alice', 'hi alice');
      await a.next((e) => e.kind === 'private');
      await b.next((e) => e.kind === 'public' && e.text === 'm49');
      expect(b.publicTexts()).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
      await bob.quit();
      await a.next((e) => e.kind === 'left');
      await alice.quit();
    } finally {
      await listener.close();
    }
  });
});
