/**
 * An in-process connected pair of byte streams, for tests and demos: what one end writes, the
 * other reads, with backpressure and half-close like a TCP connection. An optional `tamper` hook
 * sees every chunk in flight and returns what to deliver instead (nothing, altered bytes,
 * duplicates), which is how tests play the network attacker.
 */
import { Duplex } from 'node:stream';

export type PairEnd = 'a' | 'b';
export type ChunkTamper = (from: PairEnd, chunk: Buffer) => Uint8Array[];

class MemoryEnd extends Duplex {
  peer!: MemoryEnd;
  /** The writer's callback, held while this end's reader is full. */
  private resumeWriter: (() => void) | null = null;
  readonly remoteAddress = 'memory';
  readonly remotePort = 0;

  constructor(
    private readonly name: PairEnd,
    private readonly tamper: ChunkTamper | undefined,
  ) {
    super({ allowHalfOpen: true });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.peer.destroyed) {
      callback(Object.assign(new Error('peer closed'), { code: 'EPIPE' }));
      return;
    }
    // Copy: a real network never shares memory between the two ends.
    const delivered = this.tamper ? this.tamper(this.name, Buffer.from(chunk)) : [Buffer.from(chunk)];
    let more = true;
    for (const d of delivered) more = this.peer.push(Buffer.from(d)) && more;
    if (more) callback();
    else this.peer.resumeWriter = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    callback();
  }

  override _read(): void {
    const resume = this.resumeWriter;
    this.resumeWriter = null;
    resume?.();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const resume = this.resumeWriter;
    this.resumeWriter = null;
    resume?.();
    // Like a reset: the other end sees its stream end abruptly.
    if (!this.peer.destroyed) this.peer.destroy();
    callback(error);
  }
}

/** Two connected in-memory streams `[a, b]`. */
export function memoryPair(options: { tamper?: ChunkTamper } = {}): [Duplex, Duplex] {
  const a = new MemoryEnd('a', options.tamper);
  const b = new MemoryEnd('b', options.tamper);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
