/** Small helpers for reading from streams in tests. */
import type { Readable } from 'node:stream';

/** Everything the stream delivers until it ends (rejects on error). */
export function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Reads exactly `n` bytes (rejects on error or early end). */
export function readExactly(stream: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const onReadable = (): void => {
      for (;;) {
        const c = stream.read(Math.min(n - have, stream.readableLength || n - have)) as Buffer | null;
        if (c === null) return;
        chunks.push(c);
        have += c.length;
        if (have >= n) {
          cleanup();
          resolve(Buffer.concat(chunks));
          return;
        }
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`stream ended after ${have} of ${n} bytes`));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const cleanup = (): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
    onReadable();
  });
}

/** Rejects with `message` if `p` takes longer than `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}
