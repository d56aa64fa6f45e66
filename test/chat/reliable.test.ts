/** The chat's reliability layer over a lossy, reordering, duplicating datagram network. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReliableCore, RELIABLE_ACK, RELIABLE_DATA } from '../../src/chat/reliable.js';
import { SealwireError } from '../../src/errors.js';
import { LossyNet } from './lossy.js';

const texts = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix} ${i}`);

describe('ReliableCore', () => {
  it('delivers 500 messages each way exactly once and in order through 20% loss, duplicates and reordering', () => {
    const net = new LossyNet({ loss: 0.2, duplicate: 0.1, minDelay: 1, maxDelay: 40 }, 1);
    const fromA = texts('a', 500);
    const fromB = texts('b', 500);
    fromA.forEach((t, i) => {
      net.send('a', t);
      net.send('b', fromB[i]!);
    });
    net.run();
    expect(net.a.error).toBeNull();
    expect(net.b.error).toBeNull();
    expect(net.delivered.b).toEqual(fromA);
    expect(net.delivered.a).toEqual(fromB);
    expect(net.a.idle && net.b.idle).toBe(true);
    expect(net.dropped).toBeGreaterThan(0);
    expect(net.a.stats.retransmitted).toBeGreaterThan(0);
    expect(net.b.stats.duplicates).toBeGreaterThan(0);
  });

  it('holds for any seed and impairment (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.double({ min: 0, max: 0.4, noNaN: true }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 64 }),
        (seed, loss, duplicate, n, window) => {
          const net = new LossyNet({ loss, duplicate, minDelay: 0, maxDelay: 100 }, seed, { window, maxAttempts: 60 });
          const sent = texts('m', n);
          for (const t of sent) net.send('a', t);
          net.run();
          expect(net.a.error).toBeNull();
          expect(net.delivered.b).toEqual(sent);
          expect(net.a.idle).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps at most `window` messages in flight and queues the rest', () => {
    const core = new ReliableCore({ window: 4 });
    for (let i = 0; i < 10; i++) core.send(Buffer.from([i]), 0);
    const out = core.takeOutput();
    expect(out).toHaveLength(4);
    expect(out.map((d) => d[0])).toEqual([RELIABLE_DATA, RELIABLE_DATA, RELIABLE_DATA, RELIABLE_DATA]);
    // An ACK of the first two lets two more go.
    const ack = Buffer.alloc(13);
    ack[0] = RELIABLE_ACK;
    ack.writeUInt32BE(2, 1);
    core.receive(ack, 1);
    expect(core.takeOutput()).toHaveLength(2);
  });

  it('counts the window from the oldest unacknowledged message, so a hole stops the sender', () => {
    const core = new ReliableCore({ window: 4 });
    for (let i = 0; i < 10; i++) core.send(Buffer.from([i]), 0);
    expect(core.takeOutput()).toHaveLength(4); // seq 0-3
    const ack = (next: number, bitmap: bigint): Buffer => {
      const b = Buffer.alloc(13);
      b[0] = RELIABLE_ACK;
      b.writeUInt32BE(next, 1);
      b.writeBigUInt64BE(bitmap, 5);
      return b;
    };
    core.receive(ack(0, 0b111n), 1); // 1, 2, 3 arrived; 0 is missing
    expect(core.takeOutput()).toEqual([]); // seq 4 would be outside 0 + 4
    core.receive(ack(4, 0n), 2);
    expect(core.takeOutput().map((d) => Buffer.from(d).readUInt32BE(1))).toEqual([4, 5, 6, 7]);
  });

  it('retransmits nothing on a network that loses nothing', () => {
    // Round trips of 20-30 ms stay below the 40 ms floor of the timeout, so no timer may fire.
    const net = new LossyNet({ loss: 0, duplicate: 0, minDelay: 10, maxDelay: 15 }, 3);
    for (const t of texts('x', 300)) net.send('a', t);
    net.run();
    expect(net.delivered.b).toHaveLength(300);
    expect(net.a.stats.retransmitted).toBe(0);
  });

  it('measures the round trip and shortens the retransmission timeout to it (not below the floor)', () => {
    const a = new ReliableCore({ initialRtoMs: 150, minRtoMs: 20 });
    const b = new ReliableCore();
    expect(a.currentRto).toBe(150);
    for (let i = 0; i < 20; i++) {
      const t = i * 100;
      a.send(Buffer.from([i]), t);
      for (const d of a.takeOutput()) b.receive(d, t + 5);
      for (const d of b.takeOutput()) a.receive(d, t + 10); // a 10 ms round trip
    }
    expect(a.currentRto).toBe(20);
    a.send(Buffer.from('next'), 5000);
    expect(a.nextTimeout()).toBe(5020);
  });

  it('retransmits with a doubling timeout and gives up with TIMEOUT when the peer is gone', () => {
    const core = new ReliableCore({ initialRtoMs: 100, maxRtoMs: 800, maxAttempts: 5 });
    core.send(Buffer.from('hello'), 0);
    core.takeOutput();
    const dues: number[] = [];
    let now = 0;
    for (let i = 0; i < 10 && !core.error; i++) {
      now = core.nextTimeout()!;
      dues.push(now);
      core.handleTimeout(now);
      core.takeOutput();
    }
    expect(dues).toEqual([100, 300, 700, 1500, 2300]);
    expect(core.error).toBeInstanceOf(SealwireError);
    expect(core.error!.code).toBe('TIMEOUT');
    expect(() => core.send(Buffer.from('x'), now)).toThrow(SealwireError);
  });

  it('acknowledges a duplicate again without delivering it twice', () => {
    const a = new ReliableCore();
    const b = new ReliableCore();
    a.send(Buffer.from('once'), 0);
    const [data] = a.takeOutput();
    expect(b.receive(data!, 0).map(String)).toEqual(['once']);
    expect(b.takeOutput()).toHaveLength(1);
    expect(b.receive(data!, 1)).toEqual([]);
    const [ack] = b.takeOutput();
    expect(ack![0]).toBe(RELIABLE_ACK);
    a.receive(ack!, 2);
    expect(a.idle).toBe(true);
  });

  it('refuses malformed datagrams with SealwireError, never a RangeError', () => {
    const core = new ReliableCore({ maxPayload: 100 });
    core.send(Buffer.from('x'), 0);
    const bad: Uint8Array[] = [
      Buffer.alloc(0),
      Buffer.from([0x7f]),
      Buffer.from([RELIABLE_DATA, 0, 0]),
      Buffer.from([RELIABLE_ACK, 0, 0, 0, 0]),
      Buffer.concat([Buffer.from([RELIABLE_ACK, 0, 0, 0, 9]), Buffer.alloc(8)]), // acknowledges unsent
      Buffer.concat([Buffer.from([RELIABLE_ACK, 0, 0, 0, 0]), Buffer.alloc(9)]), // trailing byte
      Buffer.concat([Buffer.from([RELIABLE_DATA, 0, 0, 0, 0]), Buffer.alloc(101)]), // too large
    ];
    for (const d of bad) expect(() => core.receive(d, 0)).toThrow(SealwireError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          new ReliableCore().receive(bytes, 0);
        } catch (e) {
          expect(e).toBeInstanceOf(SealwireError);
        }
      }),
    );
  });

  it('drops a DATA far beyond the window instead of buffering it', () => {
    const core = new ReliableCore();
    const far = Buffer.from([RELIABLE_DATA, 0, 0, 1, 0, 0x41]); // seq 256
    expect(core.receive(far, 0)).toEqual([]);
    const data0 = Buffer.from([RELIABLE_DATA, 0, 0, 0, 0, 0x42]);
    expect(core.receive(data0, 0).map(String)).toEqual(['B']);
  });
});
