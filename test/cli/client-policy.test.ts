/**
 * `sealwire serve` for a suite that authenticates clients needs `--authorized-keys FILE` or
 * `--any-client`: without either it exits 2 with one line naming both; `--any-client` says on
 * stderr that any client key is accepted, and admits an unlisted client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portOf, runCli, startCli, tempDir } from '../helpers/cli.js';

describe('sealwire serve: the client policy', () => {
  const t = tempDir();
  beforeAll(async () => {
    for (const n of ['server', 'alice']) expect((await runCli(['keygen', '--out', t.path(n)])).code).toBe(0);
    expect((await runCli(['keygen', '--type', 'rsa', '--bits', '2048', '--out', t.path('rsa')])).code).toBe(0);
  }, 60_000);
  afterAll(() => t.cleanup());

  it.each([
    ['box over TCP', ['--key', 'server']],
    ['box over UDP', ['--udp', '--key', 'server']],
    ['sid over TCP', ['--suite', 'sid', '--key', 'rsa']],
    ['sid over UDP', ['--udp', '--suite', 'sid', '--key', 'rsa']],
    ['ccm over TCP', ['--suite', 'ccm', '--key', 'rsa']],
  ])('%s: without --authorized-keys or --any-client, exits 2 with one line naming both', async (_name, args) => {
    const r = await runCli(['serve', ...args.map((a, i) => (args[i - 1] === '--key' ? t.path(a) : a))]);
    expect(r.code).toBe(2);
    expect(r.stdout.length).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--authorized-keys');
    expect(lines[0]).toContain('--any-client');
  });

  it('refuses --authorized-keys with --any-client, and --authorized-keys for a suite whose clients are anonymous', async () => {
    const both = await runCli(['serve', '--key', t.path('server'), '--any-client', '--authorized-keys', t.path('alice.pub')]);
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
    const anonymous = await runCli(['serve', '--suite', 'secsess', '--key', t.path('rsa'), '--authorized-keys', t.path('alice.pub')]);
    expect(anonymous.code).toBe(2);
    expect(anonymous.stderr).toMatch(/does not authenticate clients/);
  });

  it.each([[[] as string[]], [['--udp']]])('--any-client %j prints one line saying any client key is accepted, and admits an unlisted client', async (extra) => {
    const server = await startCli(['serve', ...extra, '--echo', '--any-client', '--key', t.path('server')]);
    try {
      const port = portOf(server.firstLine);
      const r = await runCli(['connect', `127.0.0.1:${port}`, ...extra, '--server-key', t.path('server.pub'), '--key', t.path('alice')], { input: 'hello\n' });
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe('hello\n');
      const policyLines = server.stderr().split('\n').filter((l) => /any client key is accepted/.test(l));
      expect(policyLines).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });

  it('secsess (anonymous clients) serves without a policy flag', async () => {
    const server = await startCli(['serve', '--suite', 'secsess', '--echo', '--key', t.path('rsa')]);
    try {
      expect(portOf(server.firstLine)).toBeGreaterThan(0);
      expect(server.stderr()).not.toMatch(/any client key/);
    } finally {
      await server.stop();
    }
  });
});
