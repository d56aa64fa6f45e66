/** The targets the bench prints are the ones docs/DESIGN.md §8 sets. */
import { describe, expect, it } from 'vitest';
import { tcpHandshakesParallel, tcpHandshakesSequential } from '../../src/bench/figures/tcp-handshakes.js';

describe('bench targets', () => {
  it('handshakes: ≥ 2× node:tls one at a time, ≥ 3× with 32 in flight', () => {
    expect(tcpHandshakesSequential.targets?.['box']).toMatchObject({ op: '>=', value: 2 });
    expect(tcpHandshakesParallel.targets?.['box']).toMatchObject({ op: '>=', value: 3, text: '≥ 3× node:tls' });
  });
});

describe('bench implementations named box:CIPHER', () => {
  it('are not taken for suite names by the RSA bound figure (it used to throw "unknown suite")', async () => {
    const { rsaSuites } = await import('../../src/bench/figures/rsa-bound.js');
    const ctx = { tcpImpls: ['net', 'tls', 'box', 'box:xsalsa20-poly1305', 'sid'] } as unknown as Parameters<typeof rsaSuites>[0];
    expect(rsaSuites(ctx)).toEqual(['sid']);
  });
});
