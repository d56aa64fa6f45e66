/**
 * The record buffer pool (src/record/buffers.ts) and in-place opening of box records: what the
 * TCP fast path relies on. The integrity test at the end sends many records of mixed sizes through
 * real loopback TCP, where pooled buffers are reused, and checks every byte arrives as sent.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { RecordBufferPool } from '../../src/record/buffers.js';
import { BoxRecordCipher } from '../../src/suites/box/records.js';
import { Direction } from '../../src/suites/box/messages.js';
import { frameHeader } from '../../src/record/frame.js';
import { connect, createServer, generateKeyPair } from '../../src/index.js';

describe('RecordBufferPool', () => {
  it('pools large records only, and reuses a released buffer', () => {
    const pool = new RecordBufferPool();
    const small = pool.allocate(100);
    expect(small.length).toBe(100);
    expect(pool.owns(small)).toBe(false);
    const big = pool.allocate(65557);
    expect(big.length).toBe(65557);
    expect(pool.owns(big)).toBe(true);
    pool.release(big);
    expect(pool.available).toBe(1);
    const again = pool.allocate(20000);
    expect(again.buffer).toBe(big.buffer);
    expect(pool.available).toBe(0);
  });

  it('ignores foreign buffers and a second release of the same one', () => {
    const pool = new RecordBufferPool();
    pool.release(Buffer.alloc(70000));
    expect(pool.available).toBe(0);
    const b = pool.allocate(30000);
    pool.release(b);
    pool.release(b);
    expect(pool.available).toBe(1);
  });

  it('cuts small records from a shared 64 KiB slab, aligned and never overlapping, never released into the pool', () => {
    const pool = new RecordBufferPool();
    const sizes = [1045, 1, 7, 8, 9, 4096, 16 * 1024 - 1];
    const got: Buffer[] = [];
    for (let i = 0; i < 200; i++) got.push(pool.allocate(sizes[i % sizes.length]!));
    const slabs = new Set(got.map((b) => b.buffer));
    // 200 records of ~3.7 KiB on average: more than one slab, far fewer than one buffer each.
    expect(slabs.size).toBeGreaterThan(1);
    expect(slabs.size).toBeLessThan(20);
    for (const ab of slabs) {
      const inSlab = got.filter((b) => b.buffer === ab).sort((a, b) => a.byteOffset - b.byteOffset);
      for (let i = 0; i < inSlab.length; i++) {
        const b = inSlab[i]!;
        expect(b.byteOffset % 8).toBe(0);
        expect(b.byteOffset + b.length).toBeLessThanOrEqual(64 * 1024);
        if (i > 0) expect(b.byteOffset).toBeGreaterThanOrEqual(inSlab[i - 1]!.byteOffset + inSlab[i - 1]!.length);
      }
    }
    for (const b of got) {
      expect(pool.owns(b)).toBe(false);
      pool.release(b);
    }
    expect(pool.available).toBe(0);
    // Writing one record never touches another.
    const a = pool.allocate(100).fill(1);
    const b = pool.allocate(100).fill(2);
    expect(a.every((x) => x === 1) && b.every((x) => x === 2)).toBe(true);
  });

  it('keeps at most 32 free buffers', () => {
    const pool = new RecordBufferPool();
    const bufs = Array.from({ length: 40 }, () => pool.allocate(50000));
    for (const b of bufs) pool.release(b);
    expect(pool.available).toBe(32);
  });
});

describe('box records opened in place', () => {
  const key = randomBytes(32);
  const seal = (plain: Uint8Array, seq = 0n): Uint8Array => {
    const c = new BoxRecordCipher(Buffer.from(key), Direction.CLIENT_TO_SERVER);
    const [rec] = c.seal(0x10, seq, frameHeader(0x10, plain.length + 16), plain);
    return rec!.subarray(5);
  };

  it('returns a view of the body holding the plaintext', () => {
    const plain = randomBytes(5000);
    const body = Buffer.from(seal(plain));
    const opened = new BoxRecordCipher(Buffer.from(key), Direction.CLIENT_TO_SERVER).openInPlace(0x10, 0n, new Uint8Array(5), body)!;
    expect(Buffer.from(opened).equals(plain)).toBe(true);
    expect(opened.buffer).toBe(body.buffer);
  });

  it('leaves a record that does not authenticate untouched', () => {
    const body = Buffer.from(seal(randomBytes(3000)));
    body[100]! ^= 1;
    const copy = Buffer.from(body);
    const r = new BoxRecordCipher(Buffer.from(key), Direction.CLIENT_TO_SERVER);
    expect(r.openInPlace(0x10, 0n, new Uint8Array(5), body)).toBeNull();
    expect(body.equals(copy)).toBe(true);
    // Wrong sequence number: also refused, also untouched.
    const good = Buffer.from(seal(randomBytes(3000)));
    const goodCopy = Buffer.from(good);
    expect(r.openInPlace(0x10, 1n, new Uint8Array(5), good)).toBeNull();
    expect(good.equals(goodCopy)).toBe(true);
  });
});

describe('pooled record buffers over loopback TCP', () => {
  it('delivers every byte of many mixed-size writes unchanged, both ways', async () => {
    const key = generateKeyPair('x25519');
    const server = createServer({ key, anyClient: true }, (s) => s.pipe(s));
    const { port } = await server.listen(0, '127.0.0.1');
    const session = await connect({ port, serverKey: key.publicKey });
    const sizes = [1, 65536, 70000, 16384, 200_000, 3, 65535, 131072, 40000, 65536, 65536, 65536, 99999];
    const parts = sizes.map((n) => randomBytes(n));
    const expected = Buffer.concat(parts);
    const got: Buffer[] = [];
    session.on('data', (c: Buffer) => got.push(Buffer.from(c)));
    const ended = new Promise((resolve) => session.on('end', resolve));
    for (let round = 0; round < 8; round++) for (const p of parts) session.write(p);
    session.end();
    await ended;
    const all = Buffer.concat(got);
    expect(all.length).toBe(expected.length * 8);
    for (let round = 0; round < 8; round++) expect(all.subarray(round * expected.length, (round + 1) * expected.length).equals(expected)).toBe(true);
    await server.close();
  });
});
