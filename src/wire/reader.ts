/**
 * A bounded reader over untrusted bytes.
 *
 * Every read checks that the bytes are there first and throws a `SealwireError` (never a
 * `RangeError`) when they are not; a read that fails moves nothing (the offset stays where it was). `end()` insists that nothing is left over, because a parser
 * that ignores trailing bytes accepts messages its peer never meant to send. Reads return views
 * (`subarray`), not copies: callers that keep a field beyond the input's lifetime copy it.
 */
import { SealwireError, type ErrorCode } from '../errors.js';

export class Reader {
  private offset = 0;

  /**
   * @param bytes the untrusted input
   * @param what names the message being parsed, for error messages ("box Hello")
   * @param code the error code for malformed input (default `BAD_RECORD`)
   */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
    private readonly code: ErrorCode = 'BAD_RECORD',
  ) {}

  /** Bytes not yet read. */
  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(n: number, field: string): void {
    if (!Number.isInteger(n) || n < 0 || n > this.remaining) {
      throw new SealwireError(
        this.code,
        `${this.what}: truncated ${field} (need ${n} bytes, ${this.remaining} left)`,
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.offset++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const b = this.bytes;
    const v = (b[this.offset]! << 8) | b[this.offset + 1]!;
    this.offset += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.bytes;
    const o = this.offset;
    const v = b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
    this.offset += 4;
    return v;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const hi = this.u32(field);
    const lo = this.u32(field);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** A fixed-size field: exactly `n` bytes. */
  fixed(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** A field with a 16-bit length prefix, checked against `max` before it is read. */
  vec16(field: string, max: number, min = 0): Uint8Array {
    return this.vec(2, field, max, min);
  }

  /** A field with a 32-bit length prefix, checked against `max` before it is read. */
  vec32(field: string, max: number, min = 0): Uint8Array {
    return this.vec(4, field, max, min);
  }

  /** A length-prefixed field; on any failure the offset stays before the prefix. */
  private vec(prefix: 2 | 4, field: string, max: number, min: number): Uint8Array {
    const start = this.offset;
    try {
      const n = prefix === 2 ? this.u16(`${field} length`) : this.u32(`${field} length`);
      this.checkLength(n, field, min, max);
      return this.fixed(n, field);
    } catch (e) {
      this.offset = start;
      throw e;
    }
  }

  /** Everything that is left (possibly empty). */
  rest(): Uint8Array {
    const v = this.bytes.subarray(this.offset);
    this.offset = this.bytes.length;
    return v;
  }

  /** Asserts that the input was consumed exactly. */
  end(): void {
    if (this.remaining !== 0) {
      throw new SealwireError(this.code, `${this.what}: ${this.remaining} unexpected trailing bytes`);
    }
  }

  private checkLength(n: number, field: string, min: number, max: number): void {
    if (n > max) {
      throw new SealwireError('TOO_LARGE', `${this.what}: ${field} of ${n} bytes exceeds ${max}`);
    }
    if (n < min) {
      throw new SealwireError(this.code, `${this.what}: ${field} of ${n} bytes is below ${min}`);
    }
  }
}

/** Checks that a fixed-size message has exactly its size, before any field is parsed. */
export function expectSize(
  bytes: Uint8Array,
  size: number,
  what: string,
  code: ErrorCode = 'BAD_RECORD',
): void {
  if (bytes.length !== size) {
    throw new SealwireError(code, `${what}: expected ${size} bytes, got ${bytes.length}`);
  }
}
