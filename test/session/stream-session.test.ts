/**
 * session/stream-session.ts as a pure state machine: first with a transparent handshake (so any
 * record can be forged), then with the real box suite through the in-memory pipe.
 */
import { describe, expect, it } from 'vitest';
import { StreamSession, type SessionEvent } from '../../src/session/stream-session.js';
import { encodeFrame } from '../../src/record/frame.js';
import { ContentType } from '../../src/record/content-type.js';
import { MAX_FRAME_BODY, MAX_PLAINTEXT, SEQUENCE_HARD_LIMIT } from '../../src/record/limits.js';
import { SealwireError } from '../../src/errors.js';
import { boxSuite } from '../../src/suites/box/index.js';
import { generateKeyPair } from '../../src/keys/key.js';
import { SessionPipe } from '../helpers/pipe.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';
import { FakeHandshake, forgeRecord } from './fake.js';

const codes = (events: SessionEvent[]): string[] => events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []));
const data = (events: SessionEvent[]): string => events.flatMap((e) => (e.type === 'data' ? [Buffer.from(e.data).toString()] : [])).join('');

/** An open server-side session driven by hand (client side is the test). */
function openServer(opts: { data?: Uint8Array[]; testing?: { initialSequenceForTestingOnly?: bigint } } = {}): { s: StreamSession; hs: FakeHandshake } {
  const hs = new FakeHandshake('server', { data: opts.data });
  const s = new StreamSession(hs, { now: 1000, handshakeTimeoutMs: 500, testing: opts.testing });
  s.start();
  s.receive(encodeFrame(0x01, Buffer.from('hello')));
  expect(s.phase).toBe('open');
  return { s, hs };
}

