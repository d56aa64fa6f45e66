/**
 * What is specific to the `box` suite (seed 003): message sizes and the no-amplification rule, the
 * nonce scheme (type and direction prefixes, counters, V's random nonce), deterministic
 * transcripts, seeds wiped, and forward secrecy against an attacker who later steals both
 * long-term secret keys.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/key.js';
import { boxSuite } from '../../src/suites/box/index.js';
import { boxKeys, secretboxOpen, x25519KeyPairFromSeed } from '../../src/crypto/box.js';
import { ContentType } from '../../src/record/content-type.js';
import {
  COOKIE_SIZE,
  Direction,
  HELLO_SIZE,
  KEY_QUERY_SIZE,
  KEY_REPLY_SIZE,
  MessageType,
  READY_SIZE,
  READY_WITH_CHOICE_SIZE,
  VOUCH_SIZE,
  COOKIE_NONCE_SIZE,
  cookieNonce,
  counterNonce,
  parseCookie,
  parseCookiePlain,
  parseVouchPlain,
} from '../../src/suites/box/messages.js';
import { SessionPipe } from '../helpers/pipe.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';
import { systemRng, type Rng } from '../../src/crypto/random.js';
import type { BoxCipherName } from '../../src/crypto/record-aead.js';

/** Opens a Cookie payload (Cnonce ‖ box) with the Hello key. */
const openCookie = (payload: Uint8Array, key: Uint8Array): Buffer | null => {
  const c = parseCookie(payload);
  return secretboxOpen(c.sealed, cookieNonce(c.cNonce), key);
};

const serverKey = generateKeyPair('x25519');
const clientKey = generateKeyPair('x25519');

function run(opts: { learn?: boolean; clientRng?: Rng; serverRng?: Rng; boxCipher?: BoxCipherName } = {}): SessionPipe {
  return new SessionPipe(
    boxSuite.client({
      key: clientKey,
      server: opts.learn ? { kind: 'learn', verify: () => {} } : { kind: 'pinned', key: serverKey.publicKey },
      rng: opts.clientRng ?? seededRngForTestingOnly(String(Math.random())),
      boxCipher: opts.boxCipher,
    }),
    boxSuite.server({ key: serverKey, authorize: () => true, rng: opts.serverRng ?? seededRngForTestingOnly(String(Math.random())) }),
  ).run();
}

const payloads = (frames: Buffer[]): { type: number; payload: Buffer }[] => frames.map((f) => ({ type: f[4]!, payload: f.subarray(5) }));

describe('box: messages and amplification', () => {
  it.each([
    ['seed 003 (XSalsa20-Poly1305 forced: the Offer is 0, the Ready empty)', 'xsalsa20-poly1305', READY_SIZE],
    ['the default (ChaCha20-Poly1305 offered: the Ready names the choice)', undefined, READY_WITH_CHOICE_SIZE],
  ] as const)('sends the messages of %s with their exact sizes', (_name, boxCipher, readySize) => {
    const p = run({ learn: true, boxCipher });
    expect(payloads(p.wire.client).map((m) => [m.type, m.payload.length])).toEqual([
      [MessageType.KEY_QUERY, KEY_QUERY_SIZE],
      [MessageType.HELLO, HELLO_SIZE],
      [MessageType.VOUCH, VOUCH_SIZE],
    ]);
    expect(payloads(p.wire.server).map((m) => [m.type, m.payload.length])).toEqual([
      [MessageType.KEY_REPLY, KEY_REPLY_SIZE],
      [MessageType.COOKIE, COOKIE_SIZE],
      [MessageType.READY, readySize],
    ]);
  });

  it('never answers a client message with more bytes than it received', () => {
    const p = run({ learn: true });
    p.wire.client.forEach((request, i) => {
      expect(p.wire.server[i]!.length).toBeLessThanOrEqual(request.length);
    });
  });

  it('sends the client long-term key only inside boxes', () => {
    const p = run({ learn: true });
    for (const f of p.wire.client) expect(f.includes(clientKey.publicKey.bytes)).toBe(false);
  });
});

