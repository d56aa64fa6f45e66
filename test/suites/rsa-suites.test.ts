/**
 * What is specific to each RSA suite, beyond the shared conformance runs:
 * - secsess: NONCEs rise by 1 to 10 per record and per direction; a record whose NONCE does not
 *   rise is refused even with a valid MAC; a recorded KeyExchange replayed to the server gives a
 *   session in which the recorded client records do not open (the server's random).
 * - ccm: a man in the middle who swaps the client key in the ClientKeyExchange is refused; an
 *   impostor replaying a real client's ClientKeyExchange cannot finish; the wire has no `@`
 *   delimiters to break, and records of random binary data of every size 0..600 round-trip.
 * - sid: the seed's message flow 0x00–0x04 then 0x10 with cid in clear and explicit sequence
 *   numbers; the transport-neutral record functions refuse other cids and report `seq`; the
 *   content-free Reject ends a client handshake.
 * - cbcmac: the per-session key pool (a worker thread) fills without blocking the event loop and
 *   serves waiting connections; every session has its own key, signed over the client's random;
 *   forward secrecy: a recorded session's key exchange does not open with the long-term key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect, createServer, SealwireError, type SealwireServer } from '../../src/index.js';
import { ContentType } from '../../src/record/content-type.js';
import { oaepDecrypt, oaepEncrypt } from '../../src/crypto/rsa.js';
import { sha256 } from '../../src/crypto/hash.js';
import { encodeFrame, StreamDeframer } from '../../src/record/frame.js';
import { StreamSession } from '../../src/session/stream-session.js';
import { CbcmacRecordCipher, deriveCbcmacKeys } from '../../src/suites/cbcmac/records.js';
import { PublicKey, generateKeyPair } from '../../src/keys/key.js';
import { systemRng } from '../../src/crypto/random.js';
import { getSuite } from '../../src/suites/index.js';
import { SecsessRecordCipher } from '../../src/suites/secsess/records.js';
import { encodeClientKeyExchange, parseClientKeyExchange } from '../../src/suites/ccm/messages.js';
import { MessageType as SidType, CID_SIZE } from '../../src/suites/sid/messages.js';
import { openSidRecord, sealSidRecord } from '../../src/suites/sid/records.js';
import { KEY_EXCHANGE_LABEL, MessageType as CbcType, parseServerKey } from '../../src/suites/cbcmac/messages.js';
import { RsaKeyPool, RecyclingKeyPoolForTestingOnly } from '../../src/keys/rsa-pool.js';
import type { KeyPair } from '../../src/keys/key.js';
import type { SuiteName } from '../../src/session/handshake.js';
import { SessionPipe, type Tamper } from '../helpers/pipe.js';
import { testKey } from '../helpers/fixtures.js';
import { collect } from '../helpers/streams.js';

let serverKey: KeyPair;
let clientKey: KeyPair;
let otherClientKey: KeyPair;
let sessionKeys: KeyPair[];
beforeAll(async () => {
  [serverKey, clientKey, otherClientKey, ...sessionKeys] = await Promise.all([
    testKey('rsa', 0),
    testKey('rsa', 2),
    testKey('rsa', 3),
    testKey('rsa', 10),
    testKey('rsa', 11),
    testKey('rsa', 12),
  ]);
});

function pipe(name: SuiteName, opts: { tamper?: Tamper; key?: KeyPair; pool?: unknown } = {}): SessionPipe {
  const suite = getSuite(name);
  const key = suite.clientKeys === 'required' ? (opts.key ?? clientKey) : null;
  return new SessionPipe(
    suite.client({ key, server: { kind: 'pinned', key: serverKey.publicKey }, rng: systemRng }),
    suite.server({ key: serverKey, authorize: () => true, rng: systemRng, resources: opts.pool ?? new RecyclingKeyPoolForTestingOnly(sessionKeys) }),
    { tamper: opts.tamper },
  ).run();
}

const dataFrames = (frames: Buffer[]): Buffer[] => frames.filter((f) => f[4] === ContentType.DATA);

describe('secsess', () => {
  it('NONCEs rise by 1 to 10 with every record, per direction, and a NONCE that does not rise is refused', () => {
    const keys = () => ({ enc: Buffer.alloc(32, 1), mac: Buffer.alloc(32, 2) });
    const sender = new SecsessRecordCipher(keys(), systemRng);
    const receiver = new SecsessRecordCipher(keys(), systemRng);
    const header = Buffer.alloc(0);
    let last = 0n;
    for (let seq = 0n; seq < 200n; seq++) {
      const body = Buffer.concat(sender.seal(0x10, seq, header, Buffer.from(`m${seq}`)));
      expect(Buffer.from(receiver.open(0x10, seq, header, body)!).toString()).toBe(`m${seq}`);
      const step = sender.lastNonce - last;
      expect(step >= 1n && step <= 10n).toBe(true);
      expect(receiver.lastNonce).toBe(sender.lastNonce);
      last = sender.lastNonce;
    }
    // A second sender under the same keys restarts its NONCE: its records authenticate (same
    // keys, the right sequence number) but their NONCE does not rise, so they are refused.
    const restarted = new SecsessRecordCipher(keys(), systemRng);
    const stale = Buffer.concat(restarted.seal(0x10, 200n, header, Buffer.from('stale')));
    expect(receiver.open(0x10, 200n, header, stale)).toBeNull();
    expect(receiver.lastNonce).toBe(last); // unchanged by the refused record
  });

  it('a replayed KeyExchange gives the replayer a session under new keys: the recorded records do not open', () => {
    const original = pipe('secsess');
    original.client.send(Buffer.from('transfer 100 to mallory'));
    original.flush();
    expect(original.received('server').toString()).toBe('transfer 100 to mallory');
    const [keyExchange] = original.wire.client;
    const recorded = dataFrames(original.wire.client)[0]!;
    // The attacker replays the client's flight to a fresh server session.
    const suite = getSuite('secsess');
    const replay = new SessionPipe(
      suite.client({ key: null, server: { kind: 'pinned', key: serverKey.publicKey }, rng: systemRng }),
      suite.server({ key: serverKey, authorize: () => true, rng: systemRng }),
    );
    replay.inject('server', keyExchange!);
    expect(replay.secure('server')).toBe(true); // the server cannot tell (the client is anonymous)...
    replay.inject('server', recorded);
    expect(replay.received('server').length).toBe(0); // ...but the recorded data does not open
    expect(replay.errors('server')[0]?.code).toBe('BAD_RECORD');
  });
});

describe('ccm', () => {
  it('refuses a ClientKeyExchange whose client key was swapped in transit', () => {
    const p = pipe('ccm', {
      tamper: (from, frame, i) => {
        if (from !== 'client' || i !== 0) return [frame];
        const m = parseClientKeyExchange(frame.subarray(5), 256);
        const swapped = encodeClientKeyExchange({ clientKey: otherClientKey.publicKey.bytes, sealed: m.sealed });
        return [frameOf(frame[4]!, swapped)];
      },
    });
    expect(p.secure('server')).toBe(false);
    expect(p.errors('server')[0]?.code).toBe('HANDSHAKE_FAILED');
  });

  it("an impostor replaying a real client's ClientKeyExchange cannot finish the handshake", () => {
    const real = pipe('ccm');
    expect(real.secure('server')).toBe(true);
    const suite = getSuite('ccm');
    const impostor = new SessionPipe(
      suite.client({ key: otherClientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng: systemRng }),
      suite.server({ key: serverKey, authorize: (k) => k.equals(clientKey.publicKey), rng: systemRng }),
    );
    impostor.inject('server', real.wire.client[0]!); // accepted: it names an authorized key
    expect(impostor.errors('server')).toEqual([]);
    // The impostor cannot read the server nonce; the best it can send is the old Finished.
    impostor.inject('server', real.wire.client[1]!);
    expect(impostor.secure('server')).toBe(false);
    expect(impostor.errors('server')[0]?.code).toBe('HANDSHAKE_FAILED');
  });

  it('carries random binary data of every size from 0 to 600 bytes (the seed\'s @ delimiter failed on 12-87 %)', () => {
    const p = pipe('ccm');
    const sent: Buffer[] = [];
    for (let n = 1; n <= 600; n++) {
      const m = randomBytes(n);
      m[0] = 0x40; // an '@' in every message
      sent.push(m);
      p.client.send(m);
    }
    p.flush();
    expect(p.received('server').equals(Buffer.concat(sent))).toBe(true);
    // Fixed fields: every data record is 5 + 12 + n + 16 bytes.
    dataFrames(p.wire.client).forEach((f, i) => expect(f.length).toBe(5 + 12 + (i + 1) + 16));
  });
});

function frameOf(type: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(payload.length + 1);
  h[4] = type;
  return Buffer.concat([h, payload]);
}

describe('sid', () => {
  it('follows the seed: 0x00, 0x01, 0x02, 0x03, 0x04, then 0x10 records with the cid in clear and explicit sequence numbers', () => {
    const p = pipe('sid');
    p.client.send(Buffer.from('hello!'));
    p.client.send(Buffer.from('again'));
    p.server.send(Buffer.from('yes!'));
    p.flush();
    expect(p.wire.client.map((f) => f[4])).toEqual([SidType.CLIENT_HELLO, SidType.CLIENT_IDENTITY, SidType.CONFIRM, 0x10, 0x10]);
    expect(p.wire.server.map((f) => f[4])).toEqual([SidType.SERVER_HELLO, SidType.SESSION_OFFER, 0x10]);
    expect(p.wire.client[0]!.subarray(5).equals(clientKey.publicKey.bytes)).toBe(true);
    expect(p.wire.server[0]!.subarray(5).equals(serverKey.publicKey.bytes)).toBe(true);
    const cid = p.wire.client[2]!.subarray(5, 5 + CID_SIZE);
    const [r0, r1] = dataFrames(p.wire.client);
    expect(r0!.subarray(5, 5 + CID_SIZE).equals(cid)).toBe(true);
    expect(r0!.readBigUInt64BE(5 + CID_SIZE)).toBe(0n);
    expect(r1!.readBigUInt64BE(5 + CID_SIZE)).toBe(1n);
    expect(p.received('server').toString()).toBe('hello!again');
    expect(p.received('client').toString()).toBe('yes!');
  });

  it('opens records out of order by their explicit sequence (for datagrams), refusing another cid, sid or direction', () => {
    const k = { key: randomBytes(16), cid: randomBytes(8), sid: randomBytes(8), direction: 0x43 as const };
    const r5 = Buffer.concat(sealSidRecord(k, 0x10, 5n, Buffer.from('five')));
    const r2 = Buffer.concat(sealSidRecord(k, 0x10, 2n, Buffer.from('two')));
    expect(openSidRecord(k, 0x10, r5)).toEqual({ seq: 5n, data: Buffer.from('five') });
    expect(openSidRecord(k, 0x10, r2)).toEqual({ seq: 2n, data: Buffer.from('two') });
    expect(openSidRecord({ ...k, cid: randomBytes(8) }, 0x10, r5)).toBeNull();
    expect(openSidRecord({ ...k, sid: randomBytes(8) }, 0x10, r5)).toBeNull();
    expect(openSidRecord({ ...k, direction: 0x53 }, 0x10, r5)).toBeNull();
    expect(openSidRecord(k, 0x11, r5)).toBeNull();
    const moved = Buffer.from(r5);
    moved.writeBigUInt64BE(6n, 8); // claims another sequence number
    expect(openSidRecord(k, 0x10, moved)).toBeNull();
  });

  it('ends the client handshake on the content-free Reject (0x05)', () => {
    const suite = getSuite('sid');
    const client = suite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng: systemRng });
    client.start();
    expect(() => client.receive({ type: SidType.REJECT, payload: new Uint8Array(0) })).toThrow(/refused/);
  });
});

describe('cbcmac', () => {
  it('uses a fresh per-session key for every session, signed over the client random: a ServerKey replayed to another client is refused', () => {
    const shared = new RecyclingKeyPoolForTestingOnly(sessionKeys);
    const a = pipe('cbcmac', { pool: shared });
    const b = pipe('cbcmac', { pool: shared });
    const keyA = parseServerKey(a.wire.server[0]!.subarray(5)).sessionKey;
    const keyB = parseServerKey(b.wire.server[0]!.subarray(5)).sessionKey;
    expect(Buffer.from(keyA).equals(Buffer.from(keyB))).toBe(false);
    expect(Buffer.from(keyA).equals(serverKey.publicKey.bytes)).toBe(false);
    // Replay session A's ServerKey to a new client: its random differs, so the signature fails.
    const replay = pipe('cbcmac', { pool: shared, tamper: (from, frame, i) => (from === 'server' && i === 0 ? [a.wire.server[0]!] : [frame]) });
    expect(replay.secure('client')).toBe(false);
    expect(replay.errors('client')[0]?.message).toMatch(/not signed/);
  });

  it('forward secrecy: the recorded key exchange opens only with the per-session key, never with the long-term key', () => {
    const handedOut: KeyPair[] = [];
    const pool = {
      take: () => {
        const k = sessionKeys[handedOut.length % sessionKeys.length]!;
        handedOut.push(k);
        return k;
      },
      acquire: () => Promise.reject(new Error('unused')),
      close: () => {},
    };
    const p = pipe('cbcmac', { pool });
    p.client.send(Buffer.from('secret'));
    p.flush();
    expect(p.received('server').toString()).toBe('secret');
    const ke = p.wire.client.find((f) => f[4] === CbcType.KEY_EXCHANGE)!;
    const block = ke.subarray(5, 5 + 256);
    expect(oaepDecrypt(serverKey.privateKey, block, KEY_EXCHANGE_LABEL)).toBeNull();
    expect(oaepDecrypt(handedOut[0]!.privateKey, block, KEY_EXCHANGE_LABEL)?.length).toBe(32);
    // The server handshake kept the per-session key for that one decryption only.
    expect(p.server.phase).toBe('open');
  });

  it("delivers the seed's first message when a client puts one in the KeyExchange", () => {
    const suite = getSuite('cbcmac');
    const server = new StreamSession(
      suite.server({ key: serverKey, authorize: () => true, rng: systemRng, resources: new RecyclingKeyPoolForTestingOnly(sessionKeys) }),
      { now: 0 },
    );
    const events = (): string[] => server.takeEvents().map((e) => (e.type === 'data' ? `data:${Buffer.from(e.data).toString()}` : e.type));
    const hello = randomBytes(32);
    server.start();
    server.receive(encodeFrame(CbcType.CLIENT_HELLO, hello));
    const deframer = new StreamDeframer();
    for (const c of server.takeOutput()) deframer.push(c);
    const serverKeyPayload = deframer.next()!.payload;
    const e = PublicKey.fromBytes('rsa', parseServerKey(serverKeyPayload).sessionKey);
    const secret = randomBytes(32);
    const block = oaepEncrypt(e.keyObject, secret, KEY_EXCHANGE_LABEL);
    const keys = deriveCbcmacKeys(secret, sha256(hello, serverKeyPayload, block));
    const c2s = new CbcmacRecordCipher(keys.c2s, systemRng);
    const payload = Buffer.concat(c2s.seal(CbcType.KEY_EXCHANGE, 0n, block, Buffer.from('Hello World!')));
    server.receive(encodeFrame(CbcType.KEY_EXCHANGE, payload));
    expect(events()).toEqual(['secure', 'data:Hello World!']);
  });

  it('over TCP, a connection whose handshake cannot start (bad or missing per-session key) ends alone', async () => {
    const answers: (() => Promise<KeyPair>)[] = [
      () => Promise.resolve(generateKeyPair('x25519')), // the handshake refuses it: BAD_KEY
      () => Promise.reject(new Error('no key today')), // preparation fails
      () => Promise.resolve(sessionKeys[0]!),
    ];
    let calls = 0;
    const pool = { take: () => undefined, acquire: () => answers[Math.min(calls++, answers.length - 1)]!(), close: () => {} };
    const errors: SealwireError[] = [];
    const server = createServer(
      { key: serverKey, suite: 'cbcmac', openServerForTestingOnly: () => ({ resources: pool, close: () => {} }) },
      (s) => s.pipe(s),
    );
    server.on('handshakeError', (e: SealwireError) => errors.push(e));
    try {
      const { port } = await server.listen(0, '127.0.0.1');
      const dial = () => connect({ port, suite: 'cbcmac', serverKey: serverKey.publicKey });
      await expect(dial()).rejects.toBeInstanceOf(SealwireError);
      await expect(dial()).rejects.toBeInstanceOf(SealwireError);
      const session = await dial();
      const got = collect(session);
      session.end('third time lucky');
      expect((await got).toString()).toBe('third time lucky');
      expect(errors.map((e) => e.code)).toEqual(['BAD_KEY', 'HANDSHAKE_FAILED']);
      expect(errors[1]!.message).toMatch(/no key today/);
    } finally {
      await server.close();
    }
  });

  it('over TCP, close() ends connections still waiting for a per-session key as CLOSED, and the client fails', async () => {
    const pool = { take: () => undefined, acquire: () => new Promise<KeyPair>(() => {}), close: () => {} }; // never ready
    const errors: SealwireError[] = [];
    const server = createServer({ key: serverKey, suite: 'cbcmac', openServerForTestingOnly: () => ({ resources: pool, close: () => {} }) });
    server.on('handshakeError', (e: SealwireError) => errors.push(e));
    const { port } = await server.listen(0, '127.0.0.1');
    const client = connect({ port, suite: 'cbcmac', serverKey: serverKey.publicKey });
    const failed = expect(client).rejects.toBeInstanceOf(SealwireError);
    // Wait (bounded) until the server holds the connection, waiting for its key (a private field:
    // nothing public tells a waiting connection apart).
    const pending = (server as unknown as { pending: Set<unknown> }).pending;
    for (let i = 0; i < 200 && pending.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(pending.size).toBe(1);
    await server.close();
    await failed;
    expect(errors.map((e) => e.code)).toEqual(['CLOSED']);
  });

  describe('the per-session key pool (worker thread)', () => {
    let pool: RsaKeyPool;
    afterAll(() => pool?.close());

    it('fills off the event loop, hands each key out once, and serves a waiting acquire when empty', async () => {
      pool = new RsaKeyPool({ bits: 2048, capacity: 2, lowWater: 1 });
      // The event loop keeps turning while the worker generates.
      let turns = 0;
      const spin = setInterval(() => turns++, 1);
      const first = await pool.acquire();
      clearInterval(spin);
      expect(turns).toBeGreaterThan(0);
      const keys = [first, await pool.acquire(), await pool.acquire()];
      const fingerprints = new Set(keys.map((k) => k.publicKey.fingerprint));
      expect(fingerprints.size).toBe(3);
      expect(keys.every((k) => k.publicKey.bits === 2048)).toBe(true);
      expect(pool.generated).toBeGreaterThanOrEqual(3);
      pool.close();
      await expect(pool.acquire()).rejects.toBeInstanceOf(SealwireError);
    }, 60_000);

    it('over TCP, connections beyond what the pool holds wait for keys and all succeed', async () => {
      let server: SealwireServer | undefined;
      try {
        server = createServer({
          key: serverKey,
          suite: 'cbcmac',
          openServerForTestingOnly: (key) => {
            const p = new RsaKeyPool({ bits: key.publicKey.bits, capacity: 1, lowWater: 1 });
            return { resources: p, close: () => p.close() };
          },
        }, (s) => s.pipe(s));
        const { port } = await server.listen(0, '127.0.0.1');
        const results = await Promise.all(
          Array.from({ length: 3 }, async (_, i) => {
            const session = await connect({ port, suite: 'cbcmac', serverKey: serverKey.publicKey });
            const got = collect(session);
            session.end(`client ${i}`);
            return (await got).toString();
          }),
        );
        expect(results.sort()).toEqual(['client 0', 'client 1', 'client 2']);
      } finally {
        await server?.close();
      }
    }, 60_000);
  });
});
