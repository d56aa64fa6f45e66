/**
 * Records split across input chunks on a transport that gives up its input (a TCP socket): the
 * deframer copies such a record into its scratch buffer, and the record layer opens it into a
 * used-up input chunk (record/frame.ts `next(true)`, RecordCipher.openInto). What must hold: every
 * byte arrives as sent, a plaintext already delivered is never overwritten by a later record (the
 * scratch is reused, chunks are recycled as output), the path really runs, and a tampered split
 * record still ends the session.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { StreamSession, type SessionEvent } from '../../src/session/stream-session.js';
import { boxSuite } from '../../src/suites/box/index.js';
import { generateKeyPair } from '../../src/keys/key.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';
import { MAX_PLAINTEXT } from '../../src/record/limits.js';
import type { BoxCipherName } from '../../src/crypto/record-aead.js';

/** A box client and a server whose input is owned (as a TCP socket's is), both open. */
function openPair(boxCipher: BoxCipherName): { client: StreamSession; server: StreamSession } {
  const serverKey = generateKeyPair('x25519');
  const client = new StreamSession(boxSuite.client({ key: generateKeyPair('x25519'), server: { kind: 'pinned', key: serverKey.publicKey }, rng: seededRngForTestingOnly('c'), boxCipher }), { now: 0 });
  const server = new StreamSession(boxSuite.server({ key: serverKey, authorize: () => true, rng: seededRngForTestingOnly('s'), boxCipher }), { now: 0 });
  server.useTransportBuffers({ receiveOwnsInput: true });
  client.start();
  server.start();
  for (let i = 0; i < 4; i++) {
    for (const o of client.takeOutput()) server.receive(Buffer.from(o));
    for (const o of server.takeOutput()) client.receive(Buffer.from(o));
  }
  expect([client.phase, server.phase]).toEqual(['open', 'open']);
  client.takeEvents();
  server.takeEvents();
  return { client, server };
}

/** Cuts `bytes` into fresh chunks of `size` bytes (a socket reading 64 KiB at a time). */
function chunks(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < bytes.length; o += size) out.push(Buffer.from(bytes.subarray(o, o + size)));
  return out;
}

const delivered = (events: SessionEvent[]): Uint8Array[] => events.flatMap((e) => (e.type === 'data' ? [e.data] : []));

describe.each(['chacha20-poly1305', 'xsalsa20-poly1305'] as const)('split records on an owned input, %s', (cipher) => {
  it('delivers every byte, never overwrites a delivered plaintext, and opens split records into used-up chunks', () => {
    const { client, server } = openPair(cipher);
    const sizes = [MAX_PLAINTEXT, MAX_PLAINTEXT, 1, 1000, MAX_PLAINTEXT, 40_000, MAX_PLAINTEXT, 17, MAX_PLAINTEXT, MAX_PLAINTEXT, 65_000, 3];
    const sent = sizes.map((n) => randomBytes(n));
    for (const m of sent) client.send(m);
    const wire = Buffer.concat(client.takeOutput());
    const inputs = chunks(wire, 64 * 1024);
    const kept: Uint8Array[] = [];
    for (const c of inputs) {
      server.receive(c);
      kept.push(...delivered(server.takeEvents()));
    }
    expect(server.phase).toBe('open');
    // Checked only now, after every record: a later record must not have overwritten an earlier one.
    expect(Buffer.concat(kept).equals(Buffer.concat(sent))).toBe(true);
    const inputBuffers = new Set(inputs.map((c) => c.buffer));
    const intoChunks = kept.filter((p) => inputBuffers.has(p.buffer as ArrayBuffer));
    // 64 KiB reads split almost every 64 KiB record: most plaintexts live in a used-up input chunk.
    expect(intoChunks.length).toBeGreaterThanOrEqual(4);
    // No two delivered plaintexts share memory.
    const ranges = kept.map((p) => [p.buffer, p.byteOffset, p.byteOffset + p.length] as const);
    for (let i = 0; i < ranges.length; i++) {
      for (let j = i + 1; j < ranges.length; j++) {
        const [bi, si, ei] = ranges[i]!;
        const [bj, sj, ej] = ranges[j]!;
        if (bi === bj) expect(ei <= sj || ej <= si).toBe(true);
      }
    }
  });

  it('ends the session on a flipped bit in a split record, delivering nothing of it', () => {
    const { client, server } = openPair(cipher);
    client.send(randomBytes(MAX_PLAINTEXT));
    client.send(randomBytes(MAX_PLAINTEXT));
    const wire = Buffer.concat(client.takeOutput());
    // The second record starts at 65,557 (5 + 65,536 + 16) and is split at 131,072: flip a byte in it.
    wire[100_000]! ^= 0x40;
    const events: SessionEvent[] = [];
    for (const c of chunks(wire, 64 * 1024)) {
      server.receive(c);
      events.push(...server.takeEvents());
    }
    expect(delivered(events).map((d) => d.length)).toEqual([MAX_PLAINTEXT]);
    expect(events.filter((e) => e.type === 'error').map((e) => (e.type === 'error' ? e.error.code : ''))).toEqual(['BAD_RECORD']);
    expect(server.phase).toBe('failed');
  });
});