describe('box: nonces', () => {
  it('gives every handshake box and record a distinct nonce prefix (type, direction) and counts records', () => {
    expect(counterNonce(MessageType.HELLO, Direction.CLIENT_TO_SERVER, 0n).subarray(0, 2)).toEqual(Buffer.from([0x01, 0x43]));
    expect(counterNonce(ContentType.DATA, Direction.SERVER_TO_CLIENT, 5n).toString('hex')).toBe('1053' + '00'.repeat(14) + '0000000000000005');
    const max = counterNonce(ContentType.DATA, Direction.CLIENT_TO_SERVER, 0xffff_ffff_ffff_fffen);
    expect(max.subarray(16).toString('hex')).toBe('fffffffffffffffe');
  });

  it('opens the Cookie only with the documented nonce (0x02 ‖ S ‖ the Cnonce sent with it)', () => {
    const p = run();
    const ephemeralPublic = p.wire.client[0]!.subarray(5, 37);
    const keys = boxKeys('server', serverKey.publicKey.bytes, serverKey.secretKey, ephemeralPublic);
    const cookie = parseCookie(p.wire.server[0]!.subarray(5));
    expect(cookie.cNonce.length).toBe(22);
    const withPrefix = (type: number, dir: number): Buffer => Buffer.concat([Buffer.from([type, dir]), cookie.cNonce]);
    expect(secretboxOpen(cookie.sealed, withPrefix(MessageType.COOKIE, Direction.SERVER_TO_CLIENT), keys.send)).not.toBeNull();
    expect(secretboxOpen(cookie.sealed, withPrefix(MessageType.COOKIE, Direction.CLIENT_TO_SERVER), keys.send)).toBeNull();
    expect(secretboxOpen(cookie.sealed, withPrefix(MessageType.HELLO, Direction.SERVER_TO_CLIENT), keys.send)).toBeNull();
    expect(secretboxOpen(cookie.sealed, counterNonce(MessageType.COOKIE, Direction.SERVER_TO_CLIENT, 0n), keys.send)).toBeNull();
  });

  it('never seals two Cookies for one replayed Hello under the same nonce (the key (S, EC) repeats)', () => {
    const hello = boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng: systemRng }).start().send[0]!;
    const keys = boxKeys('server', serverKey.publicKey.bytes, serverKey.secretKey, hello.payload.subarray(0, 32));
    const nonces = new Set<string>();
    const replays = 200;
    for (let i = 0; i < replays; i++) {
      // Each replay reaches a fresh server handshake (a new connection, or a stateless UDP server).
      const server = boxSuite.server({ key: serverKey, authorize: () => true, rng: systemRng });
      const reply = server.receive(hello).send[0]!;
      expect(reply.type).toBe(MessageType.COOKIE);
      expect(openCookie(reply.payload, keys.send)).not.toBeNull();
      const c = parseCookie(reply.payload);
      nonces.add(Buffer.from(cookieNonce(c.cNonce)).toString('hex'));
      server.wipe();
    }
    expect(nonces.size).toBe(replays);
    expect(COOKIE_NONCE_SIZE).toBeGreaterThanOrEqual(16);
  });

  it('uses a fresh random nonce for V in every session (V meets the same long-term key each time)', () => {
    const vNonceOf = (seed: string): Buffer => {
      // Keep a copy of what the client's Rng hands out (the handshake wipes the seeds it uses).
      const copies: Buffer[] = [];
      const rng = seededRngForTestingOnly(seed);
      const p = run({ clientRng: (n) => { const b = rng(n); copies.push(Buffer.from(b)); return b; } });
      const ephemeral = x25519KeyPairFromSeed(copies[0]!);
      const helloKeys = boxKeys('client', ephemeral.publicKey, ephemeral.secretKey, serverKey.publicKey.bytes);
      const cookie = parseCookiePlain(openCookie(p.wire.server[0]!.subarray(5), helloKeys.receive)!);
      const sessionKeys = boxKeys('client', ephemeral.publicKey, ephemeral.secretKey, cookie.serverEphemeral);
      const vouch = parseVouchPlain(secretboxOpen(p.wire.client[1]!.subarray(5), counterNonce(MessageType.VOUCH, Direction.CLIENT_TO_SERVER, 0n), sessionKeys.send)!);
      expect(Buffer.from(vouch.clientKey).equals(clientKey.publicKey.bytes)).toBe(true);
      return Buffer.from(vouch.vNonce);
    };
    const a = vNonceOf('a');
    const b = vNonceOf('b');
    expect(a.length).toBe(22);
    expect(a.equals(b)).toBe(false);
    expect(a.every((x) => x === 0)).toBe(false);
  });
});

