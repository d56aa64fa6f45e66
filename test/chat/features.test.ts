/**
 * Issue 12's new parts as units: rendering (/me, [history], tabs, seconds, ISO stamps, over-long
 * lines refused before they leave), the SQLite message store (history bound, offline queue bound,
 * delivered once), and the server through a scripted channel (history before live traffic, an
 * oversize message answered without losing the session, sent/unsent in order, /passwd, confirmed
 * sign-out).
 */
import { EventEmitter } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { clock, formatLine, isoStamp, parseInput, showText, tuiLine, tuiOwnLine } from '../../src/chat/render.js';
import { openChatDatabase, memoryAccountStore } from '../../src/chat/store.js';
import { memoryMessageStore } from '../../src/chat/history.js';
import { ChatServer } from '../../src/chat/server.js';
import { decodeServerMessage, encodeMessage, MAX_TEXT_BYTES, type ClientMessage, type ServerMessage } from '../../src/chat/protocol.js';
import type { MessageChannel } from '../../src/chat/channel.js';
import { hashPassword, verifyPassword } from '../../src/crypto/password.js';
import { tempDir } from '../helpers/cli.js';
import { CHEAP_PASSWORD_COST_FOR_TESTING_ONLY as cost } from './helpers.js';

const plain = { color: false };

describe('chat rendering of the new parts', () => {
  it('formats /me, history, and tabs as spaces in line mode', () => {
    expect(formatLine({ kind: 'emote', from: 'alice', text: 'waves' })).toBe('* alice waves');
    expect(formatLine({ kind: 'history', action: 'say', from: 'alice', text: 'text', at: '2026-01-02T03:04:05.000Z' })).toBe('[history] alice: text');
    expect(formatLine({ kind: 'history', action: 'me', from: 'alice', text: 'waves', at: '2026-01-02T03:04:05.000Z' })).toBe('[history] * alice waves');
    expect(formatLine({ kind: 'public', from: 'bob', text: 'a\tb' })).toBe('bob: a       b');
    expect(showText('abcdefgh\tx')).toBe('abcdefgh        x');
    expect(showText('\t\x1b[2J')).toBe('        \\u001b[2J');
  });

  it('parses /me and /passwd, and refuses an over-long message before it leaves', () => {
    expect(parseInput('/me waves  hello')).toEqual({ kind: 'me', text: 'waves  hello' });
    expect(parseInput('/me')).toEqual({ kind: 'local', text: 'usage: /me ACTION' });
    expect(parseInput('/passwd')).toEqual({ kind: 'passwd' });
    expect(parseInput('/passwd old-one new-one')).toEqual({ kind: 'passwd', old: 'old-one', new: 'new-one' });
    expect(parseInput('/passwd one').kind).toBe('local');
    expect(parseInput('a\tb')).toEqual({ kind: 'say', text: 'a\tb' });
    expect(parseInput('x'.repeat(MAX_TEXT_BYTES))).toEqual({ kind: 'say', text: 'x'.repeat(MAX_TEXT_BYTES) });
    expect(parseInput('x'.repeat(20_000))).toEqual({ kind: 'local', text: `message too long (20000 bytes, limit ${MAX_TEXT_BYTES}); not sent` });
    expect(parseInput(`/msg bob ${'é'.repeat(4001)}`)).toEqual({ kind: 'local', text: `message too long (8002 bytes, limit ${MAX_TEXT_BYTES}); not sent` });
    expect(parseInput(`/me ${'x'.repeat(MAX_TEXT_BYTES + 1)}`).kind).toBe('local');
  });

  it('shows seconds in the terminal UI, the time a history line was said, and ISO stamps for line mode', () => {
    const at = new Date(2026, 0, 2, 9, 5, 7);
    expect(clock(at)).toBe('09:05:07');
    expect(tuiLine({ kind: 'emote', from: 'alice', text: 'waves' }, 'bob', at, plain)).toBe('09:05:07 * alice waves');
    const said = new Date(2026, 0, 1, 23, 59, 58);
    expect(tuiLine({ kind: 'history', action: 'say', from: 'alice', text: 'old', at: said.toISOString() }, 'bob', at, plain)).toBe('23:59:58 [history] alice: old');
    expect(tuiOwnLine({ kind: 'me', text: 'waves' }, 'bob', at, plain)).toBe('09:05:07 * bob waves');
    expect(isoStamp(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)))).toBe('2026-01-02T03:04:05Z');
  });
});

