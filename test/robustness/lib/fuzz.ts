/**
 * Parser fuzzing with fast-check: the bounded Reader, the stream deframer, every suite's message
 * decoders (the `parse*` / `check*` functions of `suites/<name>/messages.ts`, found by name), and
 * every handshake state of every suite fed random, mutated (bit flips, truncations, extensions),
 * swapped and other-suite messages. Properties: nothing but a `SealwireError` with a known code
 * escapes; no strict prefix or extension of a valid message is accepted; a handshake never becomes
 * established from a message other than the one its peer sent.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ErrorCodes, SealwireError } from '../../../src/errors.js';
import { Reader } from '../../../src/wire/reader.js';
import { StreamDeframer, encodeFrame } from '../../../src/record/frame.js';
import { availableSuites } from '../../../src/suites/index.js';
import type { Handshake, HandshakeMessage, SuiteName } from '../../../src/session/handshake.js';
import type { SuiteFixture } from '../../helpers/fixtures.js';
import { fixture } from './targets.js';

export function assertOnlySealwire(fn: () => unknown, where: string): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    assert.ok(e instanceof SealwireError, `${where}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.ok(ErrorCodes.includes(e.code), `${where}: unknown code ${e.code}`);
    return false;
  }
}

export function fuzzReader(numRuns: number): void {
  const op = fc.oneof(
    fc.constant('u8'),
    fc.constant('u16'),
    fc.constant('u32'),
    fc.constant('u64'),
    fc.constant('end'),
    fc.constant('rest'),
    fc.record({ fixed: fc.integer({ min: -2, max: 300 }) }),
    fc.record({ vec16: fc.integer({ min: 0, max: 70000 }) }),
    fc.record({ vec32: fc.integer({ min: 0, max: 70000 }) }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(op, { maxLength: 20 }), (bytes, ops) => {
      const r = new Reader(bytes, 'fuzz');
      for (const o of ops) {
        const before = r.remaining;
        assertOnlySealwire(() => {
          if (typeof o === 'string') (r as unknown as Record<string, (f: string) => unknown>)[o]!.call(r, 'f');
          else if ('fixed' in o) assert.equal(r.fixed(o.fixed, 'f').length, o.fixed);
          else if ('vec16' in o) assert.ok(r.vec16('f', o.vec16).length <= o.vec16);
          else assert.ok(r.vec32('f', o.vec32).length <= o.vec32);
        }, 'Reader');
        assert.ok(r.remaining <= before && r.remaining >= 0, 'Reader moved backwards or overran');
      }
    }),
    { numRuns },
  );
}

export function fuzzDeframer(numRuns: number): void {
  // Arbitrary bytes, arbitrary chunking: frames or a SealwireError, nothing else.
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
      const d = new StreamDeframer();
      assertOnlySealwire(() => {
        for (const c of chunks) {
          d.push(c);
          while (d.next());
        }
      }, 'StreamDeframer');
    }),
    { numRuns },
  );
  // Valid frames split anywhere come out unchanged; a strict prefix never yields the frame.
  const frame = fc.record({ type: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 3000 }) });
  fc.assert(
    fc.property(fc.array(frame, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 8 }), (frames, cuts) => {
      const wire = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
      const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
      const d = new StreamDeframer();
      const out: { type: number; payload: Buffer }[] = [];
      let last = 0;
      for (const p of [...points, wire.length]) {
        d.push(wire.subarray(last, p));
        last = p;
        for (let f = d.next(); f; f = d.next()) out.push({ type: f.type, payload: Buffer.from(f.payload) });
      }
      assert.deepEqual(out.map((f) => [f.type, f.payload.toString('hex')]), frames.map((f) => [f.type, Buffer.from(f.payload).toString('hex')]));
      const one = encodeFrame(frames[0]!.type, frames[0]!.payload);
      for (let n = 0; n < one.length; n += Math.max(1, Math.floor(one.length / 50))) {
        const p = new StreamDeframer();
        p.push(one.subarray(0, n));
        assert.equal(p.next(), undefined, `a ${n}-byte prefix of a ${one.length}-byte frame parsed`);
      }
    }),
    { numRuns },
  );
}

// --- handshakes ------------------------------------------------------------------------------

interface Delivery {
  readonly to: 'client' | 'server';
  readonly message: HandshakeMessage;
}

type Mode = 'pinned' | 'learn';
const make = (fx: SuiteFixture, mode: Mode): { client: Handshake; server: Handshake } => ({
  client: fx.client(mode === 'learn' ? { server: { kind: 'learn', verify: () => {} } } : {}),
  server: fx.server(),
});

/**
 * Runs a live handshake, delivering the first `k` messages as sent; the k-th delivery goes
 * through `replace` instead. Returns what happened to the recipient of that message.
 */
