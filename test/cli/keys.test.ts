import { afterAll, describe, expect, it } from 'vitest';
import { statSync, readFileSync, writeFileSync } from 'node:fs';
import { runCli, tempDir } from '../helpers/cli.js';
import { loadKey, KeyPair, PublicKey } from '../../src/index.js';

describe('sealwire keygen / fingerprint', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('keygen --type x25519 writes PATH (0600) and PATH.pub and prints the fingerprint', async () => {
    const r = await runCli(['keygen', '--type', 'x25519', '--out', t.path('server')]);
    expect(r.code).toBe(0);
    const fp = r.stdout.toString().trim();
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(statSync(t.path('server')).mode & 0o777).toBe(0o600);
    const pair = loadKey(t.path('server'));
    const pub = loadKey(t.path('server.pub'));
    expect(pair).toBeInstanceOf(KeyPair);
    expect(pub).toBeInstanceOf(PublicKey);
    expect((pair as KeyPair).publicKey.fingerprint).toBe(fp);
    expect((pub as PublicKey).fingerprint).toBe(fp);
    expect(readFileSync(t.path('server.pub'), 'utf8')).toMatch(/^sealwire-x25519 [A-Za-z0-9+/=]+/);
  });

  it('fingerprint FILE prints the same fingerprint for the private and the public file', async () => {
    await runCli(['keygen', '--out', t.path('k')]);
    const a = await runCli(['fingerprint', t.path('k')]);
    const b = await runCli(['fingerprint', t.path('k.pub')]);
    expect(a.code).toBe(0);
    expect(a.stdout.toString()).toBe(b.stdout.toString());
  });

  it('keygen --type rsa writes PEM keys (private 0600) and refuses fewer than 2048 bits', async () => {
    const r = await runCli(['keygen', '--type', 'rsa', '--bits', '2048', '--out', t.path('rsa')]);
    expect(r.code).toBe(0);
    expect(statSync(t.path('rsa')).mode & 0o777).toBe(0o600);
    expect(readFileSync(t.path('rsa'), 'utf8')).toContain('-----BEGIN PRIVATE KEY-----');
    expect(readFileSync(t.path('rsa.pub'), 'utf8')).toContain('-----BEGIN PUBLIC KEY-----');
    const weak = await runCli(['keygen', '--type', 'rsa', '--bits', '1024', '--out', t.path('weak')]);
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/2048/);
    expect(weak.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses to overwrite a key unless --force', async () => {
    await runCli(['keygen', '--out', t.path('once')]);
    const again = await runCli(['keygen', '--out', t.path('once')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists/);
    const forced = await runCli(['keygen', '--out', t.path('once'), '--force']);
    expect(forced.code).toBe(0);
  });

  it('exits 2 on usage errors and 1 on a bad key file, with one line on stderr', async () => {
    const usage = await runCli(['keygen', '--type', 'dsa', '--out', t.path('x')]);
    expect(usage.code).toBe(2);
    const missing = await runCli(['keygen']);
    expect(missing.code).toBe(2);
    writeFileSync(t.path('junk'), 'not a key');
    const bad = await runCli(['fingerprint', t.path('junk')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const none = await runCli([]);
    expect(none.code).toBe(2);
  });
});