describe('SQLite message store', () => {
  const t = tempDir('sealwire-history-');
  afterAll(() => t.cleanup());

  it('keeps the newest N history entries, bounds and hands out offline messages once, and persists', async () => {
    const db = openChatDatabase(t.path('chat.db'));
    for (let i = 0; i < 5; i++) await db.messages.appendHistory({ kind: i === 4 ? 'me' : 'say', from: 'alice', text: `m${i}`, at: 1000 + i }, 3);
    expect((await db.messages.recentHistory(10)).map((h) => h.text)).toEqual(['m2', 'm3', 'm4']);
    expect(await db.messages.recentHistory(2)).toEqual([
      { kind: 'say', from: 'alice', text: 'm3', at: 1003 },
      { kind: 'me', from: 'alice', text: 'm4', at: 1004 },
    ]);
    await db.messages.appendHistory({ kind: 'say', from: 'alice', text: 'not kept', at: 2000 }, 0);
    expect((await db.messages.recentHistory(10)).map((h) => h.text)).toEqual(['m2', 'm3', 'm4']);

    expect(await db.messages.queueOffline('Bob', { from: 'alice', text: 'one', at: 1 }, 2)).toBe(true);
    expect(await db.messages.queueOffline('bob', { from: 'carol', text: 'two', at: 2 }, 2)).toBe(true);
    expect(await db.messages.queueOffline('BOB', { from: 'alice', text: 'three', at: 3 }, 2)).toBe(false);
    db.close();

    const again = openChatDatabase(t.path('chat.db'));
    expect((await again.messages.recentHistory(10)).map((h) => h.text)).toEqual(['m2', 'm3', 'm4']);
    expect(await again.messages.takeOffline('bob')).toEqual([
      { from: 'alice', text: 'one', at: 1 },
      { from: 'carol', text: 'two', at: 2 },
    ]);
    expect(await again.messages.takeOffline('bob')).toEqual([]);
    again.close();
  });
});

/** A chat channel driven by the test: `deliver` plays the client, `sent` holds what the server said. */
class ScriptedChannel extends EventEmitter implements MessageChannel {
  readonly sent: ServerMessage[] = [];
  closed = false;
  readonly peerPublicKey = null;
  readonly remote = 'test:0';
  send(message: Uint8Array): void {
    if (!this.closed) this.sent.push(decodeServerMessage(message));
  }
  close(): void {
    this.destroy();
  }
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', null);
  }
  deliver(msg: ClientMessage | Buffer): void {
    this.emit('message', Buffer.isBuffer(msg) ? msg : encodeMessage(msg));
  }
  async waitFor(match: (m: ServerMessage) => boolean): Promise<ServerMessage> {
    for (let i = 0; i < 500; i++) {
      const found = this.sent.find(match);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`not sent: ${JSON.stringify(this.sent).slice(0, 400)}`);
  }
}

