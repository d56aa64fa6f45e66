import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/key.js';
import { boxSuite } from '../../src/suites/box/index.js';
import { systemRng } from '../../src/crypto/random.js';
import { SessionPipe } from '../helpers/pipe.js';

describe('box smoke', () => {
  it('handshakes and moves data', () => {
    const s = generateKeyPair('x25519');
    const c = generateKeyPair('x25519');
    const pipe = new SessionPipe(
      boxSuite.client({ key: c, server: { kind: 'pinned', key: s.publicKey }, rng: systemRng }),
      boxSuite.server({ key: s, authorize: () => true, rng: systemRng }),
    ).run();
    expect(pipe.errors('client')).toEqual([]);
    expect(pipe.errors('server')).toEqual([]);
    expect(pipe.secure('client')).toBe(true);
    pipe.client.send(Buffer.from('hello'));
    pipe.server.send(Buffer.from('yes!'));
    pipe.client.end();
    pipe.flush();
    expect(pipe.received('server').toString()).toBe('hello');
    expect(pipe.received('client').toString()).toBe('yes!');
    expect(pipe.events.server.at(-1)).toEqual({ type: 'end' });
  });
});
