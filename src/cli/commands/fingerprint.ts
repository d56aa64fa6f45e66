/** `sealwire fingerprint FILE`: the SHA256 fingerprint of a public or private key file. */
import type { Command } from 'commander';
import { loadPublicKey } from '../../keys/files.js';

export function register(program: Command, run: (fn: () => Promise<number>) => void): void {
  program
    .command('fingerprint')
    .description('print the SHA256 fingerprint of a key file (public or private)')
    .argument('<file>', 'key file')
    .action((file: string) =>
      run(async () => {
        const key = loadPublicKey(file);
        process.stdout.write(`${key.fingerprint}\n`);
        return 0;
      }),
    );
}
