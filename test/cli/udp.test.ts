/** `serve --udp` and `connect --udp`: line-per-message echo over loopback, and failures. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { portOf, runCli, startCli, tempDir, type Background } from '../helpers/cli.js';

describe('sealwire serve --udp / connect --udp', () => {
  const t = tempDir();
  const servers: Background[] = [];
  beforeAll(async () => {
    await runCli(['keygen', '--out', t.path('server')]);
    await runCli(['keygen', '--type', 'rsa', '--out', t.path('rsa-server')]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    t.cleanup();
  });

  it('echoes 300 lines unchanged and in order (box), then exits 0 after the linger', async () => {
    const s = await startCli(['serve', '--udp', '--echo', '--any-client', '--key', t.path('server')]);
    servers.push(s);
    const port = portOf(s.firstLine);
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i}: ${'x'.repeat(i % 50)} ünïcödé`);
    const input = lines.join('\n') + '\n';
    const r = await runCli(['connect', '--udp', `127.0.0.1:${port}`, '--server-key', t.path('server.pub'), '--linger', '0.5'], { input, timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(input);
  });

  it('echoes 300 lines unchanged and in order with --suite sid (seed 000 over UDP)', async () => {
    const s = await startCli(['serve', '--udp', '--suite', 'sid', '--echo', '--any-client', '--key', t.path('rsa-server')]);
    servers.push(s);
    const port = portOf(s.firstLine);
    const lines = Array.from({ length: 300 }, (_, i) => `sid line ${i} ${'y'.repeat(i % 40)}`);
    const input = lines.join('\n') + '\n';
    const r = await runCli(['connect', '--udp', '--suite', 'sid', `127.0.0.1:${port}`, '--server-key', t.path('rsa-server.pub'), '--linger', '0.5'], { input, timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(input);
  });

  it('prints each message the server receives as one line without --echo', async () => {
    const s = await startCli(['serve', '--udp', '--any-client', '--key', t.path('server')]);
    servers.push(s);
    const port = portOf(s.firstLine);
    const r = await runCli(['connect', '--udp', `127.0.0.1:${port}`, '--server-key', t.path('server.pub'), '--linger', '0.2'], { input: 'one\ntwo\nthree' });
    expect(r.code).toBe(0);
    for (let i = 0; i < 100 && !s.stdout().includes('three\n'); i++) await new Promise((res) => setTimeout(res, 50));
    expect(s.stdout().split('\n').slice(1)).toEqual(['one', 'two', 'three', '']);
  });

  it('trusts on first use over UDP and records the key in known_hosts', async () => {
    const s = await startCli(['serve', '--udp', '--echo', '--any-client', '--key', t.path('server')]);
    servers.push(s);
    const port = portOf(s.firstLine);
    const env = { SEALWIRE_HOME: t.path('home-udp') };
    const r = await runCli(['connect', '--udp', `127.0.0.1:${port}`, '--linger', '0.2'], { input: 'tofu\n', env });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('tofu\n');
    expect(r.stderr).toMatch(/first connection/);
    const again = await runCli(['connect', '--udp', `127.0.0.1:${port}`, '--linger', '0.2'], { input: 'known\n', env });
    expect(again.stderr).toBe('');
    expect(again.stdout.toString()).toBe('known\n');
  });

  it('fails with one line and exit 1 when nobody answers', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', res));
    const port = sock.address().port; // bound, but never answers
    try {
      const r = await runCli(['connect', '--udp', `127.0.0.1:${port}`, '--server-key', t.path('server.pub'), '--handshake-timeout', '700'], { input: 'x\n' });
      expect(r.code).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr).toMatch(/TIMEOUT|did not finish/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      sock.close();
    }
  });
});
