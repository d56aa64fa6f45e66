/** Chat message codec, the line-mode format, input parsing and the terminal UI's rendering. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_TEXT_BYTES, MAX_WIRE_MESSAGE, decodeClientMessage, decodeServerMessage, encodeMessage, isPrintable, sanitize, type ClientMessage, type ServerMessage } from '../../src/chat/protocol.js';
import { formatLine, highlightMentions, mentions, parseInput, prompt, tuiLine, tuiOwnLine } from '../../src/chat/render.js';
import { SealwireError } from '../../src/errors.js';

describe('chat protocol', () => {
  it('round-trips every message type', () => {
    const client: ClientMessage[] = [
      { t: 'signup', user: 'alice', password: 'pw pw pw' },
      { t: 'signin', user: 'alice', password: 'pw pw pw' },
      { t: 'say', text: 'hello "world" ✓' },
      { t: 'msg', to: 'bob', text: 'hi' },
      { t: 'me', text: 'waves' },
      { t: 'passwd', old: 'old pw 1', new: 'new pw 2' },
      { t: 'who' },
      { t: 'quit' },
    ];
    for (const m of client) expect(decodeClientMessage(encodeMessage(m))).toEqual(m);
    const server: ServerMessage[] = [
      { t: 'welcome', user: 'alice', online: ['alice', 'bob'] },
      { t: 'refused', reason: 'no' },
      { t: 'said', from: 'a', text: 'x' },
      { t: 'private', from: 'a', text: 'x' },
      { t: 'joined', user: 'b' },
      { t: 'left', user: 'b' },
      { t: 'online', users: [] },
      { t: 'notice', text: 'n' },
      { t: 'bye', reason: 'r' },
      { t: 'emote', from: 'a', text: 'waves' },
      { t: 'history', kind: 'say', from: 'a', text: 'x', at: '2026-01-02T03:04:05.000Z' },
      { t: 'sent' },
      { t: 'unsent', reason: 'too long' },
    ];
    for (const m of server) expect(decodeServerMessage(encodeMessage(m))).toEqual(m);
  });

  it('fits the longest text the protocol allows, whatever JSON makes of it', () => {
    for (const ch of ['"', '\\', '\t', 'x', 'é']) {
      const text = ch.repeat(Math.floor(MAX_TEXT_BYTES / Buffer.byteLength(ch)));
      const bytes = encodeMessage({ t: 'msg', to: 'a'.repeat(32), text });
      expect(bytes.length).toBeLessThanOrEqual(MAX_WIRE_MESSAGE);
      expect(decodeClientMessage(bytes)).toEqual({ t: 'msg', to: 'a'.repeat(32), text });
    }
    expect(() => decodeClientMessage(Buffer.from(JSON.stringify({ t: 'passwd', old: 'a' })))).toThrow(SealwireError);
    expect(() => decodeServerMessage(Buffer.from(JSON.stringify({ t: 'sent', extra: 1 })))).toThrow(/unexpected field/);
  });

  it('refuses anything else with a SealwireError', () => {
    const bad = [
      '',
      'null',
      '[]',
      '"say"',
      '{}',
      '{"t":"nope"}',
      '{"t":"say"}',
      '{"t":"say","text":1}',
      '{"t":"say","text":"x","extra":1}',
      '{"t":"toString"}',
      '{"t":"__proto__"}',
      '{"t":"msg","to":["bob"],"text":"x"}',
    ];
    for (const s of bad) expect(() => decodeClientMessage(Buffer.from(s)), s).toThrow(SealwireError);
    expect(() => decodeClientMessage(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(SealwireError);
    expect(() => decodeServerMessage(Buffer.from('{"t":"online","users":["a",2]}'))).toThrow(SealwireError);
    expect(() => decodeClientMessage(Buffer.from(`{"t":"say","text":"${'x'.repeat(MAX_WIRE_MESSAGE)}"}`))).toThrow(/exceeds/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeClientMessage(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(SealwireError);
        }
      }),
    );
  });

  it('sanitizes control characters, so no peer can send escape sequences to a terminal', () => {
    expect(isPrintable('hello wörld ✓')).toBe(true);
    expect(isPrintable('evil\x1b[2J')).toBe(false);
    expect(isPrintable('a\nb')).toBe(false);
    expect(isPrintable('c1\u009b')).toBe(false);
    expect(sanitize('x\x1b[31my\n')).toBe('x\\u001b[31my\\u000a');
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(isPrintable(sanitize(s))).toBe(true);
      }),
    );
  });
});

describe('line mode format', () => {
  it('is exactly the documented one', () => {
    expect(formatLine({ kind: 'public', from: 'alice', text: 'hello' })).toBe('alice: hello');
    expect(formatLine({ kind: 'private', from: 'alice', text: 'hi' })).toBe('[private] alice: hi');
    expect(formatLine({ kind: 'joined', user: 'bob' })).toBe('* bob joined');
    expect(formatLine({ kind: 'left', user: 'bob' })).toBe('* bob left');
    expect(formatLine({ kind: 'online', users: ['alice', 'bob'] })).toBe('* online: alice, bob');
    expect(formatLine({ kind: 'notice', text: 'bob is not online' })).toBe('! bob is not online');
    expect(formatLine({ kind: 'public', from: 'eve', text: 'a\x1b[2Jb' })).toBe('eve: a\\u001b[2Jb');
  });

  it('parses typed lines into commands', () => {
    expect(parseInput('hello')).toEqual({ kind: 'say', text: 'hello' });
    expect(parseInput('  ')).toEqual({ kind: 'none' });
    expect(parseInput('/who')).toEqual({ kind: 'who' });
    expect(parseInput('/WHO')).toEqual({ kind: 'who' });
    expect(parseInput('/quit')).toEqual({ kind: 'quit' });
    expect(parseInput('/msg bob  hi there ')).toEqual({ kind: 'msg', to: 'bob', text: 'hi there ' });
    expect(parseInput('/msg bob')).toEqual({ kind: 'local', text: 'usage: /msg NAME TEXT' });
    expect(parseInput('//etc/passwd')).toEqual({ kind: 'say', text: '/etc/passwd' });
    expect(parseInput('hi\r')).toEqual({ kind: 'say', text: 'hi' });
    expect(parseInput('/help').kind).toBe('help');
    expect(parseInput('/nick al')).toMatchObject({ kind: 'local', text: expect.stringMatching(/not supported/) });
    expect(parseInput('/signin')).toMatchObject({ kind: 'local', text: expect.stringMatching(/already signed in/) });
    expect(parseInput('/frob')).toMatchObject({ kind: 'local', text: expect.stringMatching(/unknown command \/frob/) });
  });
});

describe('terminal UI rendering', () => {
  const at = new Date(2026, 0, 2, 9, 5);
  const plain = { color: false };
  const color = { color: true };

  it('finds @mentions of the user by whole name, in any case', () => {
    expect(mentions('hi @bob!', 'bob')).toBe(true);
    expect(mentions('hi @BOB', 'bob')).toBe(true);
    expect(mentions('hi @bobby', 'bob')).toBe(false);
    expect(mentions('hi bob', 'bob')).toBe(false);
    expect(mentions('mail a.b@c', 'c')).toBe(true);
    expect(mentions('@a.b', 'a.b')).toBe(true);
    expect(mentions('@axb', 'a.b')).toBe(false);
  });

  it('stamps, colours and highlights lines', () => {
    expect(tuiLine({ kind: 'public', from: 'alice', text: 'hello' }, 'bob', at, plain)).toBe('09:05:00 alice: hello');
    expect(tuiLine({ kind: 'public', from: 'alice', text: 'hi @bob' }, 'bob', at, plain)).toBe('09:05:00 alice: hi [@bob]  <--');
    expect(tuiLine({ kind: 'private', from: 'alice', text: 'psst' }, 'bob', at, plain)).toBe('09:05:00 [private] alice: psst');
    expect(tuiLine({ kind: 'joined', user: 'carol' }, 'bob', at, plain)).toBe('09:05:00 * carol joined');
    expect(tuiLine({ kind: 'notice', text: 'x' }, 'bob', at, plain)).toBe('09:05:00 ! x');
    const colored = tuiLine({ kind: 'public', from: 'alice', text: 'hi @bob' }, 'bob', at, color);
    expect(colored).toContain('\x1b[1;7m@bob\x1b[0m');
    expect(colored).toContain('\x1b[1;36malice\x1b[0m');
    expect(highlightMentions('@bob and @bob', 'bob', plain)).toBe('[@bob] and [@bob]');
    expect(tuiOwnLine({ kind: 'say', text: 'yo' }, 'bob', at, plain)).toBe('09:05:00 bob: yo');
    expect(tuiOwnLine({ kind: 'msg', to: 'alice', text: 'yo' }, 'bob', at, plain)).toBe('09:05:00 [private to alice] yo');
    expect(prompt('bob', 3, plain)).toBe('[3 online] bob> ');
  });

  it('never lets a peer text carry an escape sequence, even with colour on', () => {
    const line = tuiLine({ kind: 'public', from: 'eve', text: '\x1b]0;pwned\x07@bob' }, 'bob', at, color);
    // Only our own SGR sequences remain: ESC followed by '[' and digits/semicolons and 'm'.
    expect(line.replace(/\x1b\[[0-9;]*m/g, '')).not.toMatch(/[\x00-\x1f\x7f]/);
  });
});
