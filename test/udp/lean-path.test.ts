/**
 * The lean per-record path of UDP: datagram sequence numbers as numbers across the 2^32 and key
 * epoch boundaries and at their limit, the send ring (slots reused only after the socket is done
 * with them, checked on a real loopback socket), `sealMessage`, message sinks, and what an idle
 * server session lets go of.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import type { RecordCipher } from '../../src/record/cipher.js';
import { DATAGRAM_SEQUENCE_LIMIT, DatagramReceiver, DatagramSender, DatagramType, RECORD_HEADER_SIZE } from '../../src/record/datagram.js';
import { BoxChachaRecordCipher } from '../../src/suites/box/records.js';
import { Direction } from '../../src/suites/box/messages.js';
import { SendRing } from '../../src/transport/send-ring.js';
import { generateKeyPair } from '../../src/keys/key.js';
import { boxSuite } from '../../src/suites/box/index.js';
import type { DatagramServerOptions } from '../../src/session/datagram-server.js';
import { DatagramNet } from '../helpers/datagram-net.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';

const KEY = Buffer.alloc(32, 0x42);
const CID = Buffer.alloc(8, 7);
const chacha = (): BoxChachaRecordCipher => new BoxChachaRecordCipher(Buffer.from(KEY), Direction.CLIENT_TO_SERVER);

/** A box cipher whose key lasts `perKey` records; counts its opens (to see what was decrypted). */
function withRecordsPerKey(inner: RecordCipher, perKey: bigint, opens = { n: 0 }): RecordCipher & { opens: { n: number } } {
  return {
    opens,
    overhead: inner.overhead,
    recordsPerKey: perKey,
    seal: (type, seq, header, plaintext, allocate) => inner.seal(type, seq, header, plaintext, allocate),
    open: (type, seq, header, body) => {
      opens.n++;
      return inner.open(type, seq, header, body);
    },
    next: () => withRecordsPerKey(inner.next(), perKey, opens),
    wipe: () => inner.wipe(),
  };
}

const seqOf = (d: Uint8Array): bigint => Buffer.from(d.buffer, d.byteOffset, d.byteLength).readBigUInt64BE(9);

