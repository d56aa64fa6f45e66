// The browser build: the client side of sealwire (sans-I/O core, record layer, box suite) with the
// browser crypto backend, bundled by esbuild into dist/browser/:
//
//   sealwire.js   the browser API (src/browser/index.ts): connectWebSocket(url, { serverKey, key })
//   chat.js       the web chat page's script (src/chat/web/app.ts), with index.html and style.css
//
// The Node crypto modules are swapped for their browser versions (SWAPS below) as they are
// resolved; the `Buffer` global comes from the `buffer` package. The build fails if anything would
// still pull in a Node built-in (`node:*`, `fs`, …) or a native addon (sodium-native), or if a
// swapped Node module is in the output.
//
//   node scripts/build-browser.mjs [--outdir DIR] [--no-minify]
import { build } from 'esbuild';
import { builtinModules, createRequire } from 'node:module';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

/** Node module (under src/) → browser module that replaces it, with the same exports. */
export const SWAPS = {
  'crypto/box.ts': 'browser/crypto/box.ts',
  'crypto/hash.ts': 'browser/crypto/hash.ts',
  'crypto/random.ts': 'browser/crypto/random.ts',
  'crypto/secrets.ts': 'browser/crypto/secrets.ts',
  'crypto/record-aead.ts': 'browser/crypto/record-aead.ts',
  'keys/key.ts': 'browser/keys/key.ts',
};

const bufferPackage = createRequire(import.meta.url).resolve('buffer/');
const FORBIDDEN = new Set([...builtinModules, 'sodium-native', 'ws']);

/** esbuild plugin: the swaps, and a build error for any Node-only import. */
export const browserOnly = {
  name: 'sealwire-browser-only',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      // The `buffer` npm package (not Node's built-in of the same name), for buffer-shim.ts only.
      if (args.path === 'buffer' && args.importer === join(src, 'browser', 'buffer-shim.ts')) return { path: bufferPackage };
      const bare = args.path.replace(/^node:/, '').split('/')[0];
      if (args.path.startsWith('node:') || FORBIDDEN.has(args.path) || (FORBIDDEN.has(bare) && !args.path.startsWith('.'))) {
        return { errors: [{ text: `Node-only import '${args.path}' in ${relative(root, args.importer)}: not allowed in the browser build` }] };
      }
      if (!args.path.startsWith('.')) return undefined;
      const target = relative(src, resolve(args.resolveDir, args.path)).replace(/\.js$/, '.ts');
      const swap = SWAPS[target];
      return swap ? { path: join(src, swap) } : undefined;
    });
  },
};

/** Builds into `outdir`; returns esbuild's metafile. Throws (and prints why) when the build fails. */
export async function buildBrowser({ outdir = join(root, 'dist', 'browser'), minify = true } = {}) {
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: { sealwire: join(src, 'browser', 'index.ts'), chat: join(src, 'chat', 'web', 'app.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify,
    sourcemap: 'linked',
    legalComments: 'linked',
    metafile: true,
    logLevel: 'silent',
    inject: [join(src, 'browser', 'buffer-shim.ts')],
    plugins: [browserOnly],
  });
  const swapped = Object.keys(SWAPS).map((p) => `src/${p}`);
  const leaked = Object.keys(result.metafile.inputs).filter((p) => swapped.includes(p) || p.includes('sodium-native'));
  if (leaked.length > 0) throw new Error(`browser build: Node modules in the output: ${leaked.join(', ')}`);
  for (const f of ['index.html', 'style.css']) copyFileSync(join(src, 'chat', 'web', f), join(outdir, f));
  return result.metafile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--outdir');
  try {
    await buildBrowser({ outdir: at >= 0 ? resolve(args[at + 1]) : undefined, minify: !args.includes('--no-minify') });
  } catch (e) {
    for (const err of e.errors ?? []) console.error(`browser build: ${err.text}${err.location ? ` (${err.location.file}:${err.location.line})` : ''}`);
    if (!e.errors) console.error(String(e.message ?? e));
    process.exit(1);
  }
}
