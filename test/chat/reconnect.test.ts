/**
 * The reconnecting chat client against a real chat server on loopback TCP that is closed and
 * started again on the same port: it redials with backoff, says `reconnected`, sends what was typed
 * meanwhile, shows only history newer than the loss, gives up after a bounded number of tries with
 * one error, and does not redial when the user signed in elsewhere.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/index.js';
import { listenChat, connectChat, type ChatListener } from '../../src/chat/net.js';
import { memoryAccountStore, type AccountStore } from '../../src/chat/store.js';
import { memoryMessageStore, type MessageStore } from '../../src/chat/history.js';
import { ReconnectingChat } from '../../src/chat/reconnect.js';
import type { ChatEvent } from '../../src/chat/client.js';
import { CHEAP_PASSWORD_COST_FOR_TESTING_ONLY as cost, Events } from './helpers.js';

const key = generateKeyPair('x25519');
const PW = 'correct horse battery';

describe('ReconnectingChat', () => {
  const store: AccountStore = memoryAccountStore();
  const messages: MessageStore = memoryMessageStore();
  let listener: ChatListener | undefined;
  const listen = async (port = 0): Promise<ChatListener> =>
    (listener = await listenChat({ server: { key, anyClient: true }, transport: 'tcp', port, store, messages, passwordCost: cost }));
  const dial = (port: number, user: string, signup = false) => () => connectChat({ port, serverKey: key.publicKey, transport: 'tcp' }, { user, password: PW, signup });
  afterEach(async () => {
    await listener?.close();
    listener = undefined;
  });

  const collect = (chat: ReconnectingChat): ChatEvent[] => {
    const events: ChatEvent[] = [];
    chat.onEvent((e) => events.push(e));
    return events;
  };
  const until = async (check: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 3000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  };

  it('redials after a server restart, sends what was typed meanwhile, and repeats no history', async () => {
    const first = await listen();
    const port = first.port;
    const alice = new ReconnectingChat(await dial(port, 'alice', true)(), { dial: dial(port, 'alice'), baseDelayMs: 50 });
    const bob = new ReconnectingChat(await dial(port, 'bob', true)(), { dial: dial(port, 'bob'), baseDelayMs: 50 });
    const aliceEvents = collect(alice);
    const bobEvents = collect(bob);
    alice.say('before the restart');
    await until(() => bobEvents.some((e) => e.kind === 'public' && e.text === 'before the restart'), 'the first message');

    await first.close();
    listener = undefined;
    await until(() => alice.disconnected && bob.disconnected, 'both to notice');
    alice.say('typed while down');
    alice.me('waits');
    await listen(port);
    // Live if bob is back first, else from the history his redial brings (newer than the loss).
    const saw = (kind: 'say' | 'me', text: string) => (e: ChatEvent) =>
      (e.kind === (kind === 'say' ? 'public' : 'emote') && e.text === text) || (e.kind === 'history' && e.action === kind && e.text === text);
    await until(() => bobEvents.some(saw('say', 'typed while down')), 'the queued message');
    await until(() => bobEvents.some(saw('me', 'waits')), 'the queued action');
    expect(bobEvents.filter(saw('say', 'typed while down'))).toHaveLength(1);
    for (const events of [aliceEvents, bobEvents]) {
      expect(events.filter((e) => e.kind === 'notice' && e.text === 'reconnected')).toHaveLength(1);
      expect(events.some((e) => e.kind === 'notice' && /^connection lost .*; reconnecting$/.test(e.text))).toBe(true);
    }
    // What bob saw live before the loss is not repeated by the history his redial brought.
    expect(bobEvents.filter((e) => e.kind === 'history' && e.text === 'before the restart')).toEqual([]);
    await Promise.all([alice.quit(), bob.quit()]);
  });

  it('gives up after the bounded number of tries with one error', async () => {
    const first = await listen();
    const port = first.port;
    const alice = new ReconnectingChat(await dial(port, 'alice')(), { dial: dial(port, 'alice'), baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 });
    collect(alice);
    const closed = new Promise<Error | null>((resolve) => alice.once('close', resolve));
    await first.close();
    listener = undefined;
    const error = await closed;
    expect(error?.message).toMatch(/^connection lost and 3 attempts to reconnect failed: /);
  });

  it('does not redial a session replaced by a newer sign-in', async () => {
    const l = await listen();
    const older = new ReconnectingChat(await dial(l.port, 'alice')(), { dial: dial(l.port, 'alice'), baseDelayMs: 5 });
    const events = collect(older);
    const closed = new Promise<Error | null>((resolve) => older.once('close', resolve));
    const newer = await dial(l.port, 'alice')();
    new Events(newer);
    expect(await closed).toBeNull();
    expect(events.some((e) => e.kind === 'notice' && /signed in from another session/.test(e.text))).toBe(true);
    expect(events.some((e) => e.kind === 'notice' && e.text === 'reconnected')).toBe(false);
    await newer.quit();
  });
});
