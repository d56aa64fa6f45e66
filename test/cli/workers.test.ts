/** `serve --workers N`: N worker processes on one TCP port, the same key and policy, clean shutdown. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { connect } from '../../src/index.js';
import { loadKeyPair, loadPublicKey } from '../../src/keys/files.js';
import { portOf, runCli, startCli, tempDir } from '../helpers/cli.js';

/** Pids of the direct children of `pid` (the workers). */
const childrenOf = (pid: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid)]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
};
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('sealwire serve --workers', () => {
  const t = tempDir();
  beforeAll(async () => {
    await Promise.all(['server', 'alice', 'mallory'].map((n) => runCli(['keygen', '--out', t.path(n)])));
  });
  afterAll(() => t.cleanup());

  it.each([
    ['round-robin', ['--balance', 'round-robin']],
    ['kernel (the default)', []],
  ])('serves clients from 2 workers on one port with the same key and policy, and shuts down cleanly: %s', async (balance, flags) => {
    const roundRobin = balance === 'round-robin';
    const s = await startCli(['serve', '--echo', '--key', t.path('server'), '--authorized-keys', t.path('alice.pub'), '--workers', '2', ...flags]);
    try {
      const port = portOf(s.firstLine);
      const workers = childrenOf(s.child.pid!);
      expect(workers).toHaveLength(2);
      const serverKey = loadPublicKey(t.path('server.pub'));
      const alice = loadKeyPair(t.path('alice'));
      // Round robin: 6 sessions in turn reach both workers. Kernel: every session is served by one
      // of them, whichever accepted it (the spread is the kernel's, so not asserted).
      for (let i = 0; i < 6; i++) {
        const session = await connect({ port, serverKey, key: alice });
        const echoed = new Promise<string>((resolve) => {
          let got = '';
          session.on('data', (c: Buffer) => (got += c.toString()));
          session.on('end', () => resolve(got));
        });
        session.end(`message ${i}`);
        expect(await echoed).toBe(`message ${i}`);
        session.destroy();
      }
      // The policy holds in every worker: an unlisted key is refused each time.
      const mallory = loadKeyPair(t.path('mallory'));
      for (let i = 0; i < 2; i++) await expect(connect({ port, serverKey, key: mallory })).rejects.toMatchObject({ code: expect.any(String) });
      await expect.poll(() => (s.stderr().match(/^session from .* \(worker \d+\)$/gm) ?? []).length, { timeout: 10_000 }).toBe(6);
      const served = new Set(s.stderr().match(/\(worker \d+\)$/gm));
      if (roundRobin) expect(served).toEqual(new Set(['(worker 1)', '(worker 2)']));
      else for (const w of served) expect(['(worker 1)', '(worker 2)']).toContain(w);
      const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
      await s.stop();
      expect(await exited).toBe(0);
      expect(workers.filter(alive)).toEqual([]);
      expect(s.stderr()).toMatch(/shutting down/);
    } finally {
      await s.stop();
    }
  });

  it('refuses a bad count, --workers with --udp and a bad or lone --balance (usage, exit 2)', async () => {
    for (const args of [['--workers', '0'], ['--workers', 'many'], ['--workers', '2', '--udp'], ['--workers', '2', '--balance', 'random'], ['--balance', 'kernel']]) {
      const r = await runCli(['serve', '--key', t.path('server'), '--authorized-keys', t.path('alice.pub'), ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