describe('datagram sequence numbers as numbers', () => {
  it('writes the 64-bit sequence across 2^32 and turns the key over at the epoch boundary (box: 2^32 records per key)', () => {
    const start = 2 ** 32 - 2;
    const s = new DatagramSender(chacha(), CID, 'layer', { initialSequenceForTestingOnly: start });
    const r = new DatagramReceiver(chacha());
    const sealed = [0, 1, 2, 3].map((i) => s.seal(DatagramType.DATA, Buffer.from(`m${i}`)));
    expect(sealed.map(seqOf)).toEqual([0xffff_fffen, 0xffff_ffffn, 0x1_0000_0000n, 0x1_0000_0001n]);
    expect(s.sequence).toBe(2 ** 32 + 2);
    // The records after the boundary are under the next key: not the first key's.
    expect(new DatagramReceiver(chacha()).receive(Buffer.from(sealed[2]!))).not.toBeNull(); // epoch 1 is "next" for a fresh receiver
    expect(Buffer.from(r.open(Buffer.from(sealed[0]!))).toString()).toBe('m0');
    expect(Buffer.from(r.open(Buffer.from(sealed[2]!))).toString()).toBe('m2'); // moves the receiver to epoch 1
    expect(Buffer.from(r.open(Buffer.from(sealed[3]!))).toString()).toBe('m3');
    // Epoch 0's key is gone: its last record, never seen, no longer opens.
    expect(() => r.open(Buffer.from(sealed[1]!))).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
    expect(() => r.open(Buffer.from(sealed[3]!))).toThrow(expect.objectContaining({ code: 'REPLAY' }));
  });

  it('refuses a record two epochs ahead (a key it cannot hold) without moving anything', () => {
    const opens = { n: 0 };
    const perKey = 1000n;
    const s = new DatagramSender(withRecordsPerKey(chacha(), perKey), CID, 'layer', { initialSequenceForTestingOnly: 2000 });
    const r = new DatagramReceiver(withRecordsPerKey(chacha(), perKey, opens));
    const far = s.seal(DatagramType.DATA, Buffer.from('x'));
    expect(r.receive(Buffer.from(far))).toBeNull();
    expect(r.dropReason).toBe('BAD_RECORD');
    expect(opens.n).toBe(0);
    // Records of epochs 0 and 1 still open.
    const near = new DatagramSender(withRecordsPerKey(chacha(), perKey), CID, 'layer', { initialSequenceForTestingOnly: 999 });
    expect(Buffer.from(r.open(Buffer.from(near.seal(DatagramType.DATA, Buffer.from('a'))))).toString()).toBe('a');
    expect(Buffer.from(r.open(Buffer.from(near.seal(DatagramType.DATA, Buffer.from('b'))))).toString()).toBe('b');
  });

  it('stops the sender with LIMIT at 2^53 - 1 and refuses that number and above before decrypting', () => {
    const perKey = 1n << 60n; // one key for every number a session can reach
    const s = new DatagramSender(withRecordsPerKey(chacha(), perKey), CID, 'layer', { initialSequenceForTestingOnly: DATAGRAM_SEQUENCE_LIMIT - 2 });
    const opens = { n: 0 };
    const r = new DatagramReceiver(withRecordsPerKey(chacha(), perKey, opens));
    const a = s.seal(DatagramType.DATA, Buffer.from('a'));
    const b = s.seal(DatagramType.DATA, Buffer.from('b'));
    expect(seqOf(b)).toBe(BigInt(DATAGRAM_SEQUENCE_LIMIT) - 1n);
    expect(() => s.seal(DatagramType.DATA, Buffer.from('c'))).toThrow(expect.objectContaining({ code: 'LIMIT' }));
    expect(() => s.seal(DatagramType.DATA, Buffer.from('c'))).toThrow(expect.objectContaining({ code: 'LIMIT' }));
    expect(Buffer.from(r.open(Buffer.from(b))).toString()).toBe('b');
    expect(Buffer.from(r.open(Buffer.from(a))).toString()).toBe('a');
    expect(opens.n).toBe(2);
    for (const seq of [BigInt(DATAGRAM_SEQUENCE_LIMIT), 1n << 53n, 0xffff_ffff_ffff_fffen, 0xffff_ffff_ffff_ffffn]) {
      const forged = Buffer.from(b);
      forged.writeBigUInt64BE(seq, 9);
      expect(() => r.open(forged)).toThrow(expect.objectContaining({ code: 'REPLAY' }));
    }
    expect(opens.n).toBe(2); // refused from the header alone
  });

  it('counts a forged record as BAD_RECORD without an exception on the per-record path', () => {
    const s = new DatagramSender(chacha(), CID);
    const r = new DatagramReceiver(chacha(), 'layer', true);
    const d = Buffer.from(s.seal(DatagramType.DATA, Buffer.from('hello')));
    const forged = Buffer.from(d);
    forged[RECORD_HEADER_SIZE] = forged[RECORD_HEADER_SIZE]! ^ 1;
    expect(r.receive(forged)).toBeNull();
    expect(r.dropReason).toBe('BAD_RECORD');
    expect(Buffer.from(r.receive(d)!).toString()).toBe('hello');
    expect(r.receive(Buffer.from(s.seal(DatagramType.DATA, Buffer.alloc(0))))).not.toBeNull();
  });
});

