/**
 * record/frame.ts: length-prefixed stream framing. Frames survive any split of the byte stream
 * (property), binary payloads full of would-be delimiters pass untouched, lengths above the limit
 * are refused from the 4-byte prefix alone, and a zero length is refused.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StreamDeframer, encodeFrame, frameHeader } from '../../src/record/frame.js';
import { FRAME_HEADER_SIZE, MAX_FRAME_BODY, MAX_PLAINTEXT } from '../../src/record/limits.js';
import { SealwireError } from '../../src/errors.js';

const frameArb = fc.record({ type: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 300 }) });

/** Splits `bytes` at the given cut points (sorted, deduplicated, in range). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

function drain(d: StreamDeframer): { type: number; header: Buffer; payload: Buffer }[] {
  const out = [];
  for (let f = d.next(); f; f = d.next()) out.push({ type: f.type, header: Buffer.from(f.header), payload: Buffer.from(f.payload) });
  return out;
}

describe('record/frame', () => {
  it('encodes length (type + payload) ‖ type ‖ payload', () => {
    expect(encodeFrame(0x10, Buffer.from('hi')).toString('hex')).toBe('00000003' + '10' + '6869');
    expect(frameHeader(0x11, 0).toString('hex')).toBe('00000001' + '11');
    expect(frameHeader(0x10, 2).equals(encodeFrame(0x10, Buffer.from('hi')).subarray(0, FRAME_HEADER_SIZE))).toBe(true);
  });

  it('returns every frame, whatever the chunking of the stream (property)', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
        const d = new StreamDeframer();
        const got = [];
        for (const chunk of split(stream, cuts)) {
          d.push(chunk);
          got.push(...drain(d));
        }
        expect(got.map((f) => ({ type: f.type, payload: f.payload }))).toEqual(frames.map((f) => ({ type: f.type, payload: Buffer.from(f.payload) })));
        for (const [i, f] of got.entries()) expect(f.header.equals(frameHeader(frames[i]!.type, frames[i]!.payload.length))).toBe(true);
        expect(d.pending).toBe(0);
      }),
    );
  });

  it('holds back a frame until its last byte is in (no strict prefix is a frame)', () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        const bytes = encodeFrame(f.type, f.payload);
        const d = new StreamDeframer();
        for (let i = 0; i < bytes.length - 1; i++) {
          d.push(bytes.subarray(i, i + 1));
          expect(d.next()).toBeUndefined();
        }
        d.push(bytes.subarray(bytes.length - 1));
        expect(Buffer.from(d.next()!.payload).equals(Buffer.from(f.payload))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('passes binary payloads made of delimiter-like bytes unchanged', () => {
    const nasty = Buffer.from('@@\n\r\n\0@nonce@tag@\xff\xff\xff\xff', 'latin1');
    const d = new StreamDeframer();
    d.push(Buffer.concat([encodeFrame(0x10, nasty), encodeFrame(0x10, Buffer.alloc(0)), encodeFrame(0x10, nasty)]));
    expect(drain(d).map((f) => f.payload.toString('latin1'))).toEqual([nasty.toString('latin1'), '', nasty.toString('latin1')]);
  });

  it('refuses a length above the limit from the four length bytes alone', () => {
    for (const prefix of [[0xff, 0xff, 0xff, 0xff], [0, 0x01, 0x10, 0x01]]) {
      const d = new StreamDeframer();
      d.push(Buffer.from(prefix.slice(0, 2)));
      expect(d.next()).toBeUndefined();
      d.push(Buffer.from(prefix.slice(2)));
      expect(() => d.next()).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    }
    expect(MAX_FRAME_BODY).toBeGreaterThan(MAX_PLAINTEXT);
  });

  it('accepts exactly the limit, and honours a smaller one', () => {
    const d = new StreamDeframer();
    d.push(encodeFrame(0x10, Buffer.alloc(MAX_FRAME_BODY - 1)));
    expect(d.next()?.payload.length).toBe(MAX_FRAME_BODY - 1);
    const small = new StreamDeframer(10);
    small.push(encodeFrame(0x10, Buffer.alloc(10)));
    expect(() => small.next()).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
  });

  it('refuses a zero-length frame (no type byte) with BAD_RECORD', () => {
    const d = new StreamDeframer();
    d.push(Buffer.alloc(4));
    expect(() => d.next()).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
  });

  it('random bytes yield frames or SealwireErrors, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const d = new StreamDeframer(100);
        d.push(bytes);
        try {
          drain(d);
        } catch (e) {
          expect(e).toBeInstanceOf(SealwireError);
        }
      }),
    );
  });
});

describe('record/frame: next(true), split frames through a reused scratch buffer', () => {
  it('returns the same frames as next() for any chunking, split ones marked transient (property)', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
        const d = new StreamDeframer();
        const got: { type: number; payload: Buffer }[] = [];
        for (const chunk of split(stream, cuts)) {
          d.push(Buffer.from(chunk));
          for (let f = d.next(true); f; f = d.next(true)) {
            expect(f.transient === true).toBe(f.copied);
            // A transient frame must be read before the next call: copy it out now.
            got.push({ type: f.type, payload: Buffer.from(f.payload) });
          }
        }
        expect(got.map((g) => g.type)).toEqual(frames.map((f) => f.type));
        expect(got.map((g) => g.payload.toString('hex'))).toEqual(frames.map((f) => Buffer.from(f.payload).toString('hex')));
      }),
    );
  });

  it('reuses one scratch buffer, and offers as spare only used-up chunks no view was taken from', () => {
    const d = new StreamDeframer();
    const a = encodeFrame(0x10, Buffer.alloc(30, 1)); // 35 bytes
    const b = encodeFrame(0x10, Buffer.alloc(100, 2)); // 105 bytes
    const c = encodeFrame(0x10, Buffer.alloc(100, 3));
    const stream = Buffer.concat([a, b, c]);
    // Chunk 1: a whole (a view is taken) + the start of b. Chunk 2: the rest of b + the start of c.
    // Chunk 3: the rest of c.
    const c1 = Buffer.from(stream.subarray(0, 60));
    const c2 = Buffer.from(stream.subarray(60, 200));
    const c3 = Buffer.from(stream.subarray(200));
    d.push(c1);
    const fa = d.next(true)!;
    expect(fa.transient).toBeFalsy();
    expect(fa.payload.buffer).toBe(c1.buffer);
    expect(d.next(true)).toBeUndefined();
    d.push(c2);
    const fb = d.next(true)!;
    expect(fb.transient).toBe(true);
    expect(Buffer.from(fb.payload).equals(Buffer.alloc(100, 2))).toBe(true);
    // c1 gave out a view (frame a): never a spare. c2 is not used up yet.
    expect(fb.spare).toBeNull();
    const scratch = fb.payload.buffer;
    d.push(c3);
    const fc2 = d.next(true)!;
    expect(fc2.transient).toBe(true);
    expect(fc2.payload.buffer).toBe(scratch);
    expect(Buffer.from(fc2.payload).equals(Buffer.alloc(100, 3))).toBe(true);
    // c2 was used up by b and c, and no view was taken from it: it is the spare.
    expect(fc2.spare).toBe(c2);
    expect(d.pending).toBe(0);
  });

  it('still refuses oversize and empty frames from the prefix alone', () => {
    const d = new StreamDeframer();
    const h = Buffer.alloc(4);
    h.writeUInt32BE(MAX_FRAME_BODY + 1);
    d.push(h);
    expect(() => d.next(true)).toThrow(SealwireError);
    const e = new StreamDeframer();
    e.push(Buffer.alloc(4));
    expect(() => e.next(true)).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
  });
});
