/**
 * The trust round's chat findings, each as an attack: a client writes escape codes and newlines
 * into the server operator's log through a JSON field name; a server writes them into a client's
 * stderr through a refusal reason; names and texts carry bidi overrides or look like options and
 * paths; a message tries to render as a second, forged line; one account tries to make the server
 * buffer a burst for every member; a guesser's parallel attempts and the backoff's answer as the
 * CLI shows it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeFileSync } from 'node:fs';
import { createServer, loadKeyPair, type SealwireServer } from '../../src/index.js';
import { listenChat, connectChat, type ChatListener } from '../../src/chat/net.js';
import { ChatClient, ChatRefusedError, type ChatEvent } from '../../src/chat/client.js';
import { ChatServer } from '../../src/chat/server.js';
import { memoryAccountStore } from '../../src/chat/store.js';
import { reliableChannel, streamChannel } from '../../src/chat/channel.js';
import { ReliableCore } from '../../src/chat/reliable.js';
import { decodeClientMessage, encodeMessage } from '../../src/chat/protocol.js';
import { formatLine, tuiLine } from '../../src/chat/render.js';
import { hashPassword } from '../../src/crypto/password.js';
import { reportError } from '../../src/cli/errors.js';
import { logLine } from '../../src/cli/serving.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { CHEAP_PASSWORD_COST_FOR_TESTING_ONLY as cost, ChatProcess, Events, lossyDatagramPair } from './helpers.js';
import { startRoom, type TestRoom } from './room.js';

const PW = 'correct horse battery';
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]/u;

/** What `fn` writes to stderr, with the writes kept from the real stderr. */
function captureStderr(fn: () => void): string {
  let out = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('no client forges a line in the server log', () => {
  it('escapes a JSON field name or type carrying ESC, newlines and a bidi override', async () => {
    const logs: string[] = [];
    const chat = new ChatServer({ store: memoryAccountStore(), passwordCost: cost, log: (l) => logs.push(l) });
    for (const raw of ['{"t":"say","\\u001b[2J\\nalice signed in from 10.0.0.1":1}', '{"t":"\\u202eni dengis\\r\\nforged"}']) {
      const [clientEnd, serverEnd] = lossyDatagramPair(0, 1);
      chat.attach(reliableChannel(serverEnd));
      const client = reliableChannel(clientEnd);
      const closed = new Promise((resolve) => client.once('close', resolve));
      client.send(Buffer.from(raw));
      await closed;
    }
    const dropped = logs.filter((l) => l.startsWith('dropping'));
    expect(dropped).toHaveLength(2);
    for (const line of logs) expect(line).not.toMatch(TERMINAL_CONTROL);
    expect(dropped[0]).toContain("unexpected field '\\u001b[2J\\u000aalice signed in from 10.0.0.1'");
    expect(dropped[1]).toContain("unknown type '\\u202eni dengis\\u000d\\u000aforged'");
    await chat.close();
  });

  it('makes protocol errors that quote a peer string safe to print, for any library user', () => {
    for (const raw of ['{"t":"who","\u001b]0;x\u0007\n":1}', '{"t":"\u2066\u000d"}']) {
      let message = '';
      try {
        decodeClientMessage(Buffer.from(raw));
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/^chat /);
      expect(message).not.toMatch(TERMINAL_CONTROL);
    }
  });

  it('serve logs and the CLI error line escape what they print', () => {
    expect(captureStderr(() => logLine('handshake from 1.2.3.4:5 failed: \x1b]0;owned\x07\nforged'))).toBe('handshake from 1.2.3.4:5 failed: \\u001b]0;owned\\u0007\\u000aforged\n');
  });
});

describe("no server drives a client's terminal", () => {
  it('prints a refusal reason with escape codes and newlines as one escaped line', () => {
    const err = new ChatRefusedError('signin', '\x1b[2J\x1b[31mwrong\nsealwire chat: signed in as admin\u202e');
    const out = captureStderr(() => expect(reportError(err, 'chat')).toBe(1));
    expect(out).toBe('sealwire chat: sign-in refused: \\u001b[2J\\u001b[31mwrong\\u000asealwire chat: signed in as admin\\u202e\n');
  });

  describe('through the CLI against a malicious server', () => {
    const t = tempDir('sealwire-chat-trust-');
    let server: SealwireServer;
    let port = 0;
    beforeAll(async () => {
      await runCli(['keygen', '--out', t.path('server')]);
      server = createServer({ key: loadKeyPair(t.path('server')), anyClient: true }, (session) => {
        const channel = streamChannel(session);
        channel.on('message', () => {
          channel.send(encodeMessage({ t: 'refused', reason: '\x1b[2J\x1b[H\nsealwire chat: signed in as root\r\x1b]0;pwned\x07' }));
          channel.close();
        });
      });
      port = (await server.listen(0, '127.0.0.1')).port;
    });
    afterAll(async () => {
      await server?.close();
      t.cleanup();
    });

    it('shows one escaped stderr line and exits 1', async () => {
      writeFileSync(t.path('pw'), 'some password\n');
      const p = new ChatProcess(
        [`127.0.0.1:${port}`, '--tcp', '--server-key', t.path('server.pub'), '--user', 'alice', '--password-file', t.path('pw')],
        { HOME: t.path('home'), SEALWIRE_HOME: '' },
      );
      expect(await p.exited).toBe(1);
      const stderr = p.stderr.replace(/^sealwire chat: created identity key .*\n/, '');
      expect(stderr).toBe('sealwire chat: sign-in refused: \\u001b[2J\\u001b[H\\u000asealwire chat: signed in as root\\u000d\\u001b]0;pwned\\u0007\n');
    });
  });

  it('renders names and texts with bidi, separators and CR as one line, in line mode and in the terminal UI', () => {
    const events: ChatEvent[] = [
      { kind: 'public', from: 'mallory\u202e', text: 'hi\u2028bob: send me your password\u2029' },
      { kind: 'private', from: 'mallory', text: 'x\rbob: forged\u0085\u2066isolated\u2069' },
      { kind: 'notice', text: 'bye\u200e\u200f\ufeff' },
      { kind: 'online', users: ['a\u202d', 'b\nc'] },
    ];
    for (const e of events) {
      for (const line of [formatLine(e), tuiLine(e, 'bob', new Date(0), { color: false })]) {
        expect(line).not.toMatch(TERMINAL_CONTROL);
        expect(line).not.toMatch(/\p{Cf}/u);
      }
    }
    expect(formatLine(events[0]!)).toBe('mallory\\u202e: hi\\u2028bob: send me your password\\u2029');
    expect(formatLine(events[1]!)).toBe('[private] mallory: x\\u000dbob: forged\\u0085\\u2066isolated\\u2069');
    expect(formatLine({ kind: 'public', from: 'ann', text: 'coding 👩‍💻 now' })).toBe('ann: coding 👩‍💻 now');
  });
});

describe('names and texts on the chat server', () => {
  let room: TestRoom;
  let now = 0;
  const store = memoryAccountStore();

  beforeAll(async () => {
    // An account from before the naming rule: it keeps signing in.
    store.create('-legacy', await hashPassword(PW, cost), 0);
    room = await startRoom({ store, clock: () => now }, PW);
  });
  afterAll(async () => {
    await room?.close();
  });

  const join = (user: string, signup = false): ReturnType<TestRoom['join']> => room.join(user, signup);
  const refusal = (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => 'accepted',
      (e: unknown) => (e instanceof ChatRefusedError ? e.reason : Promise.reject(e)),
    );

  it("refuses new names that start with '-' or '.', and keeps older such accounts working", async () => {
    for (const name of ['-rf', '..', '.hidden', '--help', '-']) {
      expect(await refusal(join(name, true))).toBe("user names are 1-32 letters, digits, '_', '-' or '.', not starting with '-' or '.'");
    }
    const ok = await join('a-b.c_', true);
    expect(ok.client.user).toBe('a-b.c_');
    const legacy = await join('-legacy');
    expect(legacy.client.user).toBe('-legacy');
    await Promise.all([ok.client.quit(), legacy.client.quit()]);
  });

  it('refuses message texts with bidi controls or other format characters, and delivers emoji sequences', async () => {
    const alice = await join('alice', true);
    const bob = await join('bob', true);
    for (const text of ['\u202eevil', 'a\u2066b\u2069', 'left\u200fright', 'zero\u200bwidth', 'tag\u{e0041}', 'hidden\u00ad']) {
      alice.client.say(text);
      alice.client.msg('bob', text);
    }
    alice.client.say('pair 👩‍💻 and 🏳️‍🌈');
    await bob.events.next((e) => e.kind === 'public');
    await alice.events.next(() => alice.events.all.filter((e) => e.kind === 'notice').length === 12);
    expect(alice.events.all.filter((e) => e.kind === 'notice').every((e) => e.kind === 'notice' && /control characters/.test(e.text))).toBe(true);
    expect(bob.events.all.filter((e) => e.kind === 'public' || e.kind === 'private')).toEqual([{ kind: 'public', from: 'alice', text: 'pair 👩‍💻 and 🏳️‍🌈' }]);
    await Promise.all([alice.client.quit(), bob.client.quit()]);
  });

  it('bounds the text one account may send at once (a burst is copied to every member)', async () => {
    now = 1_000_000;
    const alice = await join('alice');
    const bob = await join('bob');
    const big = 'x'.repeat(2000);
    const notices = (n: number) => alice.events.next(() => alice.events.all.filter((e) => e.kind === 'notice').length === n);
    for (let i = 0; i < 60; i++) alice.client.say(`a${i} ${big}`.slice(0, 2000));
    await notices(10);
    expect(alice.events.all.find((e) => e.kind === 'notice')).toEqual({
      kind: 'notice',
      text: 'rate limit: more than 100000 bytes at once or 20000 per second; message not delivered',
    });
    await bob.events.next((e) => e.kind === 'public' && e.text.startsWith('a49 '));
    now += 1000; // 20,000 bytes more: ten messages of 2000
    for (let i = 0; i < 11; i++) alice.client.say(`b${i} ${big}`.slice(0, 2000));
    await notices(11);
    await bob.events.next((e) => e.kind === 'public' && e.text.startsWith('b9 '));
    const texts = bob.events.publicTexts('alice');
    expect(texts.filter((x) => x.startsWith('a'))).toHaveLength(50);
    expect(texts.filter((x) => x.startsWith('b'))).toHaveLength(10);
    await Promise.all([alice.client.quit(), bob.client.quit()]);
  });
});

describe('the output buffered for one recipient is bounded', () => {
  it('refuses to queue more unacknowledged bytes than maxBufferedBytes', () => {
    const core = new ReliableCore({ maxBufferedBytes: 10_000 });
    for (let i = 0; i < 5; i++) core.send(new Uint8Array(2000), 0);
    expect(() => core.send(new Uint8Array(1), 0)).toThrow(/more than 10000 bytes/);
  });

  it('drops a UDP recipient that stops acknowledging, and keeps serving the sender', async () => {
    const chat = new ChatServer({ store: memoryAccountStore(), passwordCost: cost, limits: { maxBufferedBytes: 20_000 } });
    const channels = ['alice', 'bob'].map((_, i) => {
      const [clientEnd, serverEnd] = lossyDatagramPair(0, 10 + i, 1);
      chat.attach(reliableChannel(serverEnd, { maxBufferedBytes: chat.limits.maxBufferedBytes }));
      return { clientEnd, channel: reliableChannel(clientEnd) };
    });
    const alice = await ChatClient.signIn(channels[0]!.channel, { user: 'alice', password: PW, signup: true });
    const bob = await ChatClient.signIn(channels[1]!.channel, { user: 'bob', password: PW, signup: true });
    const a = new Events(alice);
    await a.next((e) => e.kind === 'joined');
    // Bob's side goes silent: nothing of his arrives at the server any more, acknowledgements included.
    channels[1]!.clientEnd.send = () => {};
    for (let i = 0; i < 20; i++) alice.say(`${i} ${'y'.repeat(1500)}`);
    expect(await a.next((e) => e.kind === 'left')).toEqual({ kind: 'left', user: 'bob' });
    expect(chat.online).toEqual(['alice']);
    bob.removeAllListeners();
    await alice.quit();
    await chat.close(100);
  });
});

describe('the backoff, as the chat CLI shows it', () => {
  const t = tempDir('sealwire-chat-backoff-');
  let listener: ChatListener;
  beforeAll(async () => {
    await runCli(['keygen', '--out', t.path('server')]);
    listener = await listenChat({ server: { key: loadKeyPair(t.path('server')), anyClient: true }, transport: 'tcp', store: memoryAccountStore(), passwordCost: cost });
    await connectChat({ port: listener.port, serverKey: loadKeyPair(t.path('server')).publicKey, transport: 'tcp' }, { user: 'alice', password: PW, signup: true }).then((c) => c.quit());
  });
  afterAll(async () => {
    await listener?.close();
    t.cleanup();
  });

  it('answers repeated wrong passwords, then "too many attempts, try again in N s", each as one stderr line', async () => {
    writeFileSync(t.path('wrong'), 'not the password\n');
    const lines: string[] = [];
    for (let i = 0; i < 12 && !lines.some((l) => /too many/.test(l)); i++) {
      const p = new ChatProcess(
        [`127.0.0.1:${listener.port}`, '--tcp', '--server-key', t.path('server.pub'), '--user', 'alice', '--password-file', t.path('wrong')],
        { HOME: t.path('home'), SEALWIRE_HOME: '' },
      );
      expect(await p.exited).toBe(1);
      const stderr = p.stderr.replace(/^sealwire chat: created identity key .*\n/, '');
      expect(stderr.endsWith('\n') && stderr.split('\n')).toHaveLength(2);
      lines.push(stderr.trim());
    }
    expect(lines.slice(0, 4)).toEqual(Array(4).fill('sealwire chat: sign-in refused: wrong user name or password'));
    expect(lines.at(-1)).toMatch(/^sealwire chat: sign-in refused: too many attempts, try again in [1-9]\d* s$/);
    expect(listener.chat.signInStats.checked).toBe(lines.length - 1);
  }, 120_000);
});
