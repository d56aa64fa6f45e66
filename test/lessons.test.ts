/**
 * One test (or a few) per bug in docs/DESIGN.md §10 that applies to the TCP box suite now.
 *
 * - Nonce not incremented on failure: a record that fails to authenticate **kills the session**
 *   (sticky BAD_RECORD; later records, even genuine ones, are ignored), and the receive direction
 *   below it does not advance its counter either, so nothing can desynchronise it.
 * - One key, two directions: the directions have different keys (crypto_kx) *and* different nonce
 *   prefixes ('C' / 'S'), so record 0 each way never shares a (key, nonce), and a record reflected
 *   back to its sender does not open.
 * - Delimiter framing: binary records full of would-be delimiters arrive exactly.
 * - Stalled drain: a writer that waits for 'drain' gets it, and everything arrives (memory pair
 *   and loopback TCP).
 * - Amplification: before the client is authenticated, every server message is at most as large
 *   as the client message it answers (Hello ≥ Cookie, KeyQuery ≥ KeyReply, Vouch ≥ Ready).
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { connect, createServer, generateKeyPair, memoryPair, type SecureSession } from '../src/index.js';
import { boxSuite } from '../src/suites/box/index.js';
import { BoxRecordCipher } from '../src/suites/box/records.js';
import { COOKIE_SIZE, Direction, HELLO_SIZE, KEY_QUERY_SIZE, KEY_REPLY_SIZE, MessageType, READY_SIZE, VOUCH_SIZE, counterNonce } from '../src/suites/box/messages.js';
import { ReceiveDirection, SendDirection } from '../src/record/direction.js';
import { ContentType } from '../src/record/content-type.js';
import { frameHeader } from '../src/record/frame.js';
import { SessionPipe, type Tamper } from './helpers/pipe.js';
import { seededRngForTestingOnly } from './helpers/rng.js';
import { withTimeout } from './helpers/streams.js';

const serverKey = generateKeyPair('x25519');
const clientKey = generateKeyPair('x25519');

function boxPipe(opts: { tamper?: Tamper; learn?: boolean } = {}): SessionPipe {
  return new SessionPipe(
    boxSuite.client({
      key: clientKey,
      server: opts.learn ? { kind: 'learn', verify: () => {} } : { kind: 'pinned', key: serverKey.publicKey },
      rng: seededRngForTestingOnly('lessons-client'),
    }),
    boxSuite.server({ key: serverKey, authorize: () => true, rng: seededRngForTestingOnly('lessons-server') }),
    { tamper: opts.tamper },
  ).run();
}

const isData = (frame: Buffer): boolean => frame[4] === ContentType.DATA;

describe('lesson: increment the receive nonce only after a record authenticates', () => {
  it('the box receive direction stays put on a forged record and opens the genuine one after it', () => {
    const key = randomBytes(32);
    const send = new SendDirection(new BoxRecordCipher(Buffer.from(key), Direction.CLIENT_TO_SERVER));
    const recv = new ReceiveDirection(new BoxRecordCipher(Buffer.from(key), Direction.CLIENT_TO_SERVER));
    const header = frameHeader(ContentType.DATA, 16 + 5);
    const record = Buffer.concat(send.seal(ContentType.DATA, header, Buffer.from('hello')));
    const body = record.subarray(5);
    const forged = Buffer.from(body);
    forged[forged.length - 1]! ^= 1;
    for (let i = 0; i < 3; i++) expect(() => recv.open(ContentType.DATA, header, forged)).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
    expect(recv.sequence).toBe(0n);
    expect(Buffer.from(recv.open(ContentType.DATA, header, body)).toString()).toBe('hello');
    expect(recv.sequence).toBe(1n);
  });

  it('a session that receives a forged record fails for good: genuine records after it are not delivered', () => {
    let held: Buffer | undefined;
    const p = boxPipe({
      tamper: (from, frame) => {
        if (from !== 'client' || !isData(frame) || held) return [frame];
        held = Buffer.from(frame);
        const forged = Buffer.from(frame);
        forged[forged.length - 1]! ^= 1;
        return [forged];
      },
    });
    p.client.send(Buffer.from('first'));
    p.flush();
    // The attacker now delivers the genuine record and a later one: both ignored.
    p.inject('server', held!);
    p.client.send(Buffer.from('second'));
    p.flush();
    expect(p.errors('server').map((e) => e.code)).toEqual(['BAD_RECORD']);
    expect(p.server.phase).toBe('failed');
    expect(p.received('server').length).toBe(0);
  });
});

describe('lesson: one key, two directions, two nonce spaces', () => {
  it('record 0 of each direction uses a different nonce prefix', () => {
    const c = counterNonce(ContentType.DATA, Direction.CLIENT_TO_SERVER, 0n);
    const s = counterNonce(ContentType.DATA, Direction.SERVER_TO_CLIENT, 0n);
    expect(c.equals(s)).toBe(false);
    // Even under one key, the same plaintext at sequence 0 seals differently each way.
    const key = randomBytes(32);
    const header = frameHeader(ContentType.DATA, 16 + 4);
    const a = Buffer.concat(new BoxRecordCipher(Buffer.from(key), Direction.CLIENT_TO_SERVER).seal(ContentType.DATA, 0n, header, Buffer.from('same')));
    const b = Buffer.concat(new BoxRecordCipher(Buffer.from(key), Direction.SERVER_TO_CLIENT).seal(ContentType.DATA, 0n, header, Buffer.from('same')));
    expect(a.equals(b)).toBe(false);
  });

  it('the first records each way differ, and a record reflected to its sender does not open', () => {
    const p = boxPipe();
    p.client.send(Buffer.from('same text'));
    p.server.send(Buffer.from('same text'));
    p.flush();
    const c0 = p.wire.client.find(isData)!;
    const s0 = p.wire.server.find(isData)!;
    expect(c0.subarray(5).equals(s0.subarray(5))).toBe(false);
    p.inject('client', c0);
    expect(p.errors('client').map((e) => e.code)).toEqual(['BAD_RECORD']);
  });
});

describe('lesson: delimiters break on binary data; length-prefix everything', () => {
  it('delivers records made of delimiter bytes, random bytes and length-like prefixes exactly', () => {
    const p = boxPipe();
    const rng = seededRngForTestingOnly('delimiters');
    const messages: Buffer[] = [
      Buffer.from('ciphertext@nonce@tag'),
      Buffer.alloc(500, '@'),
      Buffer.from([0, 0, 0, 5, 0x10, 0, 0, 0, 0]),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
      Buffer.from('\n\r\n\0'),
    ];
    for (let i = 0; i < 200; i++) messages.push(rng(1 + (rng(2).readUInt16BE(0) % 600)));
    for (const m of messages) p.client.send(m);
    p.flush();
    const got = p.events.server.flatMap((e) => (e.type === 'data' ? [Buffer.from(e.data)] : []));
    expect(got).toHaveLength(messages.length);
    got.forEach((g, i) => expect(g.equals(messages[i]!)).toBe(true));
    expect(p.errors('server')).toEqual([]);
  });
});

/**
 * Writes `total` bytes, waiting for 'drain' whenever write() says so; counts the waits. `onStall`
 * runs at the first stall (the test lets the reader start reading only then).
 */
