/**
 * keys/known-hosts.ts: trust on first use that refuses a changed key, fails closed on a damaged
 * file, and normalises host:port so that one server has one entry.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnownHosts, hostPortKey } from '../../src/keys/known-hosts.js';
import { generateKeyPair } from '../../src/keys/key.js';
import { thrown } from '../helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sealwire-kh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const mkdirp = (d: string): void => void mkdirSync(d, { recursive: true });
/** A fresh known_hosts path in its own directory; written with `text` when given. */
const file = (text?: string): string => {
  const p = join(dir, `kh${n++}`, 'known_hosts');
  if (text !== undefined) {
    mkdirp(join(p, '..'));
    writeFileSync(p, text, { mode: 0o600 });
  }
  return p;
};

const a = generateKeyPair('x25519').publicKey;
const b = generateKeyPair('x25519').publicKey;


describe('keys/known-hosts: trust on first use', () => {
  it('treats a missing file as empty, records a key, and finds it after reloading', () => {
    const p = file();
    mkdirp(join(p, '..'));
    const kh = KnownHosts.load(p);
    expect(kh.lookup('127.0.0.1', 4000)).toBeUndefined();
    expect(kh.check('127.0.0.1', 4000, a)).toBe('new');
    kh.add('127.0.0.1', 4000, a);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(readFileSync(p, 'utf8')).toBe(`127.0.0.1:4000 ${a.toString()}\n`);
    const again = KnownHosts.load(p);
    expect(again.lookup('127.0.0.1', 4000)?.key.equals(a)).toBe(true);
    expect(again.check('127.0.0.1', 4000, a)).toBe('known');
    // Another port of the same host is another server.
    expect(again.check('127.0.0.1', 4001, b)).toBe('new');
  });

  it("creates only sealwire's own home (0700); a missing folder elsewhere is refused before anything is written", () => {
    const saved = process.env['SEALWIRE_HOME'];
    const home = join(dir, `home${n++}`, 'nested');
    process.env['SEALWIRE_HOME'] = home;
    try {
      const inHome = KnownHosts.load(join(home, 'known_hosts'));
      inHome.add('127.0.0.1', 4000, a);
      expect(statSync(home).mode & 0o777).toBe(0o700);
      expect(statSync(join(home, 'known_hosts')).mode & 0o777).toBe(0o600);
      const elsewhere = join(dir, `missing${n++}`, 'sub', 'known_hosts');
      const e = thrown(() => KnownHosts.load(elsewhere));
      expect(e.code).toBe('IO');
      expect(e.message).toMatch(/does not exist/);
      expect(existsSync(join(elsewhere, '..', '..'))).toBe(false);
    } finally {
      if (saved === undefined) delete process.env['SEALWIRE_HOME'];
      else process.env['SEALWIRE_HOME'] = saved;
    }
  });

  it('refuses a changed key, naming both fingerprints and the file line to remove', () => {
    const p = file(`# comment\n\nexample.org:22 ${b.toString()}\r\n127.0.0.1:4000 ${a.toString()}\n`);
    const e = thrown(() => KnownHosts.load(p).check('127.0.0.1', 4000, b));
    expect(e.code).toBe('UNKNOWN_PEER');
    expect(e.message).toContain(`${p}:4`);
    expect(e.message).toContain(a.fingerprint);
    expect(e.message).toContain(b.fingerprint);
  });

  it('names the right line for an entry added in this process', () => {
    const p = file(`# one\n# two\n`);
    const kh = KnownHosts.load(p);
    kh.add('h.example', 1, a);
    expect(thrown(() => kh.check('h.example', 1, b)).message).toContain(`${p}:3`);
    expect(thrown(() => KnownHosts.load(p).check('h.example', 1, b)).message).toContain(`${p}:3`);
  });
});

describe('keys/known-hosts: a damaged file fails closed', () => {
  // Bug found here: damaged lines were skipped silently, so a host whose entry was damaged looked
  // unknown and trust on first use would pin whatever key the next server presented.
  it.each([
    ['a key line with a bad key', `127.0.0.1:4000 sealwire-x25519 AAAA`],
    ['an unknown key type', `127.0.0.1:4000 sealwire-dsa AAAA`],
    ['no key at all', `127.0.0.1:4000`],
    ['a key field that is not a key line', `127.0.0.1:4000 ssh-ed25519`],
    ['a host field without a port', `127.0.0.1 ${'sealwire-x25519 ' + Buffer.alloc(32).toString('base64')}`],
    ['a port out of range', `127.0.0.1:70000 ${'sealwire-x25519 ' + Buffer.alloc(32).toString('base64')}`],
  ])('refuses %s with a typed error naming the file and line', (_what, damaged) => {
    const p = file(`# header\n${damaged}\n`);
    const e = thrown(() => KnownHosts.load(p));
    expect(e.code).toBe('BAD_KEY');
    expect(e.message).toContain(`${p}:2`);
  });

  it('reports an unreadable known_hosts as IO', () => {
    const p = file();
    mkdirp(p); // a directory where the file should be
    expect(thrown(() => KnownHosts.load(p)).code).toBe('IO');
  });
});

describe('keys/known-hosts: host:port normalisation', () => {
  it('lowercases names, drops a trailing dot, brackets IPv6 and writes it in its shortest form', () => {
    expect(hostPortKey('Example.ORG', 22)).toBe('example.org:22');
    expect(hostPortKey('example.org.', 22)).toBe('example.org:22');
    expect(hostPortKey('::1', 22)).toBe('[::1]:22');
    expect(hostPortKey('[::1]', 22)).toBe('[::1]:22');
    expect(hostPortKey('0:0:0:0:0:0:0:1', 22)).toBe('[::1]:22');
    expect(hostPortKey('FE80::ABCD', 22)).toBe('[fe80::abcd]:22');
    expect(hostPortKey('127.0.0.1', 0)).toBe('127.0.0.1:0');
  });

  it('keeps a name and an address apart: localhost is not 127.0.0.1 (no name resolution)', () => {
    expect(hostPortKey('localhost', 22)).not.toBe(hostPortKey('127.0.0.1', 22));
    const p = file(`localhost:22 ${a.toString()}\n`);
    const kh = KnownHosts.load(p);
    expect(kh.lookup('LOCALHOST', 22)?.key.equals(a)).toBe(true);
    expect(kh.lookup('127.0.0.1', 22)).toBeUndefined();
  });

  it('matches stored entries written in another form of the same host', () => {
    const p = file(`[0:0:0:0:0:0:0:1]:9 ${a.toString()}\nEXAMPLE.org.:9 ${b.toString()}\n`);
    const kh = KnownHosts.load(p);
    expect(kh.lookup('::1', 9)?.key.equals(a)).toBe(true);
    expect(kh.lookup('[::1]', 9)?.key.equals(a)).toBe(true);
    expect(kh.check('example.org', 9, b)).toBe('known');
    expect(thrown(() => kh.check('example.org', 9, a)).code).toBe('UNKNOWN_PEER');
  });

  it('refuses an invalid port or an empty host as INVALID_ARGUMENT', () => {
    for (const [h, port] of [['x', -1], ['x', 65536], ['x', 1.5], ['', 1], ['a b', 1]] as const) {
      expect(thrown(() => hostPortKey(h, port)).code).toBe('INVALID_ARGUMENT');
    }
  });
});
