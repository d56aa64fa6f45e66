/**
 * The RSA suites from the command line, where the suite-independent CLI tests do not reach:
 * `ccm` refuses a client whose key is not in --authorized-keys (and says so in one line on each
 * side), `sid` too, and known_hosts trust on first use works with RSA server keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { portOf, runCli, startCli, tempDir, type Background } from '../helpers/cli.js';

describe('sealwire with the RSA suites', () => {
  const t = tempDir();
  const servers: Background[] = [];
  beforeAll(async () => {
    await Promise.all(['server', 'alice', 'mallory'].map((n) => runCli(['keygen', '--type', 'rsa', '--bits', '2048', '--out', t.path(n)])));
    writeFileSync(t.path('authorized_keys'), readFileSync(t.path('alice.pub')));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    t.cleanup();
  });
  const serve = async (args: string[]): Promise<Background> => {
    const s = await startCli(['serve', '--echo', ...args]);
    servers.push(s);
    return s;
  };

  it.each(['ccm', 'sid'])('%s: --authorized-keys admits a listed client and refuses one that is not, before any data flows', async (suite) => {
    const server = await serve(['--suite', suite, '--key', t.path('server'), '--authorized-keys', t.path('authorized_keys')]);
    const target = `127.0.0.1:${portOf(server.firstLine)}`;
    const common = ['connect', target, '--suite', suite, '--server-key', t.path('server.pub')];
    const ok = await runCli([...common, '--key', t.path('alice')], { input: 'from alice' });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout.toString()).toBe('from alice');
    const refused = await runCli([...common, '--key', t.path('mallory')], { input: 'from mallory' });
    expect(refused.code).toBe(1);
    expect(refused.stdout.length).toBe(0);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/authorized/);
    expect(refused.stderr).not.toContain('from mallory');
    // The operator's log names the refused key.
    const mallory = (await runCli(['fingerprint', t.path('mallory.pub')])).stdout.toString().trim();
    await until(() => server.stderr().includes(mallory));
    expect(server.stderr()).toMatch(/not authorized \[UNKNOWN_PEER\]/);
  });

  it.each(['secsess', 'ccm', 'sid', 'cbcmac'])('%s: trusts an RSA server key on first use and refuses it once changed', async (suite) => {
    const policy = suite === 'ccm' || suite === 'sid' ? ['--any-client'] : [];
    const server = await serve(['--suite', suite, '--key', t.path('server'), ...policy]);
    const target = `127.0.0.1:${portOf(server.firstLine)}`;
    const home = { SEALWIRE_HOME: t.path(`home-${suite}`) };
    const args = ['connect', target, '--suite', suite, ...(suite === 'ccm' || suite === 'sid' ? ['--key', t.path('alice')] : [])];
    const first = await runCli(args, { input: 'one', env: home });
    expect(first.code).toBe(0);
    expect(first.stdout.toString()).toBe('one');
    expect(first.stderr).toMatch(/first connection/);
    expect(readFileSync(t.path(`home-${suite}/known_hosts`), 'utf8')).toContain(`${target} sealwire-rsa`);
    const other = await serve(['--suite', suite, '--key', t.path('mallory'), ...policy]);
    const kh = readFileSync(t.path(`home-${suite}/known_hosts`), 'utf8');
    const otherTarget = `127.0.0.1:${portOf(other.firstLine)}`;
    writeFileSync(t.path(`home-${suite}/known_hosts`), kh.replace(target, otherTarget));
    const changed = await runCli(['connect', otherTarget, ...args.slice(2)], { input: 'secret', env: home });
    expect(changed.code).toBe(1);
    expect(changed.stdout.length).toBe(0);
    expect(changed.stderr).toMatch(/changed/);
  });
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}
