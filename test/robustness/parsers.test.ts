/** Parser and handshake fuzzing (quick form; the soak runs many more cases). See lib/fuzz.ts. */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { availableSuites } from '../../src/suites/index.js';
import { encodeCookiePlain, encodeHelloPlain, encodeVPlain, encodeVouchPlain } from '../../src/suites/box/messages.js';
import { DECODER_CONTEXT, fuzzDecoders, fuzzDeframer, fuzzHandshakes, fuzzReader } from './lib/fuzz.js';

/** Valid inner plaintexts of box (inside boxes, so not in a transcript), for its decoders. */
const BOX_INNER = [
  encodeHelloPlain(randomBytes(32)),
  encodeCookiePlain({ serverEphemeral: randomBytes(32), ctag: randomBytes(32), stag: randomBytes(32) }),
  encodeVouchPlain({ clientKey: randomBytes(32), vNonce: randomBytes(22), v: randomBytes(80) }),
  encodeVPlain({ clientEphemeral: randomBytes(32), stag: randomBytes(32) }),
];

describe('robustness: parsers', () => {
  it('wire Reader: random reads over random bytes throw only SealwireError and never overrun', () => {
    fuzzReader(2000);
  });

  it('record framing: random chunked bytes, valid frames split anywhere, no strict prefix yields a frame', () => {
    fuzzDeframer(300);
  });

  it.each(availableSuites())('%s: every message decoder on random input, prefixes and extensions', async (name) => {
    const names = await fuzzDecoders(name, 500, name === 'box' ? BOX_INNER : [], DECODER_CONTEXT[name]);
    expect(names.length).toBeGreaterThan(0);
  });

  it.each(availableSuites())('%s: every handshake state against bit flips, truncations, extensions, swapped and other-suite messages', async (name) => {
    const cases = await fuzzHandshakes(name, 150);
    expect(cases).toBeGreaterThanOrEqual(300);
  }, 60_000);
});
