/** The targets the bench prints are the ones docs/DESIGN.md §8 sets. */
import { describe, expect, it } from 'vitest';
import { tcpHandshakesParallel, tcpHandshakesSequential } from '../../src/bench/figures/tcp-handshakes.js';
import { tcpMemory, udpMemory } from '../../src/bench/figures/memory.js';
import { tcpRoundTrips as tcpRtt } from '../../src/bench/figures/tcp-rtt.js';
import { tcpBulk } from '../../src/bench/figures/tcp-bulk.js';

describe('bench targets', () => {
  it('handshakes: ≥ 2× node:tls one at a time, ≥ 3× with 32 in flight', () => {
    expect(tcpHandshakesSequential.targets?.['box']).toMatchObject({ op: '>=', value: 2 });
    expect(tcpHandshakesParallel.targets?.['box']).toMatchObject({ op: '>=', value: 3, text: '≥ 3× node:tls' });
  });

  it('bulk ≥ 1.0×, round trips ≥ 0.9×, memory TCP ≤ 0.5× node:tls and UDP ≤ 8 KiB', () => {
    expect(tcpBulk.targets?.['box']).toMatchObject({ kind: 'ratio', op: '>=', value: 1 });
    expect(tcpRtt.targets?.['box']).toMatchObject({ kind: 'ratio', op: '>=', value: 0.9 });
    expect(tcpMemory.targets?.['box']).toMatchObject({ kind: 'ratio', op: '<=', value: 0.5 });
    expect(udpMemory.targets?.['box']).toMatchObject({ kind: 'absolute', op: '<=', value: 8 });
  });
});

describe('bench implementations named box:CIPHER', () => {
  it('are not taken for suite names by the RSA bound figure (it used to throw "unknown suite")', async () => {
    const { rsaSuites } = await import('../../src/bench/figures/rsa-bound.js');
    const ctx = { tcpImpls: ['net', 'tls', 'box', 'box:xsalsa20-poly1305', 'sid'] } as unknown as Parameters<typeof rsaSuites>[0];
    expect(rsaSuites(ctx)).toEqual(['sid']);
  });
});