describe('send ring', () => {
  it('hands out slots, calls back now and then, and reuses a slot only after its callback', () => {
    const ring = new SendRing();
    const first = ring.allocate(100);
    const cb = ring.callbackFor(first);
    expect(cb).toBeTypeOf('function'); // the first send after a quiet moment is marked
    const views = [first];
    const marks = [cb];
    for (let i = 1; i < 40; i++) {
      const v = ring.allocate(100);
      views.push(v);
      marks.push(ring.callbackFor(v));
    }
    // Slots 0 and 16 and 32 carry callbacks; nothing is reused while they are pending.
    expect(marks.map((m, i) => (m ? i : -1)).filter((i) => i >= 0)).toEqual([0, 16, 32]);
    expect(new Set(views.map((v) => v.buffer)).size).toBe(40);
    expect(ring.inFlight).toBe(40);
    marks[0]!();
    marks[16]!();
    expect(ring.inFlight).toBe(40 - 17);
    marks[32]!();
    expect(ring.inFlight).toBe(40 - 33);
  });

  it('falls back to fresh buffers when every slot is in flight or a record is larger than a slot', () => {
    const ring = new SendRing();
    const slots = new Set<ArrayBufferLike>();
    const callbacks: (() => void)[] = [];
    for (let i = 0; i < 100; i++) {
      const v = ring.allocate(1233);
      slots.add(v.buffer);
      const cb = ring.callbackFor(v);
      if (cb) callbacks.push(cb);
    }
    expect(ring.created).toBe(64);
    expect(ring.inFlight).toBe(64);
    const big = ring.allocate(4000);
    expect(big.length).toBe(4000);
    expect(ring.callbackFor(big)).toBeUndefined();
    // Marks at slots 0, 16, 32 and 48: once they have run, slots up to 48 are free, 49–63 not yet.
    expect(callbacks.length).toBe(4);
    for (const cb of callbacks) cb();
    expect(ring.inFlight).toBe(15);
    const again = ring.allocate(10);
    expect(slots.has(again.buffer)).toBe(true); // slot 0 again, no new memory
    expect(ring.created).toBe(64);
    expect(ring.callbackFor(again)).toBeTypeOf('function');
  });

  it('drops the mark of a send that threw (its callback never runs)', () => {
    const ring = new SendRing();
    const v = ring.allocate(10);
    const cb = ring.callbackFor(v);
    ring.unsent(cb);
    const w = ring.allocate(10);
    expect(ring.callbackFor(w)).toBeTypeOf('function'); // no mark pending: this one is marked
  });

  it('never rewrites a slot before the socket is done with it, when sends complete late and in order', async () => {
    // A socket that completes sends only later (as libuv does when it has to queue), in order, and
    // checks at completion that each datagram still holds what it held when it was handed over.
    const queue: { d: Uint8Array; copy: Buffer; cb: (() => void) | undefined }[] = [];
    let corrupted = 0;
    let completed = 0;
    const complete = (): void => {
      for (const q of queue.splice(0)) {
        if (!Buffer.from(q.d).equals(q.copy)) corrupted++;
        completed++;
        q.cb?.();
      }
    };
    const ring = new SendRing();
    const rng = seededRngForTestingOnly('late sends');
    let n = 0;
    for (let burst = 0; burst < 200; burst++) {
      const count = 1 + (rng(1)[0]! % 100); // sometimes more than the ring holds
      for (let i = 0; i < count; i++, n++) {
        const d = ring.allocate(200 + (n % 1000));
        d.fill(n & 0xff);
        queue.push({ d, copy: Buffer.from(d), cb: ring.callbackFor(d) });
      }
      // Half of the time the sends complete before the next burst, else they stay queued across it.
      if (rng(1)[0]! & 1) complete();
      await Promise.resolve();
    }
    complete();
    expect(completed).toBe(n);
    expect(corrupted).toBe(0);
    expect(ring.created).toBe(64);
  });

  it('never lets a slot be rewritten before the socket has sent it (bursts over a real loopback socket)', async () => {
    const rx = dgram.createSocket('udp4');
    const tx = dgram.createSocket('udp4');
    try {
      const received: Buffer[] = [];
      rx.on('message', (m) => received.push(m));
      await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', resolve));
      rx.setRecvBufferSize(4 * 1024 * 1024); // a burst must not overflow the receiver (the system may cap it)
      await new Promise<void>((resolve) => tx.connect(rx.address().port, '127.0.0.1', resolve));
      const ring = new SendRing();
      const BURSTS = 20;
      const PER_BURST = 80; // more than the ring holds: fallback buffers too
      let n = 0;
      for (let b = 0; b < BURSTS; b++) {
        for (let i = 0; i < PER_BURST; i++, n++) {
          const d = ring.allocate(1000);
          d.fill(n & 0xff);
          d.writeUInt32BE(n, 0);
          tx.send(d, ring.callbackFor(d));
        }
        await new Promise((resolve) => setTimeout(resolve, 5)); // the callbacks run, the receiver reads
      }
      const deadline = Date.now() + 5_000;
      while (received.length < n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(received.length).toBeGreaterThan(n / 2); // loopback may drop some under load; what arrives must be intact
      for (const m of received) {
        const k = m.readUInt32BE(0);
        expect(m.length).toBe(1000);
        expect(m.subarray(4).every((x) => x === (k & 0xff))).toBe(true);
      }
      expect(ring.created).toBeLessThanOrEqual(64);
    } finally {
      rx.close();
      tx.close();
    }
  });
});

const serverKey = generateKeyPair('x25519');
const clientKey = generateKeyPair('x25519');

function serverOptions(extra: Partial<DatagramServerOptions> = {}): DatagramServerOptions {
  return { suite: boxSuite, config: { key: serverKey, authorize: () => true, rng: seededRngForTestingOnly('lean server') }, ...extra };
}

function openClient(net: DatagramNet, seed: string) {
  const rng = seededRngForTestingOnly(seed);
  const connectionId = rng(8);
  const hs = boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng, connectionId });
  const c = net.addClient(hs, connectionId);
  expect(net.runUntil(() => c.session.phase === 'open')).toBe(true);
  return c;
}

