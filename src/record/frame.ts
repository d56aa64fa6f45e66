/**
 * Stream framing: every message on a TCP session, handshake or record, is one frame
 *
 *     length (u32, big-endian: bytes that follow) ‖ type (u8) ‖ payload
 *
 * Length prefixes, never delimiters (docs/DESIGN.md §10: delimiters break on binary data). The deframer
 * checks the length against `MAX_FRAME_BODY` as soon as its four bytes are in, before it buffers
 * anything for the frame, so a prefix of 4 GiB costs four bytes of memory and ends the session.
 */
import { SealwireError } from '../errors.js';
import { FRAME_HEADER_SIZE, MAX_FRAME_BODY } from './limits.js';

export interface Frame {
  readonly type: number;
  /** The 5 header bytes as received (length ‖ type). */
  readonly header: Uint8Array;
  /** The payload after the type byte. */
  readonly payload: Uint8Array;
  /**
   * True when the frame was copied out of several input chunks into a buffer of its own: the
   * reader owns it and may decrypt in place. False for a view into an input chunk.
   */
  readonly copied: boolean;
  /**
   * Only from `next(true)`: the frame was split across input chunks and copied into the
   * deframer's own scratch buffer, which the next call reuses. The reader must be done with
   * `header` and `payload` before it calls `next` again, and must not deliver or keep them.
   */
  readonly transient?: boolean;
  /**
   * With `transient`: an input chunk this frame used up that no view was ever taken from (so no
   * one else holds it), which the reader may take as its own, e.g. to decrypt the payload into.
   * Null when there is none.
   */
  readonly spare?: Uint8Array | null;
}

/** Writes a frame header for a payload of `payloadLength` bytes. */
export function frameHeader(type: number, payloadLength: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  h.writeUInt32BE(payloadLength + 1, 0);
  h[4] = type;
  return h;
}

/** A whole frame (header and payload) in one buffer, for handshake messages. */
export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  out.writeUInt32BE(payload.length + 1, 0);
  out[4] = type;
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

/**
 * Splits a byte stream into frames. Incoming chunks are kept as they are; a frame inside one chunk
 * is returned as a view into it (no copy), and only a frame split across chunks is copied, into a
 * buffer of its exact, already-checked size.
 *
 * `next(true)` (the record path of a TCP session, whose socket gives up its read buffers) copies a
 * split frame into a scratch buffer reused from call to call instead, and hands back a used-up
 * input chunk as `spare` for the plaintext. Why: a socket reads at most 64 KiB at a time, so
 * every 64 KiB record arrives split, and a fresh 64 KiB buffer per record costs more than its copy
 * (new memory is zeroed by the kernel page by page, then collected): the bulk profile in
 * BENCHMARKS.md had it at two thirds of the decryption's cost. The input chunk is memory the
 * kernel has just written, and nobody else holds it.
 */
export class StreamDeframer {
  private chunks: Uint8Array[] = [];
  /** Read offset into chunks[0]. */
  private offset = 0;
  private buffered = 0;
  /** True once a view into chunks[0] has been handed out (it may then never be a `spare`). */
  private headViewed = false;
  private scratch: Buffer | null = null;

  constructor(private readonly maxBody: number = MAX_FRAME_BODY) {}

  /** Bytes received but not yet returned as frames. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete frame, or `undefined` if more bytes are needed. Throws `TOO_LARGE` for a
   * length above the limit and `BAD_RECORD` for a zero length (a frame must hold its type).
   */
  next(transient = false): Frame | undefined {
    if (this.buffered < 4) return undefined;
    const length = this.peekLength();
    if (length > this.maxBody) {
      throw new SealwireError('TOO_LARGE', `frame of ${length} bytes exceeds the ${this.maxBody}-byte limit`);
    }
    if (length === 0) throw new SealwireError('BAD_RECORD', 'empty frame (no type byte)');
    const total = 4 + length;
    if (this.buffered < total) return undefined;
    const first = this.chunks[0]!;
    const copied = first.length - this.offset < total;
    if (copied && transient) return this.takeTransient(total);
    const bytes = this.take(total);
    return { type: bytes[4]!, header: bytes.subarray(0, FRAME_HEADER_SIZE), payload: bytes.subarray(FRAME_HEADER_SIZE), copied };
  }

  /** Copies a split frame of `n` bytes into the scratch buffer; the largest clean used-up chunk is the spare. */
  private takeTransient(n: number): Frame {
    if (!this.scratch || this.scratch.length < n) this.scratch = Buffer.allocUnsafe(Math.max(n, 4 + this.maxBody));
    const out = this.scratch.subarray(0, n);
    const spare = this.copyOut(out);
    return { type: out[4]!, header: out.subarray(0, FRAME_HEADER_SIZE), payload: out.subarray(FRAME_HEADER_SIZE), copied: true, transient: true, spare };
  }

  /**
   * Moves the next `out.length` bytes (≤ buffered) into `out`. Returns the largest input chunk
   * this used up that no view was ever taken from, or null.
   */
  private copyOut(out: Uint8Array): Uint8Array | null {
    const n = out.length;
    let spare: Uint8Array | null = null;
    this.buffered -= n;
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length - this.offset, n - filled);
      out.set(c.subarray(this.offset, this.offset + k), filled);
      filled += k;
      this.offset += k;
      if (this.offset === c.length) {
        if (!this.headViewed && (!spare || c.length > spare.length)) spare = c;
        this.shift();
      }
    }
    return spare;
  }

  private shift(): void {
    this.chunks.shift();
    this.offset = 0;
    this.headViewed = false;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= 4) {
      const o = this.offset;
      return first[o]! * 0x1000000 + ((first[o + 1]! << 16) | (first[o + 2]! << 8) | first[o + 3]!);
    }
    let v = 0;
    let ci = 0;
    let o = this.offset;
    for (let i = 0; i < 4; i++) {
      while (o >= this.chunks[ci]!.length) {
        ci++;
        o = 0;
      }
      v = v * 256 + this.chunks[ci]![o++]!;
    }
    return v;
  }

  /** Removes and returns `n` bytes (n ≤ buffered): a view when they lie in one chunk. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) {
      this.buffered -= n;
      const view = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === first.length) this.shift();
      else this.headViewed = true;
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    this.copyOut(out);
    return out;
  }
}
