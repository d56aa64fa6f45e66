/**
 * The browser API from the browser build (dist/browser/sealwire.js) in headless Chromium:
 * scripts/bench-browser.mjs loads it into a page, connects to a sealwire WebSocket echo server,
 * checks the verified fingerprint, an echo through the async iterator, a clean close, and that a
 * wrong pinned key is refused; then times a few handshakes. Also: the gzipped size it reports is
 * that of the built file, and the build contains no Node built-in.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromiumPresent, SKIP_REASON } from './chromium.js';

const root = new URL('../../', import.meta.url);

describe('the browser build', () => {
  it('has no Node built-in or native addon in it', () => {
    for (const name of ['sealwire.js', 'chat.js']) {
      const code = readFileSync(new URL(`dist/browser/${name}`, root), 'utf8');
      expect(code).not.toMatch(/["']node:[a-z_]+["']/);
      expect(code).not.toContain('sodium-native');
      expect(code).not.toMatch(/\brequire\(/);
    }
  });
});

describe.skipIf(!chromiumPresent)('the browser API in Chromium', () => {
  it('connects, verifies, echoes, closes cleanly and refuses a wrong key', { timeout: 90_000 }, async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['scripts/bench-browser.mjs', '--handshakes', '3', '--json'], { cwd: root.pathname, timeout: 80_000 }, (err, out, errOut) =>
        err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
      );
    });
    const report = JSON.parse(stdout) as {
      sizes: Record<string, { bytes: number; gzipBytes: number }>;
      handshakes: number;
      handshakeMs: { median: number };
      check: { echo: string; fingerprintMatches: boolean; cleanClose: boolean; wrongKeyRefused: string };
    };
    expect(report.check).toEqual({ echo: 'ping from the page', fingerprintMatches: true, cleanClose: true, wrongKeyRefused: 'HANDSHAKE_FAILED' });
    expect(report.handshakes).toBe(3);
    expect(report.handshakeMs.median).toBeGreaterThan(0);
    const built = readFileSync(new URL('dist/browser/sealwire.js', root));
    expect(report.sizes['sealwire.js']).toEqual({ bytes: built.length, gzipBytes: gzipSync(built, { level: 9 }).length });
  });
});

if (!chromiumPresent) {
  describe('the browser API in Chromium', () => {
    it.skip(SKIP_REASON, () => {});
  });
}
