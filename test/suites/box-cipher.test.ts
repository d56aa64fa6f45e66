/**
 * `box` record ciphers: the negotiation (Offer in the Hello, Choice in the Ready, both in the
 * record keys), downgrade attempts through the in-memory tamper hook, the ChaCha20-Poly1305
 * record format with the known-answer values of docs/PROTOCOLS.md, bit flips, replay and
 * truncation of ChaCha20-Poly1305 records, the two implementations (libsodium, OpenSSL) giving the
 * same bytes, and 64-bit sequence numbers in the nonce.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from '../../src/keys/key.js';
import { boxSuite } from '../../src/suites/box/index.js';
import { boxKeys, secretboxSeal, x25519KeyPairFromSeed } from '../../src/crypto/box.js';
import { RECORD_AEADS, chachaOpen, chachaOpenOpenSsl, chachaSeal, chachaSealInto, chachaSealOpenSsl, type BoxCipherName } from '../../src/crypto/record-aead.js';
import { BoxChachaRecordCipher, BoxRecordCipher, establishRecords, recordKey } from '../../src/suites/box/records.js';
import { Direction, HELLO_SIZE, MessageType, READY_SIZE, READY_WITH_CHOICE_SIZE, counterNonce, encodeHello, encodeHelloPlain, encodeOffer } from '../../src/suites/box/messages.js';
import type { Established, Handshake, HandshakeMessage } from '../../src/session/handshake.js';
import { ContentType } from '../../src/record/content-type.js';
import { frameHeader } from '../../src/record/frame.js';
import { DatagramReceiver, DatagramSender } from '../../src/record/datagram.js';
import { SessionPipe, type Tamper } from '../helpers/pipe.js';
import { systemRng } from '../../src/crypto/random.js';

const serverKey = generateKeyPair('x25519');
const clientKey = generateKeyPair('x25519');

const client = (boxCipher?: BoxCipherName): Handshake =>
  boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng: systemRng, boxCipher });
const server = (boxCipher?: BoxCipherName): Handshake => boxSuite.server({ key: serverKey, authorize: () => true, rng: systemRng, boxCipher });

/** Runs a handshake message by message; returns both sides' `established` or the first error. */
function drive(c: Handshake, s: Handshake, tamper: (from: 'client' | 'server', m: HandshakeMessage) => HandshakeMessage = (_f, m) => m): { client?: Established; server?: Established; error?: unknown } {
  const out: { client?: Established; server?: Established; error?: unknown } = {};
  try {
    let toServer = [...c.start().send];
    let toClient: HandshakeMessage[] = [];
    for (let round = 0; round < 10 && (toServer.length > 0 || toClient.length > 0); round++) {
      for (const m of toServer) {
        const step = s.receive(tamper('client', m));
        toClient.push(...step.send);
        if (step.established) out.server = step.established;
      }
      toServer = [];
      for (const m of toClient) {
        const step = c.receive(tamper('server', m));
        toServer.push(...step.send);
        if (step.established) out.client = step.established;
      }
      toClient = [];
    }
  } catch (e) {
    out.error = e;
  }
  return out;
}

const cipherOf = (e: Established | undefined): string | undefined =>
  e?.send instanceof BoxChachaRecordCipher ? 'chacha20-poly1305' : e?.send instanceof BoxRecordCipher ? 'xsalsa20-poly1305' : undefined;