describe('chat server: history, offline messages, answers, /passwd', () => {
  const PW = 'correct horse battery';
  const setup = async (history = { keep: 3, shown: 2 }): Promise<{ chat: ChatServer; join: (user: string) => Promise<ScriptedChannel> }> => {
    const store = memoryAccountStore();
    for (const u of ['alice', 'bob', 'carol']) store.create(u, await hashPassword(PW, cost), 0);
    const chat = new ChatServer({ store, messages: memoryMessageStore(), passwordCost: cost, history, maxOffline: 2, now: () => Date.UTC(2026, 0, 2) });
    const join = async (user: string): Promise<ScriptedChannel> => {
      const ch = new ScriptedChannel();
      chat.attach(ch);
      ch.deliver({ t: 'signin', user, password: PW });
      await ch.waitFor((m) => m.t === 'welcome');
      return ch;
    };
    return { chat, join };
  };

  it('shows the newest history after welcome and before live traffic; answers each message in order', async () => {
    const { chat, join } = await setup();
    const alice = await join('alice');
    for (const text of ['one', 'two', 'three']) alice.deliver({ t: 'say', text });
    alice.deliver({ t: 'me', text: 'waves' });
    alice.deliver({ t: 'say', text: 'bad\x07bell' });
    alice.deliver({ t: 'say', text: 'tab\tkept' });
    alice.deliver({ t: 'msg', to: 'nobody', text: 'hello?' });
    alice.deliver({ t: 'msg', to: 'bob', text: 'later, bob' });
    await alice.waitFor((m) => m.t === 'notice' && /bob is offline/.test(m.text));
    expect(alice.sent.filter((m) => m.t === 'sent' || m.t === 'unsent').map((m) => m.t)).toEqual(['sent', 'sent', 'sent', 'sent', 'unsent', 'sent', 'unsent', 'sent']);
    expect(alice.sent.at(-1)).toEqual({ t: 'notice', text: 'bob is offline; delivered when bob signs in' });

    const bob = await join('bob');
    alice.deliver({ t: 'say', text: 'live' });
    await bob.waitFor((m) => m.t === 'said' && m.text === 'live');
    const at = new Date(Date.UTC(2026, 0, 2)).toISOString();
    expect(bob.sent.map((m) => m.t)).toEqual(['welcome', 'history', 'history', 'private', 'said']);
    expect(bob.sent.slice(1, 4)).toEqual([
      { t: 'history', kind: 'me', from: 'alice', text: 'waves', at },
      { t: 'history', kind: 'say', from: 'alice', text: 'tab\tkept', at },
      { t: 'private', from: 'alice', text: 'later, bob' },
    ]);
    await chat.close(100);
  });

  it('answers an oversize message with unsent and keeps the session; confirms quit with bye', async () => {
    const { chat, join } = await setup();
    const alice = await join('alice');
    const bob = await join('bob');
    alice.deliver(Buffer.from(JSON.stringify({ t: 'say', text: 'x'.repeat(20_000) })));
    await alice.waitFor((m) => m.t === 'unsent');
    expect(alice.closed).toBe(false);
    alice.deliver({ t: 'say', text: 'still here' });
    await bob.waitFor((m) => m.t === 'said' && m.text === 'still here');
    expect(bob.sent.some((m) => m.t === 'said' && m.text.startsWith('xxx'))).toBe(false);
    alice.deliver({ t: 'quit' });
    await alice.waitFor((m) => m.t === 'bye');
    expect(alice.sent.at(-1)).toEqual({ t: 'bye', reason: 'signed out' });
    await bob.waitFor((m) => m.t === 'left');
    await chat.close(100);
  });

  it('bounds the messages waiting for one member, with a notice when full', async () => {
    const { chat, join } = await setup();
    const alice = await join('alice');
    for (const text of ['1', '2', '3']) alice.deliver({ t: 'msg', to: 'carol', text });
    await alice.waitFor((m) => m.t === 'unsent');
    expect(alice.sent.find((m) => m.t === 'unsent')).toEqual({ t: 'unsent', reason: 'carol has 2 messages waiting already; message not delivered' });
    await chat.close(100);
  });

  it('changes a password only with the current one; the log names the account a refused sign-in tried', async () => {
    const store = memoryAccountStore();
    store.create('alice', await hashPassword(PW, cost), 0);
    const logs: string[] = [];
    const chat = new ChatServer({ store, passwordCost: cost, log: (l) => logs.push(l) });
    const wrong = new ScriptedChannel();
    chat.attach(wrong);
    wrong.deliver({ t: 'signin', user: 'alice', password: 'not the password' });
    await wrong.waitFor((m) => m.t === 'refused');
    expect(logs.find((l) => l.startsWith('signin refused'))).toBe('signin refused for anonymous@test:0 (account "alice"): wrong user name or password');
    expect(logs.join('\n')).not.toContain('not the password');
    const ch = new ScriptedChannel();
    chat.attach(ch);
    ch.deliver({ t: 'signin', user: 'alice', password: PW });
    await ch.waitFor((m) => m.t === 'welcome');
    ch.deliver({ t: 'passwd', old: 'wrong password', new: 'a new password' });
    expect(await ch.waitFor((m) => m.t === 'notice')).toEqual({ t: 'notice', text: 'password not changed: the current password is wrong' });
    ch.deliver({ t: 'passwd', old: PW, new: 'short' });
    await ch.waitFor((m) => m.t === 'notice' && /at least 8/.test(m.text));
    ch.deliver({ t: 'passwd', old: PW, new: 'a new password' });
    await ch.waitFor((m) => m.t === 'notice' && m.text === 'password changed');
    expect(await verifyPassword(store.find('alice')!.passwordHash, 'a new password')).toBe(true);
    expect(await verifyPassword(store.find('alice')!.passwordHash, PW)).toBe(false);
    await chat.close(100);
  });
});
