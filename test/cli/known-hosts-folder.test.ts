/** `--known-hosts FILE` in a folder that does not exist: refused before dialing, never created. */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';

describe('sealwire connect --known-hosts', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it.each([[[] as string[]], [['--udp']]])('%j: exits 1 with one line when the folder of FILE is missing, and creates nothing', async (extra) => {
    const kh = join(t.dir, 'no', 'such', 'folder', 'known_hosts');
    const r = await runCli(['connect', '127.0.0.1:9', ...extra, '--known-hosts', kh], { input: 'x' });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/does not exist/);
    expect(existsSync(join(t.dir, 'no'))).toBe(false);
  });
});
