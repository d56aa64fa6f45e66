/**
 * The datagram record pieces on their own: the replay window against a simple model, the record
 * format (explicit sequence, REPLAY before decryption, window moved only after authentication),
 * and bounded, expiring reassembly.
 */
import { describe, expect, it } from 'vitest';
import { MAX_WINDOW_SEQUENCE, ReplayWindow, WINDOW_SIZE } from '../../src/record/replay-window.js';
import { DatagramReceiver, DatagramSender, DatagramType, RECORD_HEADER_SIZE } from '../../src/record/datagram.js';
import { FRAGMENT_CHUNK, MAX_MESSAGE, Reassembler, fragment } from '../../src/record/fragment.js';
import { BoxRecordCipher } from '../../src/suites/box/records.js';
import { Direction } from '../../src/suites/box/messages.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';

describe('replay window', () => {
  it('is at least as wide as WireGuard\'s (2048)', () => {
    expect(WINDOW_SIZE).toBeGreaterThanOrEqual(2048);
  });

  it('agrees with a model (a set of seen numbers and the highest) on random sequences', () => {
    const rng = seededRngForTestingOnly('window');
    for (let round = 0; round < 20; round++) {
      const w = new ReplayWindow();
      const seen = new Set<bigint>();
      let highest = -1n;
      for (let i = 0; i < 3000; i++) {
        const r = rng(4).readUInt32BE(0);
        // Mostly near the front, sometimes far behind, sometimes a big jump ahead.
        const base = highest < 0n ? 0n : highest;
        const seq = r % 10 === 0 ? base + BigInt(r % 9000) : base - BigInt(r % 5000) + 20n;
        if (seq < 0n) continue;
        const model = !seen.has(seq) && (seq > highest || highest - seq < BigInt(WINDOW_SIZE));
        expect(w.mayAccept(seq)).toBe(model);
        expect(w.accept(seq)).toBe(model);
        if (model) {
          seen.add(seq);
          if (seq > highest) highest = seq;
        }
      }
    }
  });

  it('handles sequence numbers near its 2^53 - 1 limit, and refuses what is above it', () => {
    const w = new ReplayWindow();
    const top = MAX_WINDOW_SEQUENCE - 0x10;
    expect(w.accept(top)).toBe(true);
    expect(w.accept(top)).toBe(false);
    expect(w.accept(top - 5)).toBe(true);
    expect(w.accept(MAX_WINDOW_SEQUENCE)).toBe(true);
    expect(w.highest).toBe(MAX_WINDOW_SEQUENCE);
    expect(w.accept(MAX_WINDOW_SEQUENCE - 3)).toBe(true);
    // Beyond what a number holds exactly: refused, never rounded onto a neighbour.
    for (const beyond of [BigInt(MAX_WINDOW_SEQUENCE) + 1n, 0xffff_ffff_ffff_fff0n, 2 ** 53, 2 ** 60, -1, 0.5, NaN]) {
      expect(w.mayAccept(beyond)).toBe(false);
      expect(w.accept(beyond)).toBe(false);
    }
    expect(w.highest).toBe(MAX_WINDOW_SEQUENCE);
  });

  it('takes bigints and numbers for the same sequence number alike', () => {
    const w = new ReplayWindow();
    expect(w.accept(5n)).toBe(true);
    expect(w.accept(5)).toBe(false);
    expect(w.mayAccept(6n)).toBe(true);
  });

  it('slides across the 2^32 boundary (where a 32-bit counter would wrap) like the model', () => {
    const w = new ReplayWindow();
    const seen = new Set<number>();
    let highest = -1;
    const start = 2 ** 32 - 3000;
    const rng = seededRngForTestingOnly('window 2^32');
    for (let i = 0; i < 6000; i++) {
      const r = rng(4).readUInt32BE(0);
      const seq = start + i + (r % 64) - 32; // mostly ascending, locally reordered, some repeats
      const model = !seen.has(seq) && (seq > highest || highest - seq < WINDOW_SIZE);
      expect(w.accept(seq)).toBe(model);
      if (model) {
        seen.add(seq);
        highest = Math.max(highest, seq);
      }
    }
    expect(highest).toBeGreaterThan(2 ** 32);
    // A number 2^32 below one seen lands on the same bitmap bit: it must still be judged by distance.
    expect(w.mayAccept(highest - 2 ** 32)).toBe(false);
    expect(w.mayAccept(2 ** 32 - 1)).toBe(!seen.has(2 ** 32 - 1));
  });
});

