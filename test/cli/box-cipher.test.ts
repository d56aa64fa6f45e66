/** `--box-cipher` on serve and connect: forcing seed 003's cipher, refusing a mismatch, usage errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portOf, runCli, startCli, tempDir, type Background } from '../helpers/cli.js';

describe('sealwire --box-cipher', () => {
  const t = tempDir();
  const servers: Background[] = [];
  beforeAll(async () => {
    await Promise.all(['server', 'alice'].map((n) => runCli(['keygen', '--out', t.path(n)])));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    t.cleanup();
  });
  const serve = async (args: string[]): Promise<number> => {
    const s = await startCli(['serve', '--echo', '--key', t.path('server'), '--authorized-keys', t.path('alice.pub'), ...args]);
    servers.push(s);
    return portOf(s.firstLine);
  };
  const connect = (port: number, args: string[], input: string, udp = false) =>
    runCli(['connect', `127.0.0.1:${port}`, '--key', t.path('alice'), '--server-key', t.path('server.pub'), ...(udp ? ['--udp'] : []), ...args], { input });

  // Two servers and four clients per transport, each a CLI process: bounded generously for a loaded machine.
  it.each([false, true])('negotiates with a server that forces either cipher (udp: %s)', async (udp) => {
    for (const cipher of ['xsalsa20-poly1305', 'chacha20-poly1305']) {
      const port = await serve(['--box-cipher', cipher, ...(udp ? ['--udp'] : [])]);
      const input = udp ? 'line\n' : 'bytes';
      const plain = await connect(port, [], input, udp);
      expect([plain.code, plain.stdout.toString()]).toEqual([0, input]);
      const same = await connect(port, ['--box-cipher', cipher], input, udp);
      expect([same.code, same.stdout.toString()]).toEqual([0, input]);
    }
  }, 120_000);

  it('fails, one line and exit 1, when client and server force different ciphers', async () => {
    const port = await serve(['--box-cipher', 'chacha20-poly1305']);
    const r = await connect(port, ['--box-cipher', 'xsalsa20-poly1305'], 'x');
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses an unknown cipher and a cipher with another suite (usage, exit 2)', async () => {
    const bad = await runCli(['connect', '127.0.0.1:1', '--box-cipher', 'rot13']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--box-cipher must be one of chacha20-poly1305, xsalsa20-poly1305/);
    const other = await runCli(['serve', '--key', t.path('server'), '--suite', 'sid', '--box-cipher', 'chacha20-poly1305']);
    expect(other.code).toBe(2);
    expect(other.stderr.trim().split('\n')).toHaveLength(1);
  });
});