describe('session/stream-session with a transparent handshake', () => {
  it('goes secure on the handshake, wipes the handshake, and reports data from inside it', () => {
    const { s, hs } = openServer({ data: [Buffer.from('early'), Buffer.alloc(0)] });
    const ev = s.takeEvents();
    expect(ev.map((e) => e.type)).toEqual(['secure', 'data']);
    expect(data(ev)).toBe('early');
    expect(hs.wiped).toBeGreaterThan(0);
    expect(s.takeOutput().map((b) => Buffer.from(b)[4])).toEqual([0x02]);
    expect(s.nextTimeout()).toBeUndefined();
  });

  it('opens forged-but-valid records in order, and refuses a replay or a reorder', () => {
    const { s } = openServer();
    s.takeEvents();
    s.receive(Buffer.concat([forgeRecord(0x10, 0n, Buffer.from('a')), forgeRecord(0x10, 1n, Buffer.from('b'))]));
    expect(data(s.takeEvents())).toBe('ab');
    s.receive(forgeRecord(0x10, 1n, Buffer.from('b')));
    expect(codes(s.takeEvents())).toEqual(['BAD_RECORD']);
    expect(s.phase).toBe('failed');
  });

  it('ignores empty data records, ends on a close record, and refuses anything after it', () => {
    const { s } = openServer();
    s.takeEvents();
    s.receive(forgeRecord(0x10, 0n, Buffer.alloc(0)));
    s.receive(forgeRecord(ContentType.CLOSE, 1n, Buffer.alloc(0)));
    expect(s.takeEvents().map((e) => e.type)).toEqual(['end']);
    expect(s.receiveClosed).toBe(true);
    // Half-close: this side may still send.
    s.takeOutput();
    s.send(Buffer.from('still here'));
    expect(Buffer.concat(s.takeOutput()).subarray(5, 15).toString()).toBe('still here');
    s.receive(forgeRecord(0x10, 2n, Buffer.from('late')));
    expect(codes(s.takeEvents())).toEqual(['BAD_RECORD']);
  });

  it('refuses a close record with a payload, an unknown type, and an oversized frame', () => {
    for (const bad of [forgeRecord(ContentType.CLOSE, 0n, Buffer.from('x')), forgeRecord(0x07, 0n, Buffer.from('x'))]) {
      const { s } = openServer();
      s.receive(bad);
      expect(codes(s.takeEvents())).toEqual(['BAD_RECORD']);
    }
    const { s } = openServer();
    const big = Buffer.alloc(4);
    big.writeUInt32BE(MAX_FRAME_BODY + 1, 0);
    s.receive(big);
    expect(codes(s.takeEvents())).toEqual(['TOO_LARGE']);
  });

  it('keeps the first error: one error event, later input ignored, sends throw it, keys wiped', () => {
    const { s, hs } = openServer();
    s.takeEvents();
    s.receive(forgeRecord(0x10, 0n, Buffer.from('x'), 0));
    s.receive(forgeRecord(0x10, 0n, Buffer.from('y')));
    s.receiveEnd();
    s.handleTimeout(1e9);
    s.fail(new SealwireError('IO', 'later'));
    const ev = s.takeEvents();
    expect(codes(ev)).toEqual(['BAD_RECORD']);
    expect(s.error?.code).toBe('BAD_RECORD');
    expect(() => s.send(Buffer.from('z'))).toThrow(s.error!);
    expect(s.takeOutput()).toEqual([]);
    expect(hs.ciphers.send.wiped && hs.ciphers.receive.wiped).toBe(true);
  });

  it('refuses to send before the handshake and after end()', () => {
    const s = new StreamSession(new FakeHandshake('client'), { now: 0 });
    s.start();
    expect(() => s.send(Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    const { s: open } = openServer();
    open.end();
    open.end(); // idempotent
    expect(open.sendClosed).toBe(true);
    expect(() => open.send(Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });

  it('splits data above 64 KiB into records and coalesces small writes', () => {
    const { s } = openServer();
    s.takeOutput();
    s.send(Buffer.alloc(MAX_PLAINTEXT * 2 + 1, 1));
    const frames = s.takeOutput();
    expect(frames.length).toBe(3 * 3); // header, body, check byte per record
    s.sendMany([Buffer.from('a'), Buffer.from('b'), Buffer.alloc(0), Buffer.from('c')]);
    expect(s.takeOutput().length).toBe(3);
    s.send(Buffer.alloc(0));
    expect(s.takeOutput()).toEqual([]);
  });

  it('reports a record before the handshake, an FIN during it, and a handshake throw as HANDSHAKE_FAILED', () => {
    const a = new StreamSession(new FakeHandshake('server'), { now: 0 });
    a.receive(forgeRecord(0x10, 0n, Buffer.from('x')));
    expect(codes(a.takeEvents())).toEqual(['HANDSHAKE_FAILED']);
    const b = new StreamSession(new FakeHandshake('server'), { now: 0 });
    b.receiveEnd();
    const [e] = b.takeEvents();
    expect(e?.type === 'error' && e.error.code === 'HANDSHAKE_FAILED' && e.error.message.includes('the fake hello')).toBe(true);
    const c = new StreamSession(new FakeHandshake('server', { throwOnReceive: new RangeError('oops') }), { now: 0 });
    c.receive(encodeFrame(0x01, Buffer.alloc(0)));
    const [f] = c.takeEvents();
    expect(f?.type === 'error' && f.error instanceof SealwireError && f.error.code === 'HANDSHAKE_FAILED').toBe(true);
  });

  it('reports a FIN without the close record as TRUNCATED, and a clean one as nothing', () => {
    const { s } = openServer();
    s.takeEvents();
    s.receiveEnd();
    expect(codes(s.takeEvents())).toEqual(['TRUNCATED']);
    const { s: clean } = openServer();
    clean.takeEvents();
    clean.receive(forgeRecord(ContentType.CLOSE, 0n, Buffer.alloc(0)));
    clean.receiveEnd();
    expect(clean.takeEvents().map((e) => e.type)).toEqual(['end']);
    const { s: partial } = openServer();
    partial.receive(Buffer.concat([forgeRecord(ContentType.CLOSE, 0n, Buffer.alloc(0)), Buffer.from([0, 0])]));
    partial.receiveEnd();
    expect(codes(partial.takeEvents())).toEqual(['TRUNCATED']);
  });

  it('times the handshake out at the deadline, not before', () => {
    const s = new StreamSession(new FakeHandshake('client'), { now: 1000, handshakeTimeoutMs: 500 });
    s.start();
    expect(s.nextTimeout()).toBe(1500);
    s.handleTimeout(1499);
    expect(s.takeEvents()).toEqual([]);
    s.handleTimeout(1500);
    expect(codes(s.takeEvents())).toEqual(['TIMEOUT']);
  });

  it('refuses to send at the sequence hard limit with LIMIT', () => {
    const { s } = openServer({ testing: { initialSequenceForTestingOnly: SEQUENCE_HARD_LIMIT - 1n } });
    s.send(Buffer.from('last'));
    expect(() => s.send(Buffer.from('one too many'))).toThrow(expect.objectContaining({ code: 'LIMIT' }));
  });
});

describe('session/stream-session with the box suite', () => {
  const serverKey = generateKeyPair('x25519');
  const clientKey = generateKeyPair('x25519');
  const pipe = (): SessionPipe =>
    new SessionPipe(
      boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng: seededRngForTestingOnly('c') }),
      boxSuite.server({ key: serverKey, authorize: () => true, rng: seededRngForTestingOnly('s') }),
    ).run();

  it('carries data both ways and half-closes each direction', () => {
    const p = pipe();
    expect(p.secure('client') && p.secure('server')).toBe(true);
    expect(p.server.peerPublicKey?.equals(clientKey.publicKey)).toBe(true);
    expect(p.client.peerPublicKey?.equals(serverKey.publicKey)).toBe(true);
    p.client.send(Buffer.from('ping'));
    p.client.end();
    p.flush();
    expect(p.received('server').toString()).toBe('ping');
    expect(p.ended('server')).toBe(true);
    p.server.send(Buffer.from('pong'));
    p.server.end();
    p.flush().endBoth();
    expect(p.received('client').toString()).toBe('pong');
    expect(p.errors('client')).toEqual([]);
    expect(p.errors('server')).toEqual([]);
  });

  it('gives identical transcripts for identical seeds (deterministic core)', () => {
    const a = pipe();
    const b = pipe();
    expect(Buffer.concat(a.wire.client).equals(Buffer.concat(b.wire.client))).toBe(true);
    expect(Buffer.concat(a.wire.server).equals(Buffer.concat(b.wire.server))).toBe(true);
  });
});

describe('session/stream-session: errors a peer causes', () => {
  it('reports truncation and a close during the handshake as SealwireErrors without a stack trace', () => {
    const { s } = openServer();
    s.takeEvents();
    s.receiveEnd();
    const [ev] = s.takeEvents();
    expect(ev?.type).toBe('error');
    const err = ev?.type === 'error' ? ev.error : null;
    expect(err).toBeInstanceOf(SealwireError);
    expect(err?.code).toBe('TRUNCATED');
    // Only the message line: no frames to format for every client that hangs up.
    expect(err?.stack?.split('\n')).toEqual([`SealwireError: ${err?.message}`]);
    const h = new StreamSession(new FakeHandshake('server'), { now: 0 });
    h.start();
    h.receiveEnd();
    const e2 = h.takeEvents().find((e) => e.type === 'error');
    expect(e2?.type === 'error' && e2.error.code).toBe('HANDSHAKE_FAILED');
    expect(e2?.type === 'error' && e2.error.stack?.includes('\n    at ')).toBe(false);
    // Errors of our own making keep their stack.
    expect(new SealwireError('INVALID_ARGUMENT', 'x').stack).toContain('\n    at ');
    expect(Error.stackTraceLimit).toBeGreaterThan(0);
  });
});
