/**
 * wire/: the bounded Reader and the exact Writer. Known answers, then properties: every value
 * written reads back; every strict prefix of a message (truncation) and every message with bytes
 * appended (extension) is refused with a SealwireError, never a RangeError; and a failed read
 * moves nothing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Reader, expectSize } from '../../src/wire/reader.js';
import { Writer, vec16Size, vec32Size } from '../../src/wire/writer.js';
import { SealwireError, isSealwireError } from '../../src/errors.js';

const code = (c: string) => expect.objectContaining({ code: c, name: 'SealwireError' });

/** A field of a message, written and read the same way. */
type Field =
  | { k: 'u8'; v: number }
  | { k: 'u16'; v: number }
  | { k: 'u32'; v: number }
  | { k: 'u64'; v: bigint }
  | { k: 'fixed'; v: Uint8Array }
  | { k: 'vec16'; v: Uint8Array }
  | { k: 'vec32'; v: Uint8Array };

const field: fc.Arbitrary<Field> = fc.oneof(
  fc.integer({ min: 0, max: 0xff }).map((v) => ({ k: 'u8' as const, v })),
  fc.integer({ min: 0, max: 0xffff }).map((v) => ({ k: 'u16' as const, v })),
  fc.integer({ min: 0, max: 0xffffffff }).map((v) => ({ k: 'u32' as const, v })),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => ({ k: 'u64' as const, v })),
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((v) => ({ k: 'fixed' as const, v })),
  fc.uint8Array({ maxLength: 40 }).map((v) => ({ k: 'vec16' as const, v })),
  fc.uint8Array({ maxLength: 40 }).map((v) => ({ k: 'vec32' as const, v })),
);

const size = (f: Field): number =>
  ({ u8: 1, u16: 2, u32: 4, u64: 8, fixed: 0, vec16: 2, vec32: 4 })[f.k] + (typeof f.v === 'object' ? f.v.length : 0);

function encode(fields: Field[]): Buffer {
  const w = new Writer(fields.reduce((n, f) => n + size(f), 0));
  for (const f of fields) {
    switch (f.k) {
      case 'u8': w.u8(f.v); break;
      case 'u16': w.u16(f.v); break;
      case 'u32': w.u32(f.v); break;
      case 'u64': w.u64(f.v); break;
      case 'fixed': w.bytes(f.v); break;
      case 'vec16': w.vec16(f.v); break;
      case 'vec32': w.vec32(f.v); break;
    }
  }
  return w.finish();
}

/** Parses `bytes` as the message `fields` describe, insisting on its exact end. */
function decode(bytes: Uint8Array, fields: Field[]): unknown[] {
  const r = new Reader(bytes, 'test message');
  const out = fields.map((f, i) => {
    const name = `field ${i}`;
    switch (f.k) {
      case 'u8': return r.u8(name);
      case 'u16': return r.u16(name);
      case 'u32': return r.u32(name);
      case 'u64': return r.u64(name);
      case 'fixed': return Buffer.from(r.fixed(f.v.length, name));
      case 'vec16': return Buffer.from(r.vec16(name, 1000));
      case 'vec32': return Buffer.from(r.vec32(name, 1000));
    }
  });
  r.end();
  return out;
}

const values = (fields: Field[]): unknown[] => fields.map((f) => (typeof f.v === 'object' ? Buffer.from(f.v) : f.v));

/** Runs `fn`, which must throw a SealwireError (not a RangeError or anything else). */
function sealwireThrow(fn: () => unknown): SealwireError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SealwireError);
    return e as SealwireError;
  }
  throw new Error('did not throw');
}

