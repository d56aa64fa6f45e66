/**
 * The browser build's guard (scripts/build-browser.mjs): the crypto and key modules are swapped
 * for their browser versions, and any import of a Node built-in or native addon fails the build,
 * naming the import and the file.
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SWAPS, browserOnly } from '../../scripts/build-browser.mjs';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

async function bundle(entry: string): Promise<{ inputs: string[] }> {
  // The entry lives in src/ so that its relative imports resolve as the core's own do.
  const file = join(src, `browser-build-test-${process.pid}-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, entry);
  try {
    const r = await build({ entryPoints: [file], bundle: true, write: false, platform: 'browser', format: 'esm', metafile: true, logLevel: 'silent', plugins: [browserOnly] });
    return { inputs: Object.keys(r.metafile.inputs) };
  } finally {
    rmSync(file);
  }
}

describe('browser build guard', () => {
  it('swaps every Node crypto module for its browser version', async () => {
    const { inputs } = await bundle(
      ["export { boxSuite } from './suites/box/index.js';", "export { sha256 } from './crypto/hash.js';", "export { systemRng } from './crypto/random.js';", "export { PublicKey } from './keys/key.js';"].join('\n'),
    );
    for (const [node, web] of Object.entries(SWAPS)) {
      expect(inputs).not.toContain(`src/${node}`);
      expect(inputs).toContain(`src/${web}`);
    }
  });

  it.each([
    ["import { createHash } from 'node:crypto'; export const h = createHash;", "'node:crypto'"],
    ["export { gcmSeal } from './crypto/aead.js';", "'node:crypto'"],
    ["import fs from 'fs'; export const f = fs;", "'fs'"],
    ["export { loadKey } from './keys/files.js';", 'Node-only import'],
  ])('fails on a Node-only import: %s', async (entry, named) => {
    await expect(bundle(entry)).rejects.toThrow(named);
  });
});
