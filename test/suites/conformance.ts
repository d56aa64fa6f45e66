/**
 * The conformance suite every sealwire suite must pass, over the in-memory sans-I/O pipe: the
 * handshake, data both ways with half-close, and the attacker's moves: every single-bit flip of
 * every handshake message and of a data record, strict prefixes of handshake messages, replay,
 * reorder, truncation, oversize frames, garbage, a wrong pinned key, an unauthorized client, and
 * the sequence-number hard limit. A suite is covered by a one-line test file:
 *
 *     describeConformance('box');
 *
 * Bit flips and prefixes need a fresh handshake each; suites with costly handshakes (RSA private
 * key operations) may pass `sampleBits` / `samplePrefixes` to test a documented subset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SealwireError, ErrorCodes } from '../../src/errors.js';
import { isRecordType, ContentType } from '../../src/record/content-type.js';
import { encodeFrame } from '../../src/record/frame.js';
import { MAX_FRAME_BODY, SEQUENCE_HARD_LIMIT } from '../../src/record/limits.js';
import type { SuiteName } from '../../src/session/handshake.js';
import { SessionPipe, other, type PipeOptions, type Side, type Tamper } from '../helpers/pipe.js';
import { fixtureFor, type ClientOverrides, type FixtureOptions, type ServerOverrides, type SuiteFixture } from '../helpers/fixtures.js';

export interface ConformanceOptions {
  /**
   * Which bit positions of a handshake frame to flip (default: every bit). Frames are whole wire
   * frames: 4-byte length, type byte, payload.
   */
  sampleBits?: (frameLength: number, frame: Buffer) => Iterable<number>;
  /** Which strict-prefix lengths of a handshake payload to try (default: all). */
  samplePrefixes?: (payloadLength: number) => Iterable<number>;
  /**
   * The message whose record is flipped bit by bit (default 32 bytes). Suites whose handshakes
   * cost RSA private-key operations pass a shorter one: the record's structure is the same.
   */
  recordFlipMessage?: Buffer;
  /** Time limit of the bit-flip tests (default: the configured test timeout). */
  flipTimeoutMs?: number;
  /** Per-server resources for the in-memory runs in place of `suite.openServer` (see FixtureOptions). */
  openServer?: FixtureOptions['openServer'];
  /** `box`: run with this record cipher forced on both ends (default: negotiated). */
  boxCipher?: FixtureOptions['boxCipher'];
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const flipBit = (b: Buffer, bit: number): Buffer => {
  const c = Buffer.from(b);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

interface PipeSetup extends PipeOptions {
  client?: ClientOverrides;
  server?: ServerOverrides;
}

export function describeConformance(name: SuiteName, options: ConformanceOptions = {}): void {
  describe(`suite '${name}'${options.boxCipher ? ` (${options.boxCipher})` : ''}: conformance over the in-memory pipe`, () => {
    let fx: SuiteFixture;
    beforeAll(async () => {
      fx = await fixtureFor(name, { openServer: options.openServer, boxCipher: options.boxCipher });
    });
    afterAll(() => fx?.close());

    const pipe = (setup: PipeSetup = {}): SessionPipe => new SessionPipe(fx.client(setup.client), fx.server(setup.server), setup).run();

    /** An established pipe (asserted), plus the frames of the handshake. */
    const established = (setup: PipeSetup = {}): SessionPipe => {
      const p = pipe(setup);
      expect(p.errors('client')).toEqual([]);
      expect(p.errors('server')).toEqual([]);
      expect(p.secure('client') && p.secure('server')).toBe(true);
      return p;
    };

    /** Errors must be SealwireErrors with a known code, and there must be at least one. */
    const expectFailed = (p: SessionPipe, side: Side): SealwireError => {
      const errs = p.errors(side);
      expect(errs.length, `${side} should have failed`).toBeGreaterThan(0);
      for (const e of errs) {
        expect(e).toBeInstanceOf(SealwireError);
        expect(ErrorCodes).toContain(e.code);
      }
      expect(p.session(side).phase).toBe('failed');
      return errs[0]!;
    };

    it('completes the handshake, verifies both keys and carries data both ways with half-close', () => {
      const p = established();
      expect(p.client.peerPublicKey?.equals(fx.serverKey.publicKey)).toBe(true);
      if (fx.clientKey) expect(p.server.peerPublicKey?.equals(fx.clientKey.publicKey)).toBe(true);
      else expect(p.server.peerPublicKey).toBeNull();

      const up = randomBytes(3000);
      const down = randomBytes(5000);
      p.client.send(up);
      p.client.end();
      p.flush();
      expect(p.received('server').equals(up)).toBe(true);
      expect(p.ended('server')).toBe(true);
      // Half-close: the server can still send after the client's close record.
      p.server.send(down);
      p.server.end();
      p.flush();
      expect(p.received('client').equals(down)).toBe(true);
      expect(p.ended('client')).toBe(true);
      p.endBoth();
      expect(p.errors('client')).toEqual([]);
      expect(p.errors('server')).toEqual([]);
    });

    it('carries a message larger than one record (split at 64 KiB), and many small writes coalesced', () => {
      const p = established();
      const big = randomBytes(200 * 1024 + 7);
      p.client.send(big);
      const small = range(100).map((i) => Buffer.alloc(10 + i, i));
      p.server.sendMany(small);
      p.flush();
      expect(p.received('server').equals(big)).toBe(true);
      expect(p.received('client').equals(Buffer.concat(small))).toBe(true);
      // 100 small writes travel in far fewer records.
      expect(p.wire.server.filter((f) => f[4] === ContentType.DATA).length).toBeLessThan(5);
    });

    it('gives the two directions different keys or nonces (same plaintext, different records)', () => {
      const p = established();
      const msg = Buffer.alloc(64, 0x41);
      p.client.send(msg);
      p.server.send(msg);
      p.flush();
      const c = p.wire.client.find((f) => f[4] === ContentType.DATA)!;
      const s = p.wire.server.find((f) => f[4] === ContentType.DATA)!;
      expect(c.subarray(5).equals(s.subarray(5))).toBe(false);
    });

    // Both ways a client can know the server: pinned from the start, or learned in the handshake.
    const identities: Record<string, () => ClientOverrides> = {
      pinned: () => ({}),
      learned: () => ({ server: { kind: 'learn', verify: () => {} } }),
    };

    it.each(Object.keys(identities))('rejects every single-bit flip of every handshake message (server key %s)', (mode) => {
      const client = identities[mode]!;
      const reference = established({ client: client() });
      let tried = 0;
      for (const from of ['client', 'server'] as const) {
        reference.wire[from].forEach((frame, index) => {
          if (isRecordType(frame[4]!)) return;
          const bits = options.sampleBits ? [...options.sampleBits(frame.length, frame)] : range(frame.length * 8);
          for (const bit of bits) {
            const tamper: Tamper = (f, fr, i) => (f === from && i === index ? [flipBit(fr, bit)] : [fr]);
            const p = pipe({ tamper, client: client() });
            p.advance(3_600_000).endBoth();
            const to = other(from);
            expect(p.secure(to), `flip of bit ${bit} in ${from} frame ${index} was accepted`).toBe(false);
            expectFailed(p, to);
            expect(p.received('client').length + p.received('server').length).toBe(0);
            tried++;
          }
        });
      }
      expect(tried).toBeGreaterThan(100);
    }, options.flipTimeoutMs);

    it('rejects every strict prefix of every handshake message', () => {
      const reference = established();
      let tried = 0;
      for (const from of ['client', 'server'] as const) {
        reference.wire[from].forEach((frame, index) => {
          if (isRecordType(frame[4]!)) return;
          const payload = frame.subarray(5);
          const lengths = options.samplePrefixes ? [...options.samplePrefixes(payload.length)] : range(payload.length);
          for (const len of lengths) {
            const tamper: Tamper = (f, fr, i) => (f === from && i === index ? [encodeFrame(fr[4]!, fr.subarray(5, 5 + len))] : [fr]);
            const p = pipe({ tamper });
            p.advance(3_600_000).endBoth();
            expect(p.secure(other(from)), `prefix of ${len} bytes of ${from} frame ${index} was accepted`).toBe(false);
            expectFailed(p, other(from));
            tried++;
          }
        });
      }
      expect(tried).toBeGreaterThan(10);
    });

    it('rejects every single-bit flip of a data record in either direction, delivering nothing from it', () => {
      const msg = options.recordFlipMessage ?? Buffer.from('a record whose every bit matters');
      for (const from of ['client', 'server'] as const) {
        const reference = established();
        const firstRecord = reference.wire[from].length;
        reference.session(from).send(msg);
        reference.flush();
        const record = reference.wire[from][firstRecord]!;
        for (let bit = 0; bit < record.length * 8; bit++) {
          const p = established({ tamper: (f, fr, i) => (f === from && i === firstRecord ? [flipBit(fr, bit)] : [fr]) });
          p.session(from).send(msg);
          p.flush();
          p.endBoth();
          const to = other(from);
          expectFailed(p, to);
          expect(p.received(to).length, `flip of bit ${bit} delivered data`).toBe(0);
        }
      }
    }, options.flipTimeoutMs);

    it('rejects a replayed record and delivers its data once', () => {
      const p = established({ tamper: (f, fr) => (f === 'client' && fr[4] === ContentType.DATA ? [fr, fr] : [fr]) });
      p.client.send(Buffer.from('once'));
      p.flush();
      expect(p.received('server').toString()).toBe('once');
      expect(expectFailed(p, 'server').code).toBe('BAD_RECORD');
    });

    it('rejects reordered records', () => {
      let held: Buffer | null = null;
      const p = established({
        tamper: (f, fr) => {
          if (f !== 'client' || fr[4] !== ContentType.DATA) return [fr];
          if (!held) {
            held = fr;
            return [];
          }
          return [fr, held];
        },
      });
      p.client.send(Buffer.from('first'));
      p.client.send(Buffer.from('second'));
      p.flush();
      expect(expectFailed(p, 'server').code).toBe('BAD_RECORD');
      expect(p.received('server').length).toBe(0);
    });

    it('reports a stream cut without a close record as TRUNCATED, and one cut inside a record too', () => {
      const p = established();
      p.client.send(Buffer.from('partial'));
      p.flush();
      p.server.receiveEnd();
      p.flush();
      expect(expectFailed(p, 'server').code).toBe('TRUNCATED');

      let cut = false;
      const q = established({
        tamper: (f, fr) => {
          if (f === 'client' && fr[4] === ContentType.CLOSE && !cut) {
            cut = true;
            return [fr.subarray(0, fr.length - 1)];
          }
          return [fr];
        },
      });
      q.client.end();
      q.flush();
      q.server.receiveEnd();
      q.flush();
      expect(expectFailed(q, 'server').code).toBe('TRUNCATED');
      expect(q.ended('server')).toBe(false);
    });

    it('refuses data after the peer\'s close record', () => {
      let close: Buffer | null = null;
      const p = established({
        tamper: (f, fr) => {
          if (f === 'client' && fr[4] === ContentType.CLOSE) close = fr;
          return [fr];
        },
      });
      p.client.end();
      p.flush();
      expect(p.ended('server')).toBe(true);
      p.inject('server', close!);
      expect(expectFailed(p, 'server').code).toBe('BAD_RECORD');
      expect(() => p.client.send(Buffer.from('x'))).toThrow(SealwireError);
    });

    it('refuses an oversize frame from its 4-byte length, during and after the handshake', () => {
      for (const length of [0xffffffff, MAX_FRAME_BODY + 1]) {
        const header = Buffer.alloc(4);
        header.writeUInt32BE(length);
        const hs = new SessionPipe(fx.client(), fx.server());
        hs.server.start();
        hs.inject('server', header);
        expect(expectFailed(hs, 'server').code).toBe('TOO_LARGE');

        const p = established();
        p.inject('client', header);
        expect(expectFailed(p, 'client').code).toBe('TOO_LARGE');
      }
    });

    it('survives random garbage at every stage with a SealwireError and nothing delivered', () => {
      for (let i = 0; i < 200; i++) {
        const garbage = randomBytes(1 + (i % 50) * 37);
        const hs = new SessionPipe(fx.client(), fx.server());
        hs.server.start();
        hs.inject('server', garbage);
        hs.advance(3_600_000).endBoth();
        expectFailed(hs, 'server');
        expect(hs.secure('server')).toBe(false);

        const cl = new SessionPipe(fx.client(), fx.server());
        cl.client.start();
        cl.client.takeOutput();
        cl.inject('client', garbage);
        cl.advance(3_600_000).endBoth();
        expectFailed(cl, 'client');
        expect(cl.secure('client')).toBe(false);
      }
      const p = established();
      p.inject('server', randomBytes(100));
      p.endBoth();
      expectFailed(p, 'server');
      expect(p.received('server').length).toBe(0);
    });

    it('fails before any data flows when the client pins another server key', () => {
      const p = pipe({ client: { server: { kind: 'pinned', key: fx.otherServerKey.publicKey } } });
      p.advance(3_600_000).endBoth();
      expect(p.secure('client')).toBe(false);
      expectFailed(p, 'client');
      expect(p.received('client').length + p.received('server').length).toBe(0);
    });

    it('learns the server key when not pinned, and refuses it when the verifier says no', () => {
      const seen: string[] = [];
      const ok = pipe({ client: { server: { kind: 'learn', verify: (k) => void seen.push(k.fingerprint) } } });
      expect(ok.secure('client')).toBe(true);
      expect(ok.client.peerPublicKey?.equals(fx.serverKey.publicKey)).toBe(true);
      expect(seen).toContain(fx.serverKey.publicKey.fingerprint);

      const refuse = pipe({
        client: {
          server: {
            kind: 'learn',
            verify: () => {
              throw new SealwireError('UNKNOWN_PEER', 'refused by test');
            },
          },
        },
      });
      refuse.advance(3_600_000).endBoth();
      expect(refuse.secure('client')).toBe(false);
      expect(expectFailed(refuse, 'client').code).toBe('UNKNOWN_PEER');
    });

    it('lets the server refuse a client key (authorize returns false)', () => {
      if (!fx.clientKey) return; // anonymous clients: nothing to authorize (see the suite's own tests)
      const p = pipe({ server: { authorize: (k) => !k.equals(fx.clientKey!.publicKey) } });
      p.advance(3_600_000).endBoth();
      expect(p.secure('server')).toBe(false);
      expect(expectFailed(p, 'server').code).toBe('UNKNOWN_PEER');
      expect(p.received('server').length).toBe(0);
      const q = pipe({ client: { key: fx.otherClientKey }, server: { authorize: (k) => k.equals(fx.otherClientKey!.publicKey) } });
      expect(q.secure('server')).toBe(true);
      expect(q.server.peerPublicKey?.equals(fx.otherClientKey!.publicKey)).toBe(true);
    });

    it('times out a handshake that does not finish', () => {
      const p = new SessionPipe(fx.client(), fx.server(), { handshakeTimeoutMs: 5_000 });
      p.server.start();
      p.advance(4_999);
      expect(p.errors('server')).toEqual([]);
      p.advance(1);
      expect(expectFailed(p, 'server').code).toBe('TIMEOUT');
    });

    it('refuses to send past the 64-bit sequence limit instead of wrapping', () => {
      const p = established({ testing: { initialSequenceForTestingOnly: SEQUENCE_HARD_LIMIT - 2n } });
      p.client.send(Buffer.from('a'));
      p.client.send(Buffer.from('b'));
      expect(() => p.client.send(Buffer.from('c'))).toThrow(SealwireError);
      p.flush();
      expect(p.received('server').toString()).toBe('ab');
    });
  });
}
