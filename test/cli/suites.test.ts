/**
 * The CLI as a user runs it, for every suite this build has: `serve --echo` + `connect` return
 * random stdin unchanged, a wrong `--server-key` fails before any data flows, and `demo` runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { availableSuites } from '../../src/suites/index.js';
import { getSuite } from '../../src/suites/index.js';
import { portOf, runCli, startCli, tempDir, type Background } from '../helpers/cli.js';

for (const suite of availableSuites()) {
  describe(`sealwire serve/connect --suite ${suite}`, () => {
    const t = tempDir();
    let server: Background;
    let port: number;
    const type = getSuite(suite).keyType;
    const clientKeys = getSuite(suite).clientKeys === 'required';
    // --bits is for RSA only (keygen refuses it with x25519).
    const keygen = (name: string): Promise<unknown> => runCli(['keygen', '--type', type, ...(type === 'rsa' ? ['--bits', '2048'] : []), '--out', t.path(name)]);

    beforeAll(async () => {
      await Promise.all([keygen('server'), keygen('other'), clientKeys ? keygen('client') : null]);
      server = await startCli(['serve', '--suite', suite, '--key', t.path('server'), '--echo', '--port', '0', ...(clientKeys ? ['--any-client'] : [])]);
      port = portOf(server.firstLine);
    });
    afterAll(async () => {
      await server?.stop();
      t.cleanup();
    });

    it('prints "listening on HOST:PORT" first and echoes random stdin unchanged', async () => {
      expect(server.firstLine).toMatch(/^listening on 127\.0\.0\.1:\d+$/);
      const input = randomBytes(suite === 'box' ? 1024 * 1024 : 256 * 1024);
      const args = ['connect', `127.0.0.1:${port}`, '--suite', suite, '--server-key', t.path('server.pub')];
      if (clientKeys) args.push('--key', t.path('client'));
      const r = await runCli(args, { input });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.equals(input)).toBe(true);
    });

    it('fails before any data flows with the wrong --server-key: exit 1, one line on stderr, nothing on stdout', async () => {
      const r = await runCli(['connect', `127.0.0.1:${port}`, '--suite', suite, '--server-key', t.path('other.pub')], { input: 'secret data' });
      expect(r.code).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toContain('secret data');
    });

    it('runs the demo and exits 0 by itself', async () => {
      const r = await runCli(['demo', '--suite', suite], { timeoutMs: 60_000 });
      expect(r.code).toBe(0);
      const out = r.stdout.toString();
      expect(out).toContain('SHA256:');
      expect(out).toContain('(matches)');
      expect(out).toMatch(/on the wire [0-9a-f ]+/);
    });
  });
}
