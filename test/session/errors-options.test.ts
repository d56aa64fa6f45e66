/** src/errors.ts and src/options.ts: the error type, and how options resolve into trust decisions. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, SealwireError, asSealwireError, isSealwireError } from '../../src/errors.js';
import { resolveClientKey, resolveServer, resolveServerIdentity } from '../../src/options.js';
import { generateKeyPair } from '../../src/keys/key.js';
import { saveKeyPair } from '../../src/keys/files.js';
import { getSuite } from '../../src/suites/index.js';
import { testKey } from '../helpers/fixtures.js';
import { thrown } from '../helpers/errors.js';


describe('errors', () => {
  it('carries a stable code, a name and a cause', () => {
    const cause = new Error('root');
    const e = new SealwireError('BAD_RECORD', 'msg', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SealwireError');
    expect(e.code).toBe('BAD_RECORD');
    expect(e.cause).toBe(cause);
    expect(new Set(ErrorCodes).size).toBe(ErrorCodes.length);
    for (const c of ['BAD_RECORD', 'REPLAY', 'HANDSHAKE_FAILED', 'UNKNOWN_PEER', 'TOO_LARGE', 'TIMEOUT', 'TRUNCATED', 'BAD_KEY', 'LIMIT', 'CLOSED']) {
      expect(ErrorCodes).toContain(c);
    }
  });

  it('isSealwireError checks the type and, optionally, the code', () => {
    const e = new SealwireError('REPLAY', 'r');
    expect(isSealwireError(e)).toBe(true);
    expect(isSealwireError(e, 'REPLAY')).toBe(true);
    expect(isSealwireError(e, 'LIMIT')).toBe(false);
    expect(isSealwireError(new Error('x'))).toBe(false);
    expect(isSealwireError({ code: 'REPLAY' })).toBe(false);
  });

  it('asSealwireError keeps SealwireErrors and wraps anything else with context', () => {
    const e = new SealwireError('TIMEOUT', 't');
    expect(asSealwireError(e, 'IO', 'ctx')).toBe(e);
    const wrapped = asSealwireError(new RangeError('offset out of range'), 'BAD_RECORD', 'parsing');
    expect(wrapped.code).toBe('BAD_RECORD');
    expect(wrapped.message).toBe('parsing: offset out of range');
    expect(wrapped.cause).toBeInstanceOf(RangeError);
    expect(asSealwireError('a string', 'IO', 'ctx').message).toBe('ctx: a string');
  });
});

describe('options: server', () => {
  const box = getSuite('box');
  const key = generateKeyPair('x25519');
  const alice = generateKeyPair('x25519');
  const bob = generateKeyPair('x25519');

  it('needs options and a KeyPair of the suite type', async () => {
    expect(thrown(() => resolveServer(undefined as never)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => resolveServer({ key: key.publicKey as never })).code).toBe('INVALID_ARGUMENT');
    const rsa = await testKey('rsa', 0);
    const e = thrown(() => resolveServer({ key: rsa }));
    expect(e.code).toBe('BAD_KEY');
    expect(e.message).toContain('sealwire keygen --type x25519');
    expect(thrown(() => resolveServer({ key, suite: 'nope' as never })).code).toBe('INVALID_ARGUMENT');
    expect(resolveServer({ key, anyClient: true }).suite).toBe(box);
  });

  it('refuses a server of a suite that authenticates clients without a client policy, naming the three options', async () => {
    const rsa = await testKey('rsa', 0);
    for (const [suite, k] of [['box', key], ['sid', rsa], ['ccm', rsa]] as const) {
      const e = thrown(() => resolveServer({ key: k, suite }));
      expect(e.code, suite).toBe('INVALID_ARGUMENT');
      for (const option of ['authorizedKeys', 'authorize', 'anyClient']) expect(e.message, suite).toContain(option);
      expect(thrown(() => resolveServer({ key: k, suite, anyClient: false })).code, suite).toBe('INVALID_ARGUMENT');
      expect(resolveServer({ key: k, suite, anyClient: true }).suite.name).toBe(suite);
      expect(resolveServer({ key: k, suite, authorizedKeys: [] }).suite.name).toBe(suite);
      expect(resolveServer({ key: k, suite, authorize: () => false }).suite.name).toBe(suite);
    }
    expect(thrown(() => resolveServer({ key, anyClient: 'yes' as never })).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => resolveServer({ key, authorize: 'all' as never })).code).toBe('INVALID_ARGUMENT');
    // Suites whose clients are anonymous take no policy.
    for (const suite of ['secsess', 'cbcmac'] as const) expect(resolveServer({ key: rsa, suite }).suite.name).toBe(suite);
  });

  it('accepts every client only with anyClient, and needs every given policy to accept', () => {
    expect(resolveServer({ key, anyClient: true }).authorize(alice.publicKey)).toBe(true);
    // anyClient widens nothing beside a list.
    expect(resolveServer({ key, anyClient: true, authorizedKeys: [bob.publicKey] }).authorize(alice.publicKey)).toBe(false);
    const listed = resolveServer({ key, authorizedKeys: [alice.publicKey] }).authorize;
    expect(listed(alice.publicKey)).toBe(true);
    expect(listed(bob.publicKey)).toBe(false);
    const both = resolveServer({ key, authorizedKeys: [alice.publicKey, bob.publicKey], authorize: (k) => k.equals(bob.publicKey) }).authorize;
    expect(both(alice.publicKey)).toBe(false);
    expect(both(bob.publicKey)).toBe(true);
    // A callback must return exactly true.
    expect(resolveServer({ key, authorize: (() => 1) as never }).authorize(alice.publicKey)).toBe(false);
  });
});

describe('options: client', () => {
  const box = getSuite('box');
  const server = generateKeyPair('x25519');
  const other = generateKeyPair('x25519');
  const dir = mkdtempSync(join(tmpdir(), 'sealwire-opts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uses the given client key, or makes a throwaway one', async () => {
    const own = generateKeyPair('x25519');
    expect(await resolveClientKey(box, own)).toBe(own);
    expect((await resolveClientKey(box, undefined))?.type).toBe('x25519');
    await expect(resolveClientKey(box, own.publicKey as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('pins a PublicKey, a KeyPair or a key file', () => {
    for (const serverKey of [server.publicKey, server]) {
      const r = resolveServerIdentity(box, { serverKey }, '127.0.0.1', 1);
      expect(r.trust).toBe('pinned');
      expect(r.identity.kind === 'pinned' && r.identity.key.equals(server.publicKey)).toBe(true);
    }
    saveKeyPair(server, join(dir, 'server'));
    const fromFile = resolveServerIdentity(box, { serverKey: join(dir, 'server.pub') }, '127.0.0.1', 1);
    expect(fromFile.identity.kind === 'pinned' && fromFile.identity.key.equals(server.publicKey)).toBe(true);
    expect(thrown(() => resolveServerIdentity(box, { serverKey: 42 as never }, 'h', 1)).code).toBe('INVALID_ARGUMENT');
  });

  it('pins a SHA256: fingerprint and refuses another key with UNKNOWN_PEER', () => {
    const r = resolveServerIdentity(box, { serverKey: server.publicKey.fingerprint }, 'h', 1);
    expect(r.trust).toBe('fingerprint');
    if (r.identity.kind !== 'learn') throw new Error('expected learn');
    r.identity.verify(server.publicKey);
    expect(thrown(() => r.identity.kind === 'learn' && r.identity.verify(other.publicKey)).code).toBe('UNKNOWN_PEER');
  });

  it('refuses to trust an unknown server when known_hosts is disabled', () => {
    expect(thrown(() => resolveServerIdentity(box, { knownHosts: false }, 'h', 1)).code).toBe('INVALID_ARGUMENT');
  });

  it('trusts on first use, records the key, then refuses a changed one', () => {
    const kh = join(dir, 'kh1');
    const first = resolveServerIdentity(box, { knownHosts: kh }, '127.0.0.1', 7000);
    expect(first.trust).toBe('first-use');
    if (first.identity.kind !== 'learn') throw new Error('expected learn');
    first.identity.verify(server.publicKey);
    first.onVerified(server.publicKey);
    expect(readFileSync(kh, 'utf8')).toBe(`127.0.0.1:7000 ${server.publicKey.toString()}\n`);
    const second = resolveServerIdentity(box, { knownHosts: kh }, '127.0.0.1', 7000);
    expect(second.trust).toBe('known-host');
    if (second.identity.kind !== 'learn') throw new Error('expected learn');
    second.identity.verify(server.publicKey);
    expect(thrown(() => second.identity.kind === 'learn' && second.identity.verify(other.publicKey)).code).toBe('UNKNOWN_PEER');
  });

  it('refuses a key of the wrong type offered by the server', async () => {
    const r = resolveServerIdentity(box, { knownHosts: join(dir, 'kh2') }, '127.0.0.1', 7000);
    const rsa = await testKey('rsa', 0);
    expect(thrown(() => r.identity.kind === 'learn' && r.identity.verify(rsa.publicKey)).code).toBe('UNKNOWN_PEER');
  });

  it('never treats a host with a damaged known_hosts entry as unknown (fails closed)', () => {
    const kh = join(dir, 'kh3');
    writeFileSync(kh, `127.0.0.1:7000 sealwire-x25519 AAAA-damaged\n`);
    const e = thrown(() => resolveServerIdentity(box, { knownHosts: kh }, '127.0.0.1', 7000));
    expect(e.code).toBe('BAD_KEY');
    expect(e.message).toContain(`${kh}:1`);
  });
});
