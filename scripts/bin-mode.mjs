// Marks the CLI entry point executable. tsc rewrites dist/src/cli/main.js without its mode bit, and
// `npx sealwire` runs that file directly: every script that compiles calls this afterwards.
import { chmodSync } from 'node:fs';

chmodSync(new URL('../dist/src/cli/main.js', import.meta.url), 0o755);