describe('datagram records', () => {
  const pair = (): { s: DatagramSender; r: DatagramReceiver } => {
    const key = Buffer.alloc(32, 9);
    const cid = Buffer.alloc(8, 1);
    return { s: new DatagramSender(new BoxRecordCipher(Buffer.from(key), Direction.CLIENT_TO_SERVER), cid), r: new DatagramReceiver(new BoxRecordCipher(Buffer.from(key), Direction.CLIENT_TO_SERVER)) };
  };

  it('carries type, connection id and a 64-bit sequence number in a 17-byte header', () => {
    const { s, r } = pair();
    const a = s.seal(DatagramType.DATA, Buffer.from('a'));
    const b = s.seal(DatagramType.DATA, Buffer.from('b'));
    expect(a.length).toBe(RECORD_HEADER_SIZE + 16 + 1);
    expect(Buffer.from(b).readBigUInt64BE(9)).toBe(1n);
    expect(Buffer.from(r.open(b)).toString()).toBe('b');
    expect(Buffer.from(r.open(a)).toString()).toBe('a');
    expect(() => r.open(a)).toThrow(expect.objectContaining({ code: 'REPLAY' }));
  });

  it('does not move the window for a record that fails authentication', () => {
    const { s, r } = pair();
    const a = Buffer.from(s.seal(DatagramType.DATA, Buffer.from('a')));
    const forged = Buffer.from(a);
    forged[forged.length - 1]! ^= 1;
    expect(() => r.open(forged)).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
    const typeChanged = Buffer.from(a);
    typeChanged[0] = DatagramType.KEEPALIVE;
    expect(() => r.open(typeChanged)).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
    expect(Buffer.from(r.open(a)).toString()).toBe('a');
  });
});

describe('fragmentation and reassembly', () => {
  it('round-trips a 64 KiB message in any order and refuses a larger one', () => {
    const msg = seededRngForTestingOnly('msg')(MAX_MESSAGE);
    const parts = fragment(msg, 7);
    expect(parts.length).toBe(Math.ceil(MAX_MESSAGE / FRAGMENT_CHUNK));
    const re = new Reassembler();
    let out: Uint8Array | null = null;
    for (const p of [...parts].reverse()) out = re.add(p, 0) ?? out;
    expect(Buffer.from(out!).equals(msg)).toBe(true);
    expect(re.bufferedBytes).toBe(0);
    expect(() => fragment(Buffer.alloc(MAX_MESSAGE + 1), 1)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
  });

  it('bounds messages and bytes in progress, and expires incomplete messages', () => {
    const re = new Reassembler({ maxMessages: 4, maxBytes: 6_000, expiryMs: 1_000 });
    const big = Buffer.alloc(5 * FRAGMENT_CHUNK);
    for (let id = 0; id < 4; id++) re.add(fragment(big, id)[0]!, 0);
    expect(() => re.add(fragment(big, 99)[0]!, 0)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(re.pendingMessages).toBe(4);
    expect(re.bufferedBytes).toBeLessThanOrEqual(6_000);
    const parts = fragment(big, 0);
    let refused = 0;
    for (const p of parts.slice(1)) {
      try {
        re.add(p, 10);
      } catch {
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(re.bufferedBytes).toBeLessThanOrEqual(6_000);
    re.expire(1_000);
    expect(re.pendingMessages).toBe(0);
    expect(re.bufferedBytes).toBe(0);
  });

  it('refuses a reassembly past MAX_MESSAGE (55 full fragments), which fragment() could never send back', () => {
    const count = Math.ceil(MAX_MESSAGE / FRAGMENT_CHUNK);
    const re = new Reassembler();
    const part = (index: number): Buffer => {
      const b = Buffer.alloc(8 + FRAGMENT_CHUNK, 0x61);
      b.writeUInt32BE(5, 0);
      b.writeUInt16BE(index, 4);
      b.writeUInt16BE(count, 6);
      return b;
    };
    for (let i = 0; i < count - 1; i++) expect(re.add(part(i), 0)).toBeNull();
    expect(() => re.add(part(count - 1), 0)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
  });

  it('refuses malformed fragments', () => {
    const re = new Reassembler();
    const f = fragment(Buffer.alloc(3000), 1)[0]!;
    const badCount = Buffer.from(f);
    badCount.writeUInt16BE(1, 6);
    const badIndex = Buffer.from(f);
    badIndex.writeUInt16BE(9, 4);
    for (const bad of [badCount, badIndex, f.subarray(0, 8), f.subarray(0, 100)]) {
      expect(() => re.add(bad, 0)).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
    }
  });
});
