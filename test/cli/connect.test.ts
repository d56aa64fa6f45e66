/** `connect` behaviour that does not depend on the suite: trust on first use, authorized keys, usage. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { portOf, runCli, startCli, tempDir, type Background } from '../helpers/cli.js';

describe('sealwire connect', () => {
  const t = tempDir();
  const servers: Background[] = [];
  beforeAll(async () => {
    await Promise.all(['server', 'server2', 'alice', 'mallory'].map((n) => runCli(['keygen', '--out', t.path(n)])));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    t.cleanup();
  });
  const serve = async (args: string[]): Promise<number> => {
    const s = await startCli(['serve', '--echo', ...args]);
    servers.push(s);
    return portOf(s.firstLine);
  };

  it('trusts on first use, records the key in known_hosts, and refuses a changed key', async () => {
    const port = await serve(['--key', t.path('server'), '--any-client']);
    const env = { SEALWIRE_HOME: t.path('home') };
    const first = await runCli(['connect', `127.0.0.1:${port}`], { input: 'hi', env });
    expect(first.code).toBe(0);
    expect(first.stdout.toString()).toBe('hi');
    expect(first.stderr).toMatch(/first connection/);
    const fp = (await runCli(['fingerprint', t.path('server.pub')])).stdout.toString().trim();
    expect(first.stderr).toContain(fp);
    expect(readFileSync(t.path('home/known_hosts'), 'utf8')).toContain(`127.0.0.1:${port} sealwire-x25519`);
    const second = await runCli(['connect', `127.0.0.1:${port}`], { input: 'again', env });
    expect(second.code).toBe(0);
    expect(second.stderr).toBe('');
    expect(second.stdout.toString()).toBe('again');
    // Another server now answers on a port the client knows: refused, clearly.
    const port2 = await serve(['--key', t.path('server2'), '--any-client']);
    const kh = readFileSync(t.path('home/known_hosts'), 'utf8');
    writeFileSync(t.path('home/known_hosts'), kh.replace(`127.0.0.1:${port} `, `127.0.0.1:${port2} `));
    const changed = await runCli(['connect', `127.0.0.1:${port2}`], { input: 'secret', env });
    expect(changed.code).toBe(1);
    expect(changed.stdout.length).toBe(0);
    expect(changed.stderr).toMatch(/changed/);
    expect(changed.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('accepts a SHA256 fingerprint as --server-key', async () => {
    const port = await serve(['--key', t.path('server'), '--any-client']);
    const fp = (await runCli(['fingerprint', t.path('server.pub')])).stdout.toString().trim();
    const ok = await runCli(['connect', `127.0.0.1:${port}`, '--server-key', fp], { input: 'fp' });
    expect(ok.code).toBe(0);
    expect(ok.stdout.toString()).toBe('fp');
    const bad = await runCli(['connect', `127.0.0.1:${port}`, '--server-key', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], { input: 'x' });
    expect(bad.code).toBe(1);
    expect(bad.stdout.length).toBe(0);
  });

  it('lets --authorized-keys refuse a client that is not listed', async () => {
    writeFileSync(t.path('authorized_keys'), readFileSync(t.path('alice.pub')));
    const port = await serve(['--key', t.path('server'), '--authorized-keys', t.path('authorized_keys')]);
    const alice = await runCli(['connect', `127.0.0.1:${port}`, '--server-key', t.path('server.pub'), '--key', t.path('alice')], { input: 'alice' });
    expect(alice.code).toBe(0);
    expect(alice.stdout.toString()).toBe('alice');
    const mallory = await runCli(['connect', `127.0.0.1:${port}`, '--server-key', t.path('server.pub'), '--key', t.path('mallory')], { input: 'mallory' });
    expect(mallory.code).toBe(1);
    expect(mallory.stdout.length).toBe(0);
    expect(mallory.stderr).toMatch(/authorized/);
  });

  it('exits 2 on usage errors', async () => {
    for (const args of [['connect'], ['connect', 'nohostport'], ['connect', '127.0.0.1:99999'], ['connect', '127.0.0.1:1', '--suite', 'nope'], ['serve']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().length).toBeGreaterThan(0);
    }
  });

  it('exits 1 with one line when nothing listens', async () => {
    const r = await runCli(['connect', '127.0.0.1:1', '--server-key', t.path('server.pub')], { input: 'x' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('sealwire serve under a flood', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('serves a well-behaved client right after a flood of garbage connections', async () => {
    await runCli(['keygen', '--out', t.path('server')]);
    const server = await startCli(['serve', '--echo', '--any-client', '--key', t.path('server'), '--handshake-timeout', '2000']);
    try {
      const port = portOf(server.firstLine);
      const { connect: dial } = await import('node:net');
      const { randomBytes } = await import('node:crypto');
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          new Promise<void>((resolve) => {
            const s = dial(port, '127.0.0.1', () => {
              s.end(i % 2 ? randomBytes(300) : Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
            });
            s.on('error', () => resolve());
            s.on('close', () => resolve());
            s.resume();
          }),
        ),
      );
      const r = await runCli(['connect', `127.0.0.1:${port}`, '--server-key', t.path('server.pub')], { input: 'still served' });
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe('still served');
      expect(server.stderr()).toMatch(/handshake from .* failed/);
    } finally {
      await server.stop();
    }
  });
});
