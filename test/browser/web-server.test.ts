/**
 * The web chat's server glue without a browser: WebSocket members (Node's `connectWebSocket`,
 * the same transport the page uses) join the same room as TCP members; the page is served with
 * the server's key in it; `chat-server --web` refuses what it cannot serve, as usage errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/key.js';
import { listenChat, type ChatListener } from '../../src/chat/net.js';
import { memoryAccountStore } from '../../src/chat/store.js';
import { streamChannel } from '../../src/chat/channel.js';
import { ChatClient } from '../../src/chat/client.js';
import { connectChat } from '../../src/chat/net.js';
import { listenWebChat, type WebChatListener } from '../../src/chat/web/server.js';
import { connectWebSocket } from '../../src/transport/websocket.js';
import { CHEAP_PASSWORD_COST_FOR_TESTING_ONLY, Events } from '../chat/helpers.js';
import { runCli, tempDir } from '../helpers/cli.js';

const key = generateKeyPair('x25519');
let chat: ChatListener | undefined;
let web: WebChatListener | undefined;

afterEach(async () => {
  await chat?.close();
  await web?.close();
  chat = web = undefined;
});

describe('web chat server', () => {
  it('puts WebSocket and TCP members in one room', async () => {
    chat = await listenChat({ server: { key, anyClient: true }, transport: 'tcp', store: memoryAccountStore(), passwordCost: CHEAP_PASSWORD_COST_FOR_TESTING_ONLY });
    web = await listenWebChat({ chat: chat.chat, key });
    const session = await connectWebSocket(`ws://127.0.0.1:${web.port}/ws`, { serverKey: key.publicKey });
    expect(session.fingerprint).toBe(key.publicKey.fingerprint);
    const wendy = await ChatClient.signIn(streamChannel(session), { user: 'wendy', password: 'wendy-pw-123', signup: true });
    const bob = await connectChat({ port: chat.port, serverKey: key.publicKey, transport: 'tcp' }, { user: 'bob', password: 'bob-pw-1234', signup: true });
    const wendyEvents = new Events(wendy);
    const bobEvents = new Events(bob);
    await wendyEvents.next((e) => e.kind === 'joined' && e.user === 'bob');
    wendy.say('from the websocket');
    bob.say('from tcp');
    await bobEvents.next((e) => e.kind === 'public' && e.text === 'from the websocket');
    await wendyEvents.next((e) => e.kind === 'public' && e.text === 'from tcp');
    expect(web.connections).toBe(1);
    await wendy.quit();
    await bob.quit();
  });

  it('serves the page with this server key, the script and the style, and nothing else', async () => {
    chat = await listenChat({ server: { key, anyClient: true }, transport: 'tcp', store: memoryAccountStore() });
    web = await listenWebChat({ chat: chat.chat, key });
    const base = `http://127.0.0.1:${web.port}`;
    const page = await (await fetch(`${base}/`)).text();
    expect(page).toContain(`content="${key.publicKey.toString()}"`);
    expect(page).toContain(key.publicKey.fingerprint);
    expect(page).not.toContain('{{');
    expect((await fetch(`${base}/chat.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${base}/style.css`)).status).toBe(200);
    expect((await fetch(`${base}/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
    await expect(connectWebSocket(`ws://127.0.0.1:${web.port}/elsewhere`, { serverKey: key.publicKey })).rejects.toMatchObject({ code: 'IO' });
  });

  it('refuses an RSA key and a missing build', async () => {
    chat = await listenChat({ server: { key, anyClient: true }, transport: 'tcp', store: memoryAccountStore() });
    await expect(listenWebChat({ chat: chat.chat, key: generateKeyPair('rsa', { bits: 2048 }) })).rejects.toMatchObject({ code: 'BAD_KEY' });
    await expect(listenWebChat({ chat: chat.chat, key, assetsDir: '/nonexistent' })).rejects.toThrow(/not built/);
  });
});

describe('sealwire chat-server --web: usage errors', () => {
  it('exits 2 with one line for a bad port or an RSA key', async () => {
    const t = tempDir('sealwire-web-cli-');
    try {
      await runCli(['keygen', '--type', 'rsa', '--bits', '2048', '--out', t.path('rsa')]);
      await runCli(['keygen', '--out', t.path('x')]);
      for (const args of [['--key', t.path('rsa'), '--suite', 'sid', '--web', '0'], ['--key', t.path('x'), '--web', 'abc']]) {
        const r = await runCli(['chat-server', '--tcp', '--db', t.path('c.db'), ...args]);
        expect(r.code).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(/--web/);
      }
    } finally {
      t.cleanup();
    }
  });
});