function drive(
  fx: SuiteFixture,
  mode: Mode,
  k: number,
  replace?: (legit: HandshakeMessage) => HandshakeMessage,
): { transcript: Delivery[]; recipientEstablished: boolean; changed: boolean; recipient: 'client' | 'server' | null; delivered: HandshakeMessage | null } {
  const hs = make(fx, mode);
  const established = { client: false, server: false };
  const queue: Delivery[] = [];
  const transcript: Delivery[] = [];
  for (const m of hs.server.start().send) queue.push({ to: 'client', message: m });
  for (const m of hs.client.start().send) queue.push({ to: 'server', message: m });
  let changed = false;
  let recipient: 'client' | 'server' | null = null;
  let delivered: HandshakeMessage | null = null;
  for (let i = 0; queue.length > 0 && i < 50; i++) {
    const d = queue.shift()!;
    let message = d.message;
    transcript.push(d);
    if (replace && i === k) {
      message = replace(d.message);
      changed = message.type !== d.message.type || !Buffer.from(message.payload).equals(Buffer.from(d.message.payload));
      recipient = d.to;
      delivered = message;
    }
    let step;
    try {
      step = hs[d.to].receive(message);
    } catch (e) {
      assertOnlySealwire(() => {
        throw e;
      }, `handshake ${d.to} at delivery ${i}`);
      break;
    }
    if (step.established) established[d.to] = true;
    const from = d.to;
    for (const m of step.send) queue.push({ to: from === 'client' ? 'server' : 'client', message: m });
  }
  hs.client.wipe();
  hs.server.wipe();
  return { transcript, recipientEstablished: recipient !== null && established[recipient], changed, recipient, delivered };
}

const mutation = (pool: HandshakeMessage[]) =>
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
    fc.record({ kind: fc.constant('type' as const), type: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('swap' as const), index: fc.nat(Math.max(0, pool.length - 1)) }),
    fc.record({ kind: fc.constant('random' as const), type: fc.integer({ min: 0, max: 0x11 }), payload: fc.uint8Array({ maxLength: 600 }) }),
  );

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the union of mutation records above
function apply(m: HandshakeMessage, mut: any, pool: HandshakeMessage[]): HandshakeMessage {
  const p = Buffer.from(m.payload);
  switch (mut.kind) {
    case 'flip':
      if (p.length === 0) return { type: m.type ^ (1 << mut.bit), payload: p };
      p[mut.at % p.length]! ^= 1 << mut.bit;
      return { type: m.type, payload: p };
    case 'truncate':
      return { type: m.type, payload: p.subarray(0, p.length === 0 ? 0 : mut.at % p.length) };
    case 'extend':
      return { type: m.type, payload: Buffer.concat([p, mut.extra]) };
    case 'type':
      return { type: mut.type, payload: p };
    case 'swap':
      return pool[mut.index % pool.length] ?? m;
    default:
      return { type: mut.type, payload: mut.payload };
  }
}

/** Every handshake state of `name` (both identity modes) against random and mutated messages. */
export async function fuzzHandshakes(name: SuiteName, numRuns: number): Promise<number> {
  const fx = await fixture(name);
  // The pool: every message of every suite's handshake (swapped and other-suite messages).
  const pool: HandshakeMessage[] = [];
  // Messages legitimate clients of this suite sent to this server in other handshakes. A verbatim
  // replay of one is not a forgery: a suite may accept it (secsess: the server cannot tell a
  // replayed KeyExchange from a new client; docs/SECURITY.md says so, and why the replayer gains
  // nothing). Only such a replay, delivered to the server, may establish it.
  const replays = new Set<string>();
  const id = (m: HandshakeMessage): string => `${m.type}:${Buffer.from(m.payload).toString('hex')}`;
  for (const other of availableSuites()) {
    const ofx = await fixture(other);
    for (const mode of ['pinned', 'learn'] as const) {
      const transcript = drive(ofx, mode, -1).transcript;
      pool.push(...transcript.map((d) => d.message));
      if (other === name) for (const d of transcript) if (d.to === 'server') replays.add(id(d.message));
    }
  }
  let cases = 0;
  for (const mode of ['pinned', 'learn'] as const) {
    const length = drive(fx, mode, -1).transcript.length;
    assert.ok(length >= 2, `${name}: a handshake has at least two messages`);
    fc.assert(
      fc.property(fc.nat(length - 1), mutation(pool), (k, mut) => {
        const r = drive(fx, mode, k, (m) => apply(m, mut, pool));
        cases++;
        const replay = r.recipient === 'server' && r.delivered !== null && replays.has(id(r.delivered));
        if (r.changed && !replay) assert.ok(!r.recipientEstablished, `${name} (${mode}): established after a ${String((mut as { kind: string }).kind)} of delivery ${k}`);
      }),
      { numRuns },
    );
  }
  return cases;
}

