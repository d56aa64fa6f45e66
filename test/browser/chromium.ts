/**
 * Launching the system's Chromium (Debian package `chromium`, installed by .ci/run) through
 * playwright-core, headless, with a fresh profile. Where it is missing, the browser tests are
 * skipped and say so loudly.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env['SEALWIRE_CHROMIUM'] ?? '/usr/bin/chromium';
export const chromiumPresent = existsSync(CHROMIUM);
export const SKIP_REASON = `Chromium not found at ${CHROMIUM}: browser tests SKIPPED (install it: apt-get install -y chromium; .ci/run does)`;

if (!chromiumPresent) console.warn(`\n*** ${SKIP_REASON} ***\n`);

export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'sealwire-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 390, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