describe('box: determinism and secrets', () => {
  it('produces the same transcript from the same randomness (the core has no hidden inputs)', () => {
    const a = run({ clientRng: seededRngForTestingOnly('c'), serverRng: seededRngForTestingOnly('s') });
    const b = run({ clientRng: seededRngForTestingOnly('c'), serverRng: seededRngForTestingOnly('s') });
    expect(Buffer.concat(a.wire.client).equals(Buffer.concat(b.wire.client))).toBe(true);
    expect(Buffer.concat(a.wire.server).equals(Buffer.concat(b.wire.server))).toBe(true);
  });

  it('wipes the seeds of ephemeral keys once the keys are derived', () => {
    const handed: Buffer[] = [];
    const recording = (rng: Rng): Rng => (n) => {
      const b = rng(n);
      handed.push(b);
      return b;
    };
    const p = run({ clientRng: recording(seededRngForTestingOnly('c')), serverRng: recording(seededRngForTestingOnly('s')) });
    expect(p.secure('client') && p.secure('server')).toBe(true);
    const seeds = handed.filter((b) => b.length === 32 && b.every((x) => x === 0));
    expect(seeds.length).toBeGreaterThanOrEqual(2); // EC's and ES's seeds
  });

  it('keeps recorded traffic secret from an attacker who later steals both long-term secret keys', () => {
    // XSalsa20-Poly1305 records, keyed straight from the session keys: the attacker's best case.
    const p = run({ boxCipher: 'xsalsa20-poly1305' });
    p.client.send(Buffer.from('forward secret message'));
    p.flush();
    const hello = p.wire.client[0]!.subarray(5);
    const ec = hello.subarray(0, 32);
    // With Ss the attacker opens the Cookie and learns ES, Ctag, Stag...
    const helloKeys = boxKeys('server', serverKey.publicKey.bytes, serverKey.secretKey, ec);
    const cookie = parseCookiePlain(openCookie(p.wire.server[0]!.subarray(5), helloKeys.send)!);
    const es = cookie.serverEphemeral;
    // ...but no key it can compute from long-term secrets and public ephemeral keys opens a record.
    const record = p.wire.client.find((f) => f[4] === ContentType.DATA)!.subarray(5);
    const nonce = counterNonce(ContentType.DATA, Direction.CLIENT_TO_SERVER, 0n);
    const candidates = [
      boxKeys('server', serverKey.publicKey.bytes, serverKey.secretKey, ec),
      boxKeys('server', serverKey.publicKey.bytes, serverKey.secretKey, es),
      boxKeys('client', clientKey.publicKey.bytes, clientKey.secretKey, es),
      boxKeys('client', clientKey.publicKey.bytes, clientKey.secretKey, serverKey.publicKey.bytes),
      boxKeys('client', clientKey.publicKey.bytes, clientKey.secretKey, ec),
    ];
    for (const k of candidates) {
      for (const key of [k.send, k.receive]) expect(secretboxOpen(record, nonce, key)).toBeNull();
    }
    expect(p.received('server').toString()).toBe('forward secret message');
  });
});