async function writeWithBackpressure(session: SecureSession, total: number, onStall: () => void): Promise<{ data: Buffer; drains: number }> {
  const data = randomBytes(total);
  let drains = 0;
  for (let off = 0; off < total; off += 64 * 1024) {
    if (!session.write(data.subarray(off, off + 64 * 1024))) {
      if (drains === 0) onStall();
      await withTimeout(new Promise((r) => session.once('drain', r)), 5_000, `no 'drain' after ${off} bytes`);
      drains++;
    }
  }
  session.end();
  return { data, drains };
}

/** A receiver that reads nothing until resumed (when the writer has stalled once), then everything. */
function slowReader(s: SecureSession): Promise<Buffer> {
  s.pause();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}

describe('lesson: forward drain (a writer that waits for drain gets it)', () => {
  const TOTAL = 8 * 1024 * 1024;

  it('over the in-memory pair', async () => {
    let received: Promise<Buffer> | undefined;
    let serverSide: SecureSession | undefined;
    const server = createServer({ key: serverKey, anyClient: true }, (s) => {
      serverSide = s;
      received = slowReader(s);
    });
    const [a, b]: [Duplex, Duplex] = memoryPair();
    server.handleConnection(b);
    const session = await connect({ socket: a, serverKey: serverKey.publicKey, key: clientKey });
    const writing = writeWithBackpressure(session, TOTAL, () => serverSide!.resume());
    const { data, drains } = await withTimeout(writing, 10_000, 'writer stalled');
    expect(drains).toBeGreaterThan(0);
    expect((await withTimeout(received!, 10_000, 'reader stalled')).equals(data)).toBe(true);
    await server.close();
  });

  it('over loopback TCP', async () => {
    let received: Promise<Buffer> | undefined;
    let gotSession!: () => void;
    const serverReady = new Promise<void>((r) => (gotSession = r));
    let serverSide: SecureSession | undefined;
    const server = createServer({ key: serverKey, anyClient: true }, (s) => {
      serverSide = s;
      received = slowReader(s);
      gotSession();
    });
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      const session = await connect({ host: '127.0.0.1', port, serverKey: serverKey.publicKey, key: clientKey });
      await withTimeout(serverReady, 5_000, 'no server session');
      const writing = writeWithBackpressure(session, TOTAL, () => serverSide!.resume());
      const { data, drains } = await withTimeout(writing, 10_000, 'writer stalled');
      expect(drains).toBeGreaterThan(0);
      expect((await withTimeout(received!, 10_000, 'reader stalled')).equals(data)).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('lesson: never amplify before the peer is authenticated', () => {
  it('box message sizes: Hello ≥ Cookie, KeyQuery ≥ KeyReply, Vouch ≥ Ready', () => {
    expect(HELLO_SIZE).toBeGreaterThanOrEqual(COOKIE_SIZE);
    expect(KEY_QUERY_SIZE).toBeGreaterThanOrEqual(KEY_REPLY_SIZE);
    expect(VOUCH_SIZE).toBeGreaterThanOrEqual(READY_SIZE);
  });

  it('on the wire, each server handshake frame is no larger than the client frame it answers', () => {
    for (const learn of [false, true]) {
      const p = boxPipe({ learn });
      const clientHs = p.wire.client.filter((f) => f[4]! < 0x10);
      const serverHs = p.wire.server.filter((f) => f[4]! < 0x10);
      expect(serverHs.length).toBe(clientHs.length);
      serverHs.forEach((s, i) => expect(s.length).toBeLessThanOrEqual(clientHs[i]!.length));
      const hello = clientHs.find((f) => f[4] === MessageType.HELLO)!;
      const cookie = serverHs.find((f) => f[4] === MessageType.COOKIE)!;
      expect(hello.length).toBeGreaterThanOrEqual(cookie.length);
    }
  });

  it('a server answers a Hello alone with no more bytes than the Hello', () => {
    const p = boxPipe();
    const hello = p.wire.client.find((f) => f[4] === MessageType.HELLO)!;
    const fresh = new SessionPipe(
      boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng: seededRngForTestingOnly('x') }),
      boxSuite.server({ key: serverKey, authorize: () => true, rng: seededRngForTestingOnly('y') }),
    );
    fresh.server.start();
    fresh.server.receive(hello);
    const answer = Buffer.concat(fresh.server.takeOutput());
    expect(answer.length).toBeGreaterThan(0);
    expect(answer.length).toBeLessThanOrEqual(hello.length);
  });
});
