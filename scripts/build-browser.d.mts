// Types of scripts/build-browser.mjs, for the tests that import it.
import type { Metafile, Plugin } from 'esbuild';

export const SWAPS: Record<string, string>;
export const browserOnly: Plugin;
export function buildBrowser(options?: { outdir?: string; minify?: boolean }): Promise<Metafile>;