describe('box record cipher negotiation', () => {
  it('offers the ciphers of crypto/record-aead.ts, ChaCha20-Poly1305 first', () => {
    expect(RECORD_AEADS).toEqual(['chacha20-poly1305', 'xsalsa20-poly1305']);
    expect(encodeOffer(RECORD_AEADS)).toBe(0x01);
    expect(encodeOffer(['xsalsa20-poly1305'])).toBe(0x00);
  });

  const matrix: [BoxCipherName | undefined, BoxCipherName | undefined, string | null][] = [
    [undefined, undefined, 'chacha20-poly1305'],
    ['xsalsa20-poly1305', undefined, 'xsalsa20-poly1305'], // a seed-003 client (Offer 0) and a new server
    [undefined, 'xsalsa20-poly1305', 'xsalsa20-poly1305'],
    ['chacha20-poly1305', undefined, 'chacha20-poly1305'],
    [undefined, 'chacha20-poly1305', 'chacha20-poly1305'],
    ['xsalsa20-poly1305', 'xsalsa20-poly1305', 'xsalsa20-poly1305'],
    ['chacha20-poly1305', 'xsalsa20-poly1305', null], // the client insists, the server refuses it
    ['xsalsa20-poly1305', 'chacha20-poly1305', null],
  ];
  it.each(matrix)('client %s, server %s → %s', (c, s, expected) => {
    const r = drive(client(c), server(s));
    if (expected === null) {
      expect(r.error).toMatchObject({ code: 'HANDSHAKE_FAILED' });
      expect(r.client).toBeUndefined();
      return;
    }
    expect(r.error).toBeUndefined();
    expect([cipherOf(r.client), cipherOf(r.server)]).toEqual([expected, expected]);
    // The ciphers work together: what one side seals, the other opens.
    const h = frameHeader(ContentType.DATA, 21);
    const [rec] = r.client!.send.seal(ContentType.DATA, 0n, h, Buffer.from('hello'));
    expect(Buffer.from(r.server!.receive.open(ContentType.DATA, 0n, h, rec!.subarray(5))!).toString()).toBe('hello');
  });

  it('answers a Hello without an Offer with the empty seed-003 Ready, and an Offer with the Choice', () => {
    const sizes: number[] = [];
    drive(client('xsalsa20-poly1305'), server(), (from, m) => (from === 'server' && m.type === MessageType.READY && sizes.push(m.payload.length), m));
    drive(client(), server(), (from, m) => (from === 'server' && m.type === MessageType.READY && sizes.push(m.payload.length), m));
    expect(sizes).toEqual([READY_SIZE, READY_WITH_CHOICE_SIZE]);
  });

  it('refuses a boxCipher that the build does not have', () => {
    expect(() => client('aes-128-ocb' as BoxCipherName)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('box record cipher: downgrade attempts fail the session', () => {
  const pipeWith = (tamper: Tamper): SessionPipe => new SessionPipe(client(), server(), { tamper }).run();
  const failed = (p: SessionPipe): void => {
    expect(p.secure('client')).toBe(false);
    expect([...p.errors('client'), ...p.errors('server')].length).toBeGreaterThan(0);
  };

  it('a flipped Offer bit in the Hello', () => {
    // The Offer is inside the Hello's box: EC (32) ‖ MAC (16) ‖ Ctag (32) ‖ CID (8) ‖ Offer.
    const offerAt = 5 + 32 + 16 + 32 + 8;
    failed(pipeWith((from, f, i) => (from === 'client' && i === 0 ? [Buffer.from(f).fill(f[offerAt]! ^ 0x01, offerAt, offerAt + 1)] : [f])));
  });

  it("a Hello replaced by the attacker's own, offering nothing", () => {
    const forged = (): Buffer => {
      const ec = x25519KeyPairFromSeed(randomBytes(32));
      const keys = boxKeys('client', ec.publicKey, ec.secretKey, serverKey.publicKey.bytes);
      const sealed = secretboxSeal(encodeHelloPlain(randomBytes(32), undefined, 0), counterNonce(MessageType.HELLO, Direction.CLIENT_TO_SERVER, 0n), keys.send);
      const payload = encodeHello(ec.publicKey, sealed);
      expect(payload.length).toBe(HELLO_SIZE);
      return Buffer.concat([frameHeader(MessageType.HELLO, payload.length), payload]);
    };
    failed(pipeWith((from, f, i) => (from === 'client' && i === 0 ? [forged()] : [f])));
  });

  it('a Ready cut to the seed-003 size, or with a flipped Choice', () => {
    const readyIndex = 1; // Cookie, Ready
    failed(pipeWith((from, f, i) => (from === 'server' && i === readyIndex ? [Buffer.concat([frameHeader(MessageType.READY, READY_SIZE), f.subarray(5, 5 + READY_SIZE)])] : [f])));
    failed(pipeWith((from, f, i) => (from === 'server' && i === readyIndex ? [Buffer.from(f).fill(f[5 + 16]! ^ 0x01, 5 + 16)] : [f])));
  });

  it('sides that disagree on Offer or Choice derive different record keys', () => {
    const session = randomBytes(32);
    const keys = [recordKey(session, 1, 1), recordKey(session, 0, 1), recordKey(session, 1, 0), recordKey(session, 3, 1)];
    expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(keys.length);
  });
});

describe('box ChaCha20-Poly1305 records: known answers (docs/PROTOCOLS.md)', () => {
  const session = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const key = recordKey(session, 0x01, 0x01);

  it('derives the record key and the next epoch key', () => {
    expect(key.toString('hex')).toBe('479a4e0efdee44121e8c1ec914a154c66473e5a18ef3ae4bdd9ac1ee09f4e34d');
    const next = new BoxChachaRecordCipher(Buffer.from(key), Direction.CLIENT_TO_SERVER).next() as BoxChachaRecordCipher;
    const h = frameHeader(ContentType.DATA, 8 + 16);
    // The next cipher seals like one built from the documented next key.
    const ref = new BoxChachaRecordCipher(Buffer.from('4424ac7cce36e051dd9b32888fbe9df3ca621dce45075dfdb6f52f3be78f31c1', 'hex'), Direction.CLIENT_TO_SERVER);
    expect(Buffer.from(next.seal(0x10, 5n, h, Buffer.from('sealwire'))[0]!).equals(Buffer.from(ref.seal(0x10, 5n, h, Buffer.from('sealwire'))[0]!))).toBe(true);
  });

  it('seals a stream record: client→server, sequence 1, "sealwire"', () => {
    const c = new BoxChachaRecordCipher(Buffer.from(key), Direction.CLIENT_TO_SERVER);
    const header = frameHeader(ContentType.DATA, 8 + 16);
    expect(header.toString('hex')).toBe('0000001910');
    const [record] = c.seal(ContentType.DATA, 1n, header, Buffer.from('sealwire'));
    expect(Buffer.from(record!).toString('hex')).toBe('0000001910' + '079efefbd8ff5366eecbc9d4c78b30ec9cb9860be6257416');
  });

  it('seals a datagram record: server→client, cid 0102030405060708, sequence 2', () => {
    const c = new BoxChachaRecordCipher(Buffer.from(key), Direction.SERVER_TO_CLIENT);
    const header = Buffer.from('10' + '0102030405060708' + '0000000000000002', 'hex');
    const [record] = c.seal(0x10, 2n, header, Buffer.from('sealwire'));
    expect(Buffer.from(record!).subarray(17).toString('hex')).toBe('e45d2dd166afba23048cb86e3ce66d9f244a5474fc769ec4');
  });

  it('writes the whole 64-bit sequence number into the nonce', () => {
    const a = new BoxChachaRecordCipher(randomBytes(32), Direction.CLIENT_TO_SERVER);
    const h = frameHeader(ContentType.DATA, 1 + 16);
    const near = 0xffff_ffff_ffff_fffen;
    const sealed = [near, near - (1n << 32n), near & 0xffff_ffffn].map((seq) => Buffer.from(a.seal(0x10, seq, h, Buffer.from('x'))[0]!).toString('hex'));
    expect(new Set(sealed).size).toBe(3);
    expect(a.open(0x10, near, h, Buffer.from(sealed[0]!, 'hex').subarray(5))).not.toBeNull();
    expect(a.open(0x10, near & 0xffff_ffffn, h, Buffer.from(sealed[0]!, 'hex').subarray(5))).toBeNull();
  });
});

describe('box ChaCha20-Poly1305 records: both implementations, tampering', () => {
  const sizes = [0, 1, 1024, 32 * 1024, 64 * 1024];

  it.each(sizes)('libsodium and OpenSSL give the same bytes and open each other (%i bytes)', (n) => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const aad = randomBytes(17);
    const plain = randomBytes(n);
    const ct = Buffer.alloc(n);
    const tag = Buffer.alloc(16);
    chachaSealInto(ct, tag, plain, aad, nonce, key);
    const [ct2, tag2] = chachaSealOpenSsl(plain, aad, nonce, key);
    expect(ct.equals(ct2) && tag.equals(tag2)).toBe(true);
    const sealed = Buffer.concat([ct, tag]);
    expect(chachaSeal(plain, aad, nonce, key).equals(sealed)).toBe(true);
    expect(Buffer.from(chachaOpen(sealed, aad, nonce, key)!).equals(plain)).toBe(true);
    expect(Buffer.from(chachaOpenOpenSsl(sealed, aad, nonce, key)!).equals(plain)).toBe(true);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    expect([chachaOpen(flipped, aad, nonce, key), chachaOpenOpenSsl(flipped, aad, nonce, key)]).toEqual([null, null]);
    const inPlace = Buffer.from(sealed);
    expect(Buffer.from(chachaOpen(inPlace, aad, nonce, key, inPlace.subarray(0, n))!).equals(plain)).toBe(true);
  });

  it.each([32, 64 * 1024 - 9])('refuses every flipped bit of a %i-byte record, header included, in place and not, and opens the genuine record after', (n) => {
    const keys = { send: randomBytes(32), receive: Buffer.alloc(0) };
    keys.receive = Buffer.from(keys.send);
    const sender = new BoxChachaRecordCipher(Buffer.from(keys.send), Direction.CLIENT_TO_SERVER);
    const receiver = new BoxChachaRecordCipher(Buffer.from(keys.receive), Direction.CLIENT_TO_SERVER);
    const plain = randomBytes(n);
    const header = frameHeader(ContentType.DATA, n + 16);
    const record = Buffer.concat(sender.seal(ContentType.DATA, 7n, header, plain));
    expect(Buffer.from(receiver.open(ContentType.DATA, 7n, record.subarray(0, 5), record.subarray(5))!).equals(plain)).toBe(true);
    // Every bit of short records; for the large one, the header, the first and the last 64 bytes.
    const bits = n < 1024 ? [...Array(record.length * 8).keys()] : [...Array(64 * 8 + 40).keys(), ...Array.from({ length: 64 * 8 }, (_, i) => record.length * 8 - 1 - i)];
    for (const bit of bits) {
      const t = Buffer.from(record);
      t[bit >> 3]! ^= 1 << (bit & 7);
      expect(receiver.open(ContentType.DATA, 7n, t.subarray(0, 5), t.subarray(5))).toBeNull();
      // In place: refused too, and no plaintext leaks into the refused body (libsodium verifies
      // before it decrypts, and zeroes its output on failure).
      const body = t.subarray(5);
      expect(receiver.openInPlace(ContentType.DATA, 7n, t.subarray(0, 5), body)).toBeNull();
      expect(body.subarray(0, 64).equals(plain.subarray(0, 64))).toBe(false);
    }
    // The refusals left the cipher as it was: the genuine record still opens, in place.
    const genuine = Buffer.from(record);
    const opened = receiver.openInPlace(ContentType.DATA, 7n, genuine.subarray(0, 5), genuine.subarray(5))!;
    expect(Buffer.from(opened).equals(plain)).toBe(true);
    expect(opened.buffer).toBe(genuine.buffer);
    // Another sequence number, another direction, a truncated body: refused.
    expect(receiver.open(ContentType.DATA, 8n, header, record.subarray(5))).toBeNull();
    const otherDirection = new BoxChachaRecordCipher(Buffer.from(keys.send), Direction.SERVER_TO_CLIENT);
    expect(otherDirection.open(ContentType.DATA, 7n, header, record.subarray(5))).toBeNull();
    expect(receiver.open(ContentType.DATA, 7n, header, record.subarray(5, record.length - 1))).toBeNull();
    expect(receiver.open(ContentType.DATA, 7n, header, record.subarray(5, 5 + 15))).toBeNull();
  });

  it('over the in-memory pipe: a replayed or reordered record ends the session', () => {
    for (const move of ['replay', 'reorder'] as const) {
      let held: Buffer | null = null;
      const p = new SessionPipe(client(), server(), {
        tamper: (from, f) => {
          if (from !== 'client' || f[4] !== ContentType.DATA) return [f];
          if (move === 'replay') return [f, f];
          if (!held) return (held = f), [];
          return [f, held];
        },
      }).run();
      expect(p.secure('server')).toBe(true);
      p.client.send(Buffer.from('one'));
      p.client.send(Buffer.from('two'));
      p.flush();
      expect(p.errors('server').map((e) => e.code)).toContain('BAD_RECORD');
    }
  });

  it('over datagrams: a duplicate is a REPLAY, a flipped bit BAD_RECORD that leaves the window as it was', () => {
    const keys = { send: randomBytes(32), receive: randomBytes(32) };
    const both = { send: Buffer.from(keys.send), receive: Buffer.from(keys.receive) };
    const c = establishRecords('client', 'chacha20-poly1305', 1, { send: Buffer.from(keys.send), receive: Buffer.from(keys.receive) });
    const s = establishRecords('server', 'chacha20-poly1305', 1, { send: both.receive, receive: both.send });
    const cid = randomBytes(8);
    const sender = new DatagramSender(c.send, cid);
    const receiver = new DatagramReceiver(s.receive, 'layer', true);
    const d0 = Buffer.from(sender.seal(0x10, Buffer.from('zero')));
    const d1 = Buffer.from(sender.seal(0x10, Buffer.from('one')));
    const flipped = Buffer.from(d1);
    flipped[flipped.length - 3]! ^= 0x10;
    expect(() => receiver.open(Buffer.from(flipped))).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
    expect(Buffer.from(receiver.open(Buffer.from(d1))).toString()).toBe('one');
    expect(Buffer.from(receiver.open(Buffer.from(d0))).toString()).toBe('zero');
    expect(() => receiver.open(Buffer.from(d0))).toThrow(expect.objectContaining({ code: 'REPLAY' }));
    expect(() => receiver.open(Buffer.from(d1))).toThrow(expect.objectContaining({ code: 'REPLAY' }));
  });
});
