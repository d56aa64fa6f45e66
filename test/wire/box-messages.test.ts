/**
 * The box suite's message decoders (suites/box/messages.ts), which sit on wire/: each parses its
 * exact encoding back (property), refuses every truncation and every extension with a
 * SealwireError (HANDSHAKE_FAILED), and refuses non-zero padding.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as m from '../../src/suites/box/messages.js';
import { SealwireError } from '../../src/errors.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

interface Decoder {
  name: string;
  size: number;
  /** A valid encoding from random field values. */
  valid: fc.Arbitrary<Buffer>;
  parse: (b: Uint8Array) => unknown;
}

const decoders: Decoder[] = [
  { name: 'KeyQuery', size: m.KEY_QUERY_SIZE, valid: fc.constant(m.encodeKeyQuery()), parse: m.checkKeyQuery },
  { name: 'KeyReply', size: m.KEY_REPLY_SIZE, valid: bytes(32).map((b) => Buffer.from(b)), parse: m.parseKeyReply },
  {
    name: 'Hello',
    size: m.HELLO_SIZE,
    valid: fc.tuple(bytes(32), bytes(m.HELLO_SIZE - 32)).map(([ec, s]) => m.encodeHello(ec, s)),
    parse: m.parseHello,
  },
  { name: 'Hello plaintext', size: m.TAG_SIZE + m.HELLO_CID_SIZE + m.HELLO_OFFER_SIZE + m.HELLO_PADDING, valid: bytes(32).map((t) => m.encodeHelloPlain(t)), parse: m.parseHelloPlain },
  {
    name: 'Cookie plaintext',
    size: m.COOKIE_PLAIN_SIZE,
    valid: fc.tuple(bytes(32), bytes(32), bytes(32)).map(([serverEphemeral, ctag, stag]) => m.encodeCookiePlain({ serverEphemeral, ctag, stag })),
    parse: m.parseCookiePlain,
  },
  {
    name: 'Vouch plaintext',
    size: m.VOUCH_PLAIN_SIZE,
    valid: fc.tuple(bytes(32), bytes(m.V_NONCE_SIZE), bytes(m.V_SIZE)).map(([clientKey, vNonce, v]) => m.encodeVouchPlain({ clientKey, vNonce, v })),
    parse: m.parseVouchPlain,
  },
  {
    name: 'V plaintext',
    size: m.V_PLAIN_SIZE,
    valid: fc.tuple(bytes(32), bytes(32)).map(([clientEphemeral, stag]) => m.encodeVPlain({ clientEphemeral, stag })),
    parse: m.parseVPlain,
  },
];

function refused(fn: () => unknown): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SealwireError);
  expect((err as SealwireError).code).toBe('HANDSHAKE_FAILED');
}

describe.each(decoders)('box $name decoder', (d) => {
  it('parses its exact encoding', () => {
    fc.assert(
      fc.property(d.valid, (b) => {
        expect(b.length).toBe(d.size);
        d.parse(b);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses every strict prefix', () => {
    fc.assert(
      fc.property(d.valid, (b) => {
        for (let n = 0; n < b.length; n++) refused(() => d.parse(b.subarray(0, n)));
      }),
      { numRuns: 5 },
    );
  });

  it('refuses the message with bytes appended', () => {
    fc.assert(
      fc.property(d.valid, fc.uint8Array({ minLength: 1, maxLength: 32 }), (b, extra) => refused(() => d.parse(Buffer.concat([b, extra])))),
      { numRuns: 50 },
    );
  });
});

describe('box message round trips', () => {
  it('Cookie, Vouch, V and Hello fields read back as written', () => {
    fc.assert(
      fc.property(bytes(32), bytes(32), bytes(32), bytes(m.V_NONCE_SIZE), bytes(m.V_SIZE), (a, b, c, n, v) => {
        const cookie = m.parseCookiePlain(m.encodeCookiePlain({ serverEphemeral: a, ctag: b, stag: c }));
        expect([cookie.serverEphemeral, cookie.ctag, cookie.stag].map((x) => Buffer.from(x))).toEqual([a, b, c].map((x) => Buffer.from(x)));
        const vouch = m.parseVouchPlain(m.encodeVouchPlain({ clientKey: a, vNonce: n, v }));
        expect([vouch.clientKey, vouch.vNonce, vouch.v].map((x) => Buffer.from(x))).toEqual([a, n, v].map((x) => Buffer.from(x)));
        const vp = m.parseVPlain(m.encodeVPlain({ clientEphemeral: b, stag: c }));
        expect(Buffer.from(vp.clientEphemeral).equals(b) && Buffer.from(vp.stag).equals(c)).toBe(true);
        expect(Buffer.from(m.parseHelloPlain(m.encodeHelloPlain(a)).ctag).equals(a)).toBe(true);
        const offer = c[0]!;
        const hello = m.parseHelloPlain(m.encodeHelloPlain(a, undefined, offer));
        expect([Buffer.from(hello.ctag).equals(a), hello.offer]).toEqual([true, offer]);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses non-zero padding in KeyQuery and Hello', () => {
    const q = m.encodeKeyQuery();
    q[63] = 1;
    refused(() => m.checkKeyQuery(q));
    const h = m.encodeHelloPlain(Buffer.alloc(32));
    h[h.length - 1] = 1;
    refused(() => m.parseHelloPlain(h));
  });

  it('builds nonces as type ‖ direction ‖ zeros ‖ u64 counter, and V nonces from 22 random bytes', () => {
    const n = m.counterNonce(0x10, m.Direction.CLIENT_TO_SERVER, 0x0102030405060708n);
    expect(n.toString('hex')).toBe('1043' + '00'.repeat(14) + '0102030405060708');
    expect(m.counterNonce(0x10, m.Direction.SERVER_TO_CLIENT, 0n).equals(m.counterNonce(0x10, m.Direction.CLIENT_TO_SERVER, 0n))).toBe(false);
    const v = m.vouchInnerNonce(Buffer.alloc(22, 0xee));
    expect(v.toString('hex')).toBe('0f43' + 'ee'.repeat(22));
    expect(() => m.vouchInnerNonce(Buffer.alloc(21))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