/** How `fuzzDecoders` treats particular decoders of a suite. */
export interface DecoderContext {
  /** Arguments after the bytes, for decoders that need context (e.g. the RSA block size). */
  readonly args?: Readonly<Record<string, readonly unknown[]>>;
  /**
   * Decoders whose last field is legitimately variable-length and checked by the caller, by
   * name, with the size of their fixed part: prefixes shorter than that must be refused, longer
   * ones (and extensions) are the caller's to refuse. Each entry says why in the test that lists it.
   */
  readonly trailing?: Readonly<Record<string, number>>;
}

/**
 * Decoders that need more than the bytes, or whose last field is variable-length by design.
 * - ccm.parseClientKeyExchange takes the RSA block size (the server's modulus, 256 bytes for the
 *   2048-bit test keys) and refuses any other.
 * - sid.parseIdentityPlain is cid (8) ‖ challenge (16) ‖ the client's SPKI, the rest of a plaintext that the
 *   hybrid box has already authenticated; the key is variable-length (any allowed RSA size) and
 *   the server compares it byte for byte with the ClientHello's key, which refuses a truncated
 *   or extended one (the handshake fuzzing below covers that path). Only cid and challenge are fixed.
 */
export const DECODER_CONTEXT: Partial<Record<SuiteName, DecoderContext>> = {
  ccm: { args: { parseClientKeyExchange: [256] } },
  sid: { trailing: { parseIdentityPlain: 24 } },
};

/**
 * The suite's decoders, found by name in its messages module: every exported `parse*`, `decode*`
 * or `check*` function of one argument, or of more when `context.args` gives the others. Random
 * input gives a value or a SealwireError; a strict prefix or an extension of any input it accepts
 * (handshake payloads of real transcripts) is refused.
 */
export async function fuzzDecoders(name: SuiteName, numRuns: number, extraValid: Uint8Array[] = [], context: DecoderContext = DECODER_CONTEXT[name] ?? {}): Promise<string[]> {
  const url = new URL(`../../../src/suites/${name}/messages.js`, import.meta.url).href;
  const mod = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
  const decoders: [string, (b: Uint8Array) => unknown][] = [];
  for (const [n, f] of Object.entries(mod)) {
    if (!/^(parse|decode|check)/.test(n) || typeof f !== 'function') continue;
    const args = context.args?.[n];
    if (args) decoders.push([n, (b) => (f as (b: Uint8Array, ...a: unknown[]) => unknown)(b, ...args)]);
    else if (f.length === 1) decoders.push([n, f as (b: Uint8Array) => unknown]);
    else throw new Error(`${name}.${n} takes ${f.length} arguments: give them in context.args`);
  }
  const fx = await fixture(name);
  const valid = [...extraValid];
  for (const mode of ['pinned', 'learn'] as const) valid.push(...drive(fx, mode, -1).transcript.map((d) => d.message.payload));
  for (const [n, decode] of decoders) {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (b) => {
        assertOnlySealwire(() => decode(b), `${name}.${n}`);
      }),
      { numRuns },
    );
    const fixedPart = context.trailing?.[n];
    for (const v of valid) {
      if (!assertOnlySealwire(() => decode(v), `${name}.${n}`)) continue;
      for (let len = 0; len < (fixedPart ?? v.length); len++) {
        assert.ok(!assertOnlySealwire(() => decode(v.subarray(0, len)), `${name}.${n}`), `${name}.${n} accepted a ${len}-byte prefix of a ${v.length}-byte message`);
      }
      if (fixedPart !== undefined) continue;
      assert.ok(!assertOnlySealwire(() => decode(Buffer.concat([v, Buffer.from([0])])), `${name}.${n}`), `${name}.${n} accepted an extended message`);
    }
  }
  return decoders.map(([n]) => n);
}
