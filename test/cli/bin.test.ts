/**
 * `npx sealwire` runs dist/src/cli/main.js directly, so the file must stay executable after every
 * compile (tsc rewrites it without the mode bit; scripts/bin-mode.mjs restores it).
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

describe.runIf(process.platform !== 'win32')('the sealwire executable', () => {
  it('is executable and runs by itself (shebang)', () => {
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    const out = execFileSync(bin, ['--help'], { encoding: 'utf8' });
    expect(out).toMatch(/demo/);
  });
});
