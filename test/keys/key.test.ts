/** keys/key.ts, keys/authorized-keys.ts and keys/home.ts. */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KeyPair,
  MAX_RSA_BITS,
  MIN_RSA_BITS,
  PublicKey,
  fingerprintOf,
  generateKeyPair,
  generateKeyPairAsync,
} from '../../src/keys/key.js';
import { authorizeKeys, loadAuthorizedKeys, parseAuthorizedKeys } from '../../src/keys/authorized-keys.js';
import { defaultKnownHostsPath, sealwireHome } from '../../src/keys/home.js';
import { publicKeyText } from '../../src/keys/files.js';
import { SealwireError } from '../../src/errors.js';
import { testKey } from '../helpers/fixtures.js';

function thrown(fn: () => unknown): SealwireError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SealwireError);
    return e as SealwireError;
  }
  throw new Error('did not throw');
}

describe('keys/key: X25519', () => {
  it('fingerprints as SHA256:<unpadded base64> of the raw key, as OpenSSH prints', () => {
    const bytes = Buffer.alloc(32, 9);
    const k = PublicKey.fromBytes('x25519', bytes);
    const expected = 'SHA256:' + createHash('sha256').update(bytes).digest('base64').replace(/=+$/, '');
    expect(k.fingerprint).toBe(expected);
    expect(fingerprintOf(bytes)).toBe(expected);
    expect(k.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(k.toString()).toBe(`sealwire-x25519 ${bytes.toString('base64')}`);
    expect(k.bits).toBe(255);
  });

  it('copies its bytes and compares by type and bytes', () => {
    const bytes = Buffer.alloc(32, 1);
    const k = PublicKey.fromBytes('x25519', bytes);
    bytes[0] = 2;
    expect(k.bytes[0]).toBe(1);
    expect(k.equals(PublicKey.fromBytes('x25519', Buffer.alloc(32, 1)))).toBe(true);
    expect(k.equals(PublicKey.fromBytes('x25519', Buffer.alloc(32, 2)))).toBe(false);
    expect(k.equals(null)).toBe(false);
    expect(k.equals(undefined)).toBe(false);
  });

  it('refuses X25519 keys of the wrong size', () => {
    expect(thrown(() => PublicKey.fromBytes('x25519', Buffer.alloc(31))).code).toBe('BAD_KEY');
    expect(thrown(() => KeyPair.fromX25519Secret(Buffer.alloc(33))).code).toBe('BAD_KEY');
  });

  it('builds pairs from a secret, a key object, or the generator, consistently', () => {
    const pair = generateKeyPair('x25519');
    const again = KeyPair.fromX25519Secret(pair.secretKey);
    expect(again.publicKey.equals(pair.publicKey)).toBe(true);
    const viaObject = KeyPair.fromPrivateKeyObject(pair.toPrivateKeyObject());
    expect(viaObject.publicKey.equals(pair.publicKey)).toBe(true);
    // node:crypto derives the same public key from the exported private key.
    const nodePub = createPublicKey(pair.toPrivateKeyObject()).export({ format: 'jwk' }).x;
    expect(Buffer.from(nodePub!, 'base64url').equals(pair.publicKey.bytes)).toBe(true);
    expect(PublicKey.fromKeyObject(pair.publicKey.keyObject).equals(pair.publicKey)).toBe(true);
    expect(generateKeyPair('x25519').publicKey.equals(pair.publicKey)).toBe(false);
    expect(thrown(() => pair.privateKey).code).toBe('BAD_KEY');
  });

  it('wipes the secret in memory', () => {
    const pair = generateKeyPair('x25519');
    pair.wipe();
    expect(pair.secretKey.every((b) => b === 0)).toBe(true);
  });

  it('refuses other key types and non-private objects', () => {
    const ed = generateKeyPairSync('ed25519');
    expect(thrown(() => KeyPair.fromPrivateKeyObject(ed.privateKey)).code).toBe('BAD_KEY');
    expect(thrown(() => KeyPair.fromPrivateKeyObject(ed.publicKey)).code).toBe('BAD_KEY');
    expect(thrown(() => PublicKey.fromKeyObject(ed.publicKey)).code).toBe('BAD_KEY');
    expect(thrown(() => generateKeyPair('dsa' as never)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('keys/key: RSA', () => {
  it('carries SPKI DER, reports its size, and round-trips through bytes', async () => {
    const pair = await testKey('rsa', 0);
    expect(pair.type).toBe('rsa');
    expect(pair.publicKey.bits).toBe(2048);
    const back = PublicKey.fromBytes('rsa', pair.publicKey.bytes);
    expect(back.equals(pair.publicKey)).toBe(true);
    expect(back.keyObject.asymmetricKeyType).toBe('rsa');
    expect(thrown(() => pair.secretKey).code).toBe('BAD_KEY');
    expect(KeyPair.fromPrivateKeyObject(pair.toPrivateKeyObject()).publicKey.equals(pair.publicKey)).toBe(true);
  });

  it(`refuses keys below ${MIN_RSA_BITS} bits wherever they enter`, () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(thrown(() => KeyPair.fromPrivateKeyObject(weak.privateKey)).code).toBe('BAD_KEY');
    expect(thrown(() => PublicKey.fromKeyObject(weak.publicKey)).code).toBe('BAD_KEY');
    const der = weak.publicKey.export({ format: 'der', type: 'spki' });
    expect(thrown(() => PublicKey.fromBytes('rsa', der)).message).toMatch(/2048/);
    expect(thrown(() => PublicKey.fromBytes('rsa', Buffer.from('junk'))).code).toBe('BAD_KEY');
  });

  it(`refuses to generate below ${MIN_RSA_BITS} or above ${MAX_RSA_BITS} bits`, async () => {
    for (const bits of [1024, 2047, MAX_RSA_BITS + 1, 2048.5]) {
      expect(thrown(() => generateKeyPair('rsa', { bits })).code).toBe('BAD_KEY');
      await expect(generateKeyPairAsync('rsa', { bits })).rejects.toMatchObject({ code: 'BAD_KEY' });
    }
  });

  it('generateKeyPairAsync gives X25519 pairs too', async () => {
    expect((await generateKeyPairAsync('x25519')).type).toBe('x25519');
  });
});

describe('keys/authorized-keys', () => {
  const alice = generateKeyPair('x25519').publicKey;
  const bob = generateKeyPair('x25519').publicKey;
  const carol = generateKeyPair('x25519').publicKey;

  it('reads one-line keys with comments, blank lines and CRLF, and PEM blocks', async () => {
    const rsa = (await testKey('rsa', 1)).publicKey;
    const text = `# team\r\n${alice.toString()} alice@laptop\r\n\n   ${bob.toString()}\n${publicKeyText(rsa)}`;
    const keys = parseAuthorizedKeys(text);
    expect(keys).toHaveLength(3);
    expect(keys.some((k) => k.equals(rsa))).toBe(true);
    const ok = authorizeKeys(keys);
    expect(ok(alice) && ok(bob) && ok(rsa)).toBe(true);
    expect(ok(carol)).toBe(false);
    expect(authorizeKeys([])(alice)).toBe(false);
  });

  it('refuses a bad line with BAD_KEY naming the file and line', () => {
    for (const bad of ['garbage', 'sealwire-x25519 AAAA', 'sealwire-dsa AAAA']) {
      const e = thrown(() => parseAuthorizedKeys(`${alice.toString()}\n${bad}\n`, 'auth'));
      expect(e.code).toBe('BAD_KEY');
      expect(e.message).toContain('auth:2');
    }
    expect(thrown(() => parseAuthorizedKeys('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')).code).toBe('BAD_KEY');
  });

  // Bug found here: PEM blocks were cut out of the text before numbering lines, so an error on a
  // line after a PEM block named the wrong line.
  it('names the right line for a bad line after a PEM block', async () => {
    const pem = publicKeyText((await testKey('rsa', 1)).publicKey);
    const text = `${pem}${alice.toString()}\nnot a key\n`;
    const line = text.split('\n').indexOf('not a key') + 1;
    expect(thrown(() => parseAuthorizedKeys(text, 'auth')).message).toContain(`auth:${line}:`);
  });

  it('loads a file, and reports a missing one as IO', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealwire-auth-'));
    try {
      writeFileSync(join(dir, 'authorized_keys'), `${carol.toString()}\n`);
      expect(loadAuthorizedKeys(join(dir, 'authorized_keys'))[0]!.equals(carol)).toBe(true);
      expect(thrown(() => loadAuthorizedKeys(join(dir, 'missing'))).code).toBe('IO');
      // A sparse 17 MiB file: refused from its size, before it is read.
      writeFileSync(join(dir, 'huge'), '');
      truncateSync(join(dir, 'huge'), 17 * 1024 * 1024);
      expect(thrown(() => loadAuthorizedKeys(join(dir, 'huge'))).code).toBe('TOO_LARGE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not confuse keys of different types with the same bytes', () => {
    const x = PublicKey.fromBytes('x25519', Buffer.alloc(32, 5));
    expect(authorizeKeys([x])(PublicKey.fromBytes('x25519', Buffer.alloc(32, 5)))).toBe(true);
  });
});

describe('keys/home', () => {
  const saved = process.env['SEALWIRE_HOME'];
  afterEach(() => {
    if (saved === undefined) delete process.env['SEALWIRE_HOME'];
    else process.env['SEALWIRE_HOME'] = saved;
  });

  it('uses $SEALWIRE_HOME, else ~/.sealwire', () => {
    process.env['SEALWIRE_HOME'] = '/tmp/sw-home';
    expect(sealwireHome()).toBe('/tmp/sw-home');
    expect(defaultKnownHostsPath()).toBe(join('/tmp/sw-home', 'known_hosts'));
    delete process.env['SEALWIRE_HOME'];
    expect(sealwireHome()).toBe(join(homedir(), '.sealwire'));
  });
});
