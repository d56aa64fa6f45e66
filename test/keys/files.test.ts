/**
 * keys/files.ts: saving (0600 private, even over an existing file), loading by content, the
 * permission check on private key files, and every accepted and refused key text.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, symlinkSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKey, loadKeyPair, loadPublicKey, parseKey, parsePublicKeyLine, privateKeyPem, publicKeyText, saveKeyPair } from '../../src/keys/files.js';
import { KeyPair, PublicKey, generateKeyPair } from '../../src/keys/key.js';
import { testKey } from '../helpers/fixtures.js';
import { thrown } from '../helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sealwire-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = (name: string): string => join(dir, name);
const mode = (p: string): number => statSync(p).mode & 0o777;


const posix = process.platform !== 'win32';

describe('keys/files: save and load', () => {
  it('saves an X25519 pair as PKCS#8 (0600) and a one-line .pub (0644), and loads both back', () => {
    const pair = generateKeyPair('x25519');
    saveKeyPair(pair, path('x'), { comment: 'alice@test' });
    if (posix) {
      expect(mode(path('x'))).toBe(0o600);
      expect(mode(path('x.pub'))).toBe(0o644);
    }
    expect(readFileSync(path('x'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(path('x.pub'), 'utf8')).toBe(`${pair.publicKey.toString()} alice@test\n`);
    const loaded = loadKeyPair(path('x'));
    expect(loaded.publicKey.equals(pair.publicKey)).toBe(true);
    expect(loaded.secretKey.equals(pair.secretKey)).toBe(true);
    expect(loadPublicKey(path('x.pub')).equals(pair.publicKey)).toBe(true);
    expect(loadPublicKey(path('x')).equals(pair.publicKey)).toBe(true);
    expect(loadKey(path('x.pub'))).toBeInstanceOf(PublicKey);
    expect(thrown(() => loadKeyPair(path('x.pub'))).code).toBe('BAD_KEY');
  });

  it('saves an RSA pair as PEM and loads it back', async () => {
    const pair = await testKey('rsa', 0);
    saveKeyPair(pair, path('rsa'));
    expect(readFileSync(path('rsa.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(loadKeyPair(path('rsa')).publicKey.equals(pair.publicKey)).toBe(true);
    expect(loadPublicKey(path('rsa.pub')).equals(pair.publicKey)).toBe(true);
  });

  it('refuses to overwrite unless asked, and then leaves the private key 0600 whatever its old mode', () => {
    const p = path('existing');
    writeFileSync(p, 'old, world-readable');
    chmodSync(p, 0o666);
    const pair = generateKeyPair('x25519');
    const e = thrown(() => saveKeyPair(pair, p));
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(/exists/);
    expect(readFileSync(p, 'utf8')).toBe('old, world-readable');
    saveKeyPair(pair, p, { overwrite: true });
    if (posix) expect(mode(p)).toBe(0o600);
    expect(loadKeyPair(p).publicKey.equals(pair.publicKey)).toBe(true);
  });

  it('leaves nothing behind when a refused save finds either file already there', () => {
    const pair = generateKeyPair('x25519');
    writeFileSync(path('halfpub.pub'), 'someone else\'s public key');
    expect(thrown(() => saveKeyPair(pair, path('halfpub'))).code).toBe('IO');
    expect(existsSync(path('halfpub'))).toBe(false);
    expect(readFileSync(path('halfpub.pub'), 'utf8')).toBe('someone else\'s public key');
    writeFileSync(path('halfpriv'), 'an old private key');
    expect(thrown(() => saveKeyPair(pair, path('halfpriv'))).code).toBe('IO');
    expect(existsSync(path('halfpriv.pub'))).toBe(false);
    expect(readFileSync(path('halfpriv'), 'utf8')).toBe('an old private key');
  });

  it('reports a missing file as IO and an oversized one as TOO_LARGE', () => {
    expect(thrown(() => loadKey(path('nope'))).message).toMatch(/no such file/);
    writeFileSync(path('big'), Buffer.alloc(65 * 1024, 0x41));
    expect(thrown(() => loadKey(path('big'))).code).toBe('TOO_LARGE');
  });
});

describe.runIf(posix)('keys/files: private key file permissions', () => {
  // Bug found here: a private key readable by group or others loaded silently. As ssh does, such
  // a key is refused (it may already be compromised), with the fix in the message.
  it.each([0o644, 0o640, 0o604, 0o660].map((m) => [m.toString(8), m] as const))('refuses a private key file of mode %s with BAD_KEY', (_octal, m) => {
    const p = path(`open-${m.toString(8)}`);
    saveKeyPair(generateKeyPair('x25519'), p);
    chmodSync(p, m);
    for (const load of [loadKey, loadKeyPair, loadPublicKey]) {
      const e = thrown(() => load(p));
      expect(e.code).toBe('BAD_KEY');
      expect(e.message).toContain(p);
      expect(e.message).toContain('chmod 600');
    }
  });

  it.each([0o600, 0o400, 0o700].map((m) => [m.toString(8), m] as const))('accepts a private key file of mode %s', (_octal, m) => {
    const p = path(`closed-${m.toString(8)}`);
    saveKeyPair(generateKeyPair('x25519'), p);
    chmodSync(p, m);
    expect(loadKey(p)).toBeInstanceOf(KeyPair);
  });

  it('does not check the mode of public key files', () => {
    const p = path('pub-open');
    saveKeyPair(generateKeyPair('x25519'), p);
    chmodSync(`${p}.pub`, 0o666);
    expect(loadKey(`${p}.pub`)).toBeInstanceOf(PublicKey);
  });

  // As OpenSSH's StrictModes: a link can point the key at a file someone else controls.
  it('refuses a private key file reached through a symbolic link, and accepts a public key that way', () => {
    const p = path('linked-target');
    saveKeyPair(generateKeyPair('x25519'), p);
    symlinkSync(p, path('linked'));
    symlinkSync(`${p}.pub`, path('linked.pub'));
    for (const load of [loadKey, loadKeyPair, loadPublicKey]) {
      const e = thrown(() => load(path('linked')));
      expect(e.code).toBe('BAD_KEY');
      expect(e.message).toMatch(/symbolic link/);
    }
    expect(loadKey(path('linked.pub'))).toBeInstanceOf(PublicKey);
    expect(loadKey(p)).toBeInstanceOf(KeyPair); // the file itself is fine
  });

  // Changing a file's owner needs root: where the tests run unprivileged this case cannot be made.
  it.runIf(process.getuid?.() === 0)('refuses a private key file owned by another user', () => {
    const p = path('foreign');
    saveKeyPair(generateKeyPair('x25519'), p);
    chownSync(p, 1, 1);
    const e = thrown(() => loadKeyPair(p));
    expect(e.code).toBe('BAD_KEY');
    expect(e.message).toMatch(/owned by another user/);
    chownSync(`${p}.pub`, 1, 1);
    expect(loadKey(`${p}.pub`)).toBeInstanceOf(PublicKey); // public keys may belong to anyone
  });
});

describe('keys/files: key texts', () => {
  it('parses one-line public keys, with or without a comment, and refuses unknown types', () => {
    const k = generateKeyPair('x25519').publicKey;
    expect(parsePublicKeyLine(k.toString())?.equals(k)).toBe(true);
    expect(parsePublicKeyLine(`  ${k.toString()} a comment with spaces  `)?.equals(k)).toBe(true);
    expect(parsePublicKeyLine('ssh-ed25519 AAAA')).toBeNull();
    expect(parsePublicKeyLine('')).toBeNull();
    expect(thrown(() => parsePublicKeyLine('sealwire-dsa AAAA')).code).toBe('BAD_KEY');
    expect(thrown(() => parsePublicKeyLine('sealwire-x25519 AAAA')).code).toBe('BAD_KEY');
  });

  it('accepts PKCS#1 RSA private keys and the one-line RSA form', async () => {
    const pair = await testKey('rsa', 0);
    const pkcs1 = pair.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
    expect((parseKey(pkcs1) as KeyPair).publicKey.equals(pair.publicKey)).toBe(true);
    expect((parseKey(pair.publicKey.toString()) as PublicKey).equals(pair.publicKey)).toBe(true);
    expect((parseKey(publicKeyText(pair.publicKey)) as PublicKey).equals(pair.publicKey)).toBe(true);
  });

  it('round-trips privateKeyPem and publicKeyText', () => {
    const pair = generateKeyPair('x25519');
    expect((parseKey(privateKeyPem(pair)) as KeyPair).publicKey.equals(pair.publicKey)).toBe(true);
    expect((parseKey(publicKeyText(pair.publicKey, 'c')) as PublicKey).equals(pair.publicKey)).toBe(true);
  });

  it('refuses encrypted, damaged, foreign and weak keys with BAD_KEY naming the source', () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const encrypted = createPrivateKey(ed).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' }).toString();
    for (const text of [
      encrypted,
      ed,
      weak,
      '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
      '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
      'not a key',
      '',
    ]) {
      const e = thrown(() => parseKey(text, 'the-source'));
      expect(e.code).toBe('BAD_KEY');
      expect(e.message).toContain('the-source');
    }
  });
});