describe('sessions without event objects per message', () => {
  it('sealMessage returns the one datagram of a small message and queues the fragments of a large one', () => {
    const net = new DatagramNet(serverOptions());
    const c = openClient(net, 'seal');
    c.session.takeOutput();
    const d = c.session.sealMessage(Buffer.from('small'), net.now);
    expect(d).not.toBeNull();
    expect(c.session.takeOutput()).toEqual([]);
    expect(c.session.sealMessage(Buffer.alloc(5000, 1), net.now)).toBeNull();
    expect(c.session.takeOutput().length).toBe(5);
    net.inject(d!, c.address);
    net.deliver();
    expect(net.messagesAt(c)).toEqual(['small']);
  });

  it('delivers to the server handler with the address already moved, and queues behind pending events', () => {
    const net = new DatagramNet(serverOptions());
    const c = openClient(net, 'sink');
    const entry = [...net.server.entries()][0]!;
    const got: string[] = [];
    const replies: { to: string; d: Uint8Array }[] = [];
    net.server.onMessage = (e, data) => {
      got.push(Buffer.from(data).toString());
      // An echo from inside the handler goes where the message came from (NAT rebinding).
      replies.push({ to: e.address.address, d: net.server.sendMessage(e, Buffer.from(`echo ${Buffer.from(data).toString()}`), net.now)! });
    };
    c.address = { address: '198.51.100.9', port: 4242 };
    net.clientSend(0, 'one');
    net.deliver();
    expect(got).toEqual(['one']);
    expect(net.messagesAt(c)).toEqual([]); // no event object for it
    expect(replies.map((r) => r.to)).toEqual(['198.51.100.9']);
    expect(entry.address).toEqual(c.address);
    c.session.receive(replies[0]!.d, net.now);
    expect(c.session.takeEvents()).toContainEqual({ type: 'message', data: expect.anything() });
    // While the endpoint holds an event nobody has taken yet, a message queues behind it.
    const garbage = Buffer.concat([Buffer.of(0x01), Buffer.alloc(8, 0xee), Buffer.alloc(60, 0xaa)]);
    net.server.receive(garbage, { address: '203.0.113.5', port: 9 }, net.now);
    c.session.send(Buffer.from('two'), net.now);
    for (const d of c.session.takeOutput()) net.server.receive(d, c.address, net.now);
    expect(got).toEqual(['one']);
    const events = net.server.takeEvents();
    expect(events.map((e) => (e.type === 'sessionEvent' ? `${e.type}:${e.event.type}` : e.type))).toEqual(['handshakeError', 'sessionEvent:message']);
    // Taken: the handler is used again.
    net.clientSend(0, 'three');
    net.deliver();
    expect(got).toEqual(['one', 'three']);
  });

  it('a client sink gets messages directly once attached, in order after the events before them', () => {
    const net = new DatagramNet(serverOptions());
    const c = openClient(net, 'client sink');
    c.session.takeEvents();
    const direct: string[] = [];
    c.session.messageSink = { message: (d) => direct.push(Buffer.from(d).toString()) };
    const entry = [...net.server.entries()][0]!;
    c.session.receive(net.server.sendMessage(entry, Buffer.from('a'), net.now)!, net.now);
    expect(direct).toEqual(['a']);
    // A notice (the server's 9-byte "handshake again") waits in the events: the next message waits behind it.
    c.session.receive(Buffer.concat([Buffer.of(DatagramType.HANDSHAKE_AGAIN), c.session.connectionId]), net.now);
    c.session.receive(net.server.sendMessage(entry, Buffer.from('b'), net.now)!, net.now);
    expect(direct).toEqual(['a']);
    const ev = c.session.takeEvents();
    expect(ev.map((e) => e.type)).toEqual(['notice', 'message']);
    c.session.receive(net.server.sendMessage(entry, Buffer.from('c'), net.now)!, net.now);
    expect(direct).toEqual(['a', 'c']);
  });
});

