/**
 * Reusable buffers for sealed records on a real socket.
 *
 * A 64 KiB write becomes a 64 KiB record; allocating a fresh buffer for each one costs little by
 * itself, but at hundreds of MB/s the garbage collector then spends a large share of the sending
 * process's time on them (the bulk profile in BENCHMARKS.md). Large records are therefore sealed
 * into buffers from this pool, and the transport hands each one back once the socket has written
 * it: at once when the write completed synchronously (nothing left queued on the socket), else in
 * the `write` callback (libuv is done with the memory then). Exactly once either way.
 *
 * Only transports that know when the bytes have left may use the pool (a TCP socket does; an
 * in-memory pair passes the very buffer to the reader, so it must not). A buffer that is never
 * handed back is simply garbage-collected. Pooled buffers only ever hold ciphertext.
 */
import { FRAME_HEADER_SIZE, MAX_PLAINTEXT } from './limits.js';

/** Returns a buffer of exactly `size` bytes, contents unspecified. */
export type Allocate = (size: number) => Buffer;

/** Records at least this large come from the pool; smaller ones are cut from a shared slab. */
const POOL_FROM = 16 * 1024;
/**
 * Small records are cut, 8-byte aligned, from one slab at a time, as Node's own Buffer pool does,
 * but from 64 KiB instead of Node's 8 KiB: at 1 KiB a record, a new ArrayBuffer (and its share of
 * garbage collection) every ~60 records instead of every 7. A slab lives until its last record
 * has been written and dropped; it only ever holds ciphertext.
 */
const SLAB_SIZE = 64 * 1024;
/** Capacity of a pooled buffer: the largest record with room for any suite's overhead. */
const POOL_BUFFER_SIZE = FRAME_HEADER_SIZE + MAX_PLAINTEXT + 1024;
/** Free buffers kept at most (process-wide): 32 × 65 KiB ≈ 2 MiB. */
const MAX_FREE = 32;

export class RecordBufferPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly mine = new WeakSet<ArrayBuffer>();

  private slab: ArrayBuffer | null = null;
  private slabUsed = 0;

  /** A buffer of `size` bytes: pooled for large records, cut from a slab for small ones. */
  readonly allocate: Allocate = (size) => {
    if (size < POOL_FROM) return this.fromSlab(size);
    if (size > POOL_BUFFER_SIZE) return Buffer.allocUnsafe(size);
    let ab = this.free.pop();
    if (!ab) {
      ab = Buffer.allocUnsafeSlow(POOL_BUFFER_SIZE).buffer as ArrayBuffer; // not zero-filled: it only ever holds ciphertext
      this.mine.add(ab);
    }
    return Buffer.from(ab, 0, size);
  };

  private fromSlab(size: number): Buffer {
    if (this.slab === null || this.slabUsed + size > SLAB_SIZE) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_SIZE).buffer as ArrayBuffer; // ciphertext only: no zero fill
      this.slabUsed = 0;
    }
    const b = Buffer.from(this.slab, this.slabUsed, size);
    this.slabUsed = (this.slabUsed + size + 7) & ~7;
    return b;
  }

  /** True when `chunk` lives in a pooled buffer (and so should be released once written). */
  owns(chunk: Uint8Array): boolean {
    return this.mine.has(chunk.buffer as ArrayBuffer);
  }

  /** Hands a written record's buffer back. The caller must not touch `chunk` afterwards. */
  readonly release = (chunk: Uint8Array): void => {
    const ab = chunk.buffer as ArrayBuffer;
    if (!this.mine.has(ab) || this.free.length >= MAX_FREE || this.free.includes(ab)) return;
    this.free.push(ab);
  };

  /** Free buffers held now (tests). */
  get available(): number {
    return this.free.length;
  }
}

/** The pool TCP sessions share. */
export const recordBuffers = new RecordBufferPool();
