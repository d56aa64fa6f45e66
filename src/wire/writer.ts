/**
 * A writer that assembles a message into one buffer of a size computed up front.
 *
 * Handshake messages are small and built once, so the writer favours exactness over speed: it
 * refuses to overflow (a bug, not a peer's fault) and `finish()` refuses a buffer that was not
 * filled. Hot-path record code does not use it; it writes headers in place (record/frame.ts).
 */
import { SealwireError } from '../errors.js';

export class Writer {
  private offset = 0;
  readonly buffer: Buffer;

  constructor(size: number) {
    this.buffer = Buffer.alloc(size);
  }

  private room(n: number): void {
    if (this.offset + n > this.buffer.length) {
      throw new SealwireError('INVALID_ARGUMENT', `Writer overflow: ${n} bytes at ${this.offset}/${this.buffer.length}`);
    }
  }

  u8(v: number): this {
    fits(v, 0xff, 'u8');
    this.room(1);
    this.buffer[this.offset++] = v;
    return this;
  }

  u16(v: number): this {
    fits(v, 0xffff, 'u16');
    this.room(2);
    this.buffer.writeUInt16BE(v, this.offset);
    this.offset += 2;
    return this;
  }

  u32(v: number): this {
    fits(v, 0xffffffff, 'u32');
    this.room(4);
    this.buffer.writeUInt32BE(v, this.offset);
    this.offset += 4;
    return this;
  }

  u64(v: bigint): this {
    if (typeof v !== 'bigint' || v < 0n || v > 0xffff_ffff_ffff_ffffn) {
      throw new SealwireError('INVALID_ARGUMENT', `Writer: u64 value ${String(v)} out of range`);
    }
    this.room(8);
    this.buffer.writeBigUInt64BE(v, this.offset);
    this.offset += 8;
    return this;
  }

  bytes(v: Uint8Array): this {
    this.room(v.length);
    this.buffer.set(v, this.offset);
    this.offset += v.length;
    return this;
  }

  vec16(v: Uint8Array): this {
    if (v.length > 0xffff) throw new SealwireError('TOO_LARGE', `vec16 field of ${v.length} bytes`);
    return this.u16(v.length).bytes(v);
  }

  vec32(v: Uint8Array): this {
    return this.u32(v.length).bytes(v);
  }

  /** Reserves `n` bytes and returns a view on them, for primitives that write their output in place. */
  reserve(n: number): Buffer {
    this.room(n);
    const view = this.buffer.subarray(this.offset, this.offset + n);
    this.offset += n;
    return view;
  }

  finish(): Buffer {
    if (this.offset !== this.buffer.length) {
      throw new SealwireError('INVALID_ARGUMENT', `Writer underfilled: ${this.offset}/${this.buffer.length}`);
    }
    return this.buffer;
  }
}

/** Refuses a value that does not fit its field (a caller's bug: never wrapped, never a RangeError). */
function fits(v: number, max: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new SealwireError('INVALID_ARGUMENT', `Writer: ${field} value ${v} out of range 0..${max}`);
  }
}

/** Size of a vec16 field holding `n` bytes. */
export const vec16Size = (n: number): number => 2 + n;
/** Size of a vec32 field holding `n` bytes. */
export const vec32Size = (n: number): number => 4 + n;