describe('what an idle server session keeps', () => {
  it('answers a repeated last handshake message until the first record, or for one handshake timeout at most', () => {
    const net = new DatagramNet(serverOptions({ handshakeTimeoutMs: 2_000 }));
    let lastHandshake: Uint8Array | null = null;
    net.hook = (d) => {
      if (d.from === 'client' && d.data[0]! < DatagramType.DATA) lastHandshake = Buffer.from(d.data);
      return [d.data];
    };
    const c = openClient(net, 'idle');
    const vouch = lastHandshake!;
    const entry = [...net.server.entries()][0]!;
    expect(entry.session.awaiting).toMatch(/nothing/); // the handshake object is gone
    const answers = (): number => {
      net.inject(vouch, c.address);
      net.deliver();
      return net.serverSteps.at(-1)!.replies.length;
    };
    net.advance(1_000);
    expect(answers()).toBe(1); // the client may not have the Ready: the same Ready again
    net.advance(1_100);
    expect(answers()).toBe(0); // past the handshake timeout: the client gave up waiting, the flight is gone
    expect(entry.session.phase).toBe('open');
    // A session whose client sent a record lets it go at once.
    const d = openClient(net, 'busy');
    const vouch2 = lastHandshake!;
    net.clientSend(1, 'hi');
    net.deliver();
    net.inject(vouch2, d.address);
    net.deliver();
    expect(net.serverSteps.at(-1)!.replies.length).toBe(0);
  });

  it('keeps nothing that pins a shared 8 KiB Buffer pool (the client key, the last flight)', () => {
    const net = new DatagramNet(serverOptions());
    openClient(net, 'pins');
    const entry = [...net.server.entries()][0]!;
    // Before: the key was a 32-byte slice of Buffer's pool, keeping all 8 KiB (and the garbage of
    // several handshakes in it) alive for the whole session.
    expect(entry.session.peerPublicKey!.bytes.buffer.byteLength).toBe(32);
    const flight = (entry.session as unknown as { lastFlight: Uint8Array[] | null }).lastFlight!;
    expect(flight.length).toBeGreaterThan(0);
    for (const d of flight) expect(d.buffer.byteLength).toBe(d.length);
  });
});
