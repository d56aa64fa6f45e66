/**
 * The same tests, on the browser backend: the box suite's own test files (messages, sizes, nonces,
 * forward secrecy, long-term key cache, conformance over TCP) run again here with
 * src/crypto/{box,hash,secrets,random,record-aead}.ts replaced by src/browser/crypto/*, exactly the swap the
 * browser build makes. And a whole session transcript (seeded randomness) is byte for byte the
 * same on both backends.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../src/crypto/box.js', () => import('../../src/browser/crypto/box.js'));
vi.mock('../../src/crypto/hash.js', () => import('../../src/browser/crypto/hash.js'));
vi.mock('../../src/crypto/secrets.js', () => import('../../src/browser/crypto/secrets.js'));
vi.mock('../../src/crypto/random.js', () => import('../../src/browser/crypto/random.js'));
vi.mock('../../src/crypto/record-aead.js', () => import('../../src/browser/crypto/record-aead.js'));

import '../suites/box.test.js';
import '../suites/box-long-term.test.js';
import { describeTcpConformance } from '../suites/conformance-tcp.js';
import { transcript } from './transcript.js';

// The in-memory conformance file flips every bit of every message, a few minutes in pure JS: the
// refusal of altered boxes by this backend is cross-checked in backend.test.ts instead.
describeTcpConformance('box');

describe('the browser backend is in use here', () => {
  it('src/crypto/box.js is the noble module', async () => {
    const mod = await import('../../src/crypto/box.js');
    const browser = await import('../../src/browser/crypto/box.js');
    expect(mod.secretboxSeal).toBe(browser.secretboxSeal);
  });
});

describe('a seeded box session gives the same bytes on both backends', () => {
  it('handshake and records, both directions', async () => {
    const onNoble = transcript();
    vi.resetModules();
    vi.doUnmock('../../src/crypto/box.js');
    vi.doUnmock('../../src/crypto/hash.js');
    vi.doUnmock('../../src/crypto/secrets.js');
    vi.doUnmock('../../src/crypto/random.js');
    const { transcript: onSodium } = await import('./transcript.js');
    const sodiumBytes = onSodium();
    expect(onNoble.backend).not.toBe(sodiumBytes.backend);
    expect(onNoble.frames.length).toBeGreaterThan(6);
    expect(onNoble.frames).toEqual(sodiumBytes.frames);
  });
});