describe('wire: known answers', () => {
  it('writes big-endian integers and length-prefixed vectors', () => {
    const b = new Writer(1 + 2 + 4 + 8 + vec16Size(2) + vec32Size(1))
      .u8(0x01).u16(0x0203).u32(0x04050607).u64(0x08090a0b0c0d0e0fn).vec16(Buffer.from([0xaa, 0xbb])).vec32(Buffer.from([0xcc]))
      .finish();
    expect(b.toString('hex')).toBe('01' + '0203' + '04050607' + '08090a0b0c0d0e0f' + '0002aabb' + '00000001cc');
    const r = new Reader(b, 'kat');
    expect([r.u8('a'), r.u16('b'), r.u32('c'), r.u64('d')]).toEqual([1, 0x0203, 0x04050607, 0x08090a0b0c0d0e0fn]);
    expect(Buffer.from(r.vec16('e', 2)).toString('hex')).toBe('aabb');
    expect(Buffer.from(r.vec32('f', 1)).toString('hex')).toBe('cc');
    r.end();
  });

  it('reads the largest values exactly (no sign or float loss)', () => {
    const r = new Reader(Buffer.alloc(14, 0xff), 'max');
    expect(r.u16('a')).toBe(0xffff);
    expect(r.u32('b')).toBe(0xffffffff);
    expect(r.u64('c')).toBe(0xffffffffffffffffn);
    expect(r.remaining).toBe(0);
  });

  it('rest() takes what is left, possibly nothing', () => {
    const r = new Reader(Buffer.from([1, 2, 3]), 'rest');
    r.u8('x');
    expect(Buffer.from(r.rest())).toEqual(Buffer.from([2, 3]));
    expect(r.rest().length).toBe(0);
    r.end();
  });

  it('end() refuses trailing bytes; expectSize refuses any other size', () => {
    expect(() => new Reader(Buffer.alloc(1), 'm').end()).toThrow(code('BAD_RECORD'));
    expect(() => expectSize(Buffer.alloc(3), 4, 'm')).toThrow(code('BAD_RECORD'));
    expect(() => expectSize(Buffer.alloc(5), 4, 'm', 'HANDSHAKE_FAILED')).toThrow(code('HANDSHAKE_FAILED'));
    expect(() => expectSize(Buffer.alloc(4), 4, 'm')).not.toThrow();
  });

  it('uses the error code it was given for malformed input, and TOO_LARGE for lengths above max', () => {
    expect(() => new Reader(Buffer.alloc(0), 'hs', 'HANDSHAKE_FAILED').u8('x')).toThrow(code('HANDSHAKE_FAILED'));
    expect(() => new Reader(Buffer.from([0, 5, 1, 2, 3, 4, 5]), 'm').vec16('v', 4)).toThrow(code('TOO_LARGE'));
    expect(() => new Reader(Buffer.from([0, 1, 1]), 'm').vec16('v', 4, 2)).toThrow(code('BAD_RECORD'));
    // A 4 GiB length prefix is refused from its four bytes.
    expect(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff]), 'm').vec32('v', 1 << 20)).toThrow(code('TOO_LARGE'));
  });

  it('fixed() refuses negative, fractional and oversized counts', () => {
    const r = new Reader(Buffer.alloc(4), 'm');
    for (const n of [-1, 1.5, 5, Number.NaN]) expect(() => r.fixed(n, 'f')).toThrow(code('BAD_RECORD'));
    expect(r.remaining).toBe(4);
  });

  it('the Writer refuses overflow, underfill and vec16 fields over 65535 bytes', () => {
    expect(() => new Writer(1).u16(1)).toThrow(code('INVALID_ARGUMENT'));
    expect(() => new Writer(2).u8(1).finish()).toThrow(code('INVALID_ARGUMENT'));
    expect(() => new Writer(70000).vec16(Buffer.alloc(65536))).toThrow(code('TOO_LARGE'));
    const w = new Writer(4);
    w.reserve(4).fill(7);
    expect(w.finish().equals(Buffer.alloc(4, 7))).toBe(true);
    expect(() => w.reserve(1)).toThrow(code('INVALID_ARGUMENT'));
  });
});

describe('wire: a failed read consumes nothing', () => {
  // Bug found here: u64 read its high half, then failed on the low half with the offset already
  // moved 4 bytes; vec16/vec32 moved past the length prefix before refusing the length.
  it.each([
    ['u16', 1, (r: Reader) => r.u16('x')],
    ['u32', 3, (r: Reader) => r.u32('x')],
    ['u64', 7, (r: Reader) => r.u64('x')],
    ['u64', 4, (r: Reader) => r.u64('x')],
    ['fixed', 3, (r: Reader) => r.fixed(4, 'x')],
    ['vec16 (short body)', 3, (r: Reader) => r.vec16('x', 100)],
    ['vec16 (over max)', 12, (r: Reader) => r.vec16('x', 1)],
    ['vec32 (short body)', 5, (r: Reader) => r.vec32('x', 100)],
    ['vec32 (over max)', 12, (r: Reader) => r.vec32('x', 1)],
  ] as const)('%s with %i bytes', (_name, n, read) => {
    const bytes = Buffer.alloc(n, 0x09);
    const r = new Reader(bytes, 'm');
    sealwireThrow(() => read(r));
    expect(r.remaining).toBe(n);
    // After the failure, the bytes are still there to read.
    expect(Buffer.from(r.fixed(n, 'all')).equals(bytes)).toBe(true);
  });
});

describe('wire: properties', () => {
  it('every message round-trips', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 8 }), (fields) => {
        expect(decode(encode(fields), fields)).toEqual(values(fields));
      }),
    );
  });

  it('no strict prefix of a message parses, and the error is a SealwireError', () => {
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 6 }), fc.nat(), (fields, cut) => {
        const bytes = encode(fields);
        const n = cut % bytes.length;
        const e = sealwireThrow(() => decode(bytes.subarray(0, n), fields));
        expect(['BAD_RECORD', 'TOO_LARGE']).toContain(e.code);
      }),
    );
  });

  it('no message with bytes appended parses', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 6 }), fc.uint8Array({ minLength: 1, maxLength: 16 }), (fields, extra) => {
        const e = sealwireThrow(() => decode(Buffer.concat([encode(fields), extra]), fields));
        expect(e.code).toBe('BAD_RECORD');
      }),
    );
  });

  it('random bytes never make a reader throw anything but a SealwireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(field, { maxLength: 6 }), (bytes, fields) => {
        try {
          decode(bytes, fields);
        } catch (e) {
          expect(isSealwireError(e)).toBe(true);
        }
      }),
    );
  });
});

describe('wire: the Writer refuses values that do not fit their field', () => {
  // Bug found here: u16/u32/u64 out of range threw Node's RangeError and u8 silently wrapped,
  // instead of a SealwireError (INVALID_ARGUMENT: the caller's bug, not the peer's).
  it.each([
    ['u8 256', (w: Writer) => w.u8(256)],
    ['u8 -1', (w: Writer) => w.u8(-1)],
    ['u8 1.5', (w: Writer) => w.u8(1.5)],
    ['u16 65536', (w: Writer) => w.u16(0x10000)],
    ['u32 2^32', (w: Writer) => w.u32(0x100000000)],
    ['u32 -1', (w: Writer) => w.u32(-1)],
    ['u64 2^64', (w: Writer) => w.u64(1n << 64n)],
    ['u64 -1', (w: Writer) => w.u64(-1n)],
  ] as const)('%s', (_name, write) => {
    const w = new Writer(8);
    expect(() => write(w)).toThrow(code('INVALID_ARGUMENT'));
  });
});
