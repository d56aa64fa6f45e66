/**
 * `sealwire keygen --type x25519|rsa --out PATH [--bits N] [--force]`: writes PATH (0600) and
 * PATH.pub. `--bits` is for RSA only (refused with x25519, whose size is fixed); an existing file
 * is kept unless `--force`, and the error says so.
 */
import type { Command } from 'commander';
import { generateKeyPairAsync, type KeyType } from '../../keys/key.js';
import { saveKeyPair } from '../../keys/files.js';
import { SealwireError } from '../../errors.js';
import { UsageError } from '../errors.js';
import { parsePositiveInt } from '../args.js';

export function register(program: Command, run: (fn: () => Promise<number>) => void): void {
  program
    .command('keygen')
    .description('generate a key pair: PATH (private, mode 0600) and PATH.pub; prints the fingerprint')
    .option('--type <type>', 'x25519 (suite box) or rsa (suites sid, secsess, ccm, cbcmac)', 'x25519')
    .requiredOption('--out <path>', 'where to write the private key (the public key goes to PATH.pub)')
    .option('--bits <n>', 'RSA modulus size in bits (2048-8192; default 3072; RSA only)')
    .option('--comment <text>', 'comment stored with the public key')
    .option('--force', 'overwrite existing key files')
    .action((opts: { type: string; out: string; bits?: string; comment?: string; force?: boolean }) =>
      run(async () => {
        if (opts.type !== 'x25519' && opts.type !== 'rsa') throw new UsageError(`--type must be x25519 or rsa, got '${opts.type}'`);
        if (opts.type === 'x25519' && opts.bits !== undefined) throw new UsageError('--bits is for RSA keys only (x25519 keys have a fixed size)');
        const bits = parsePositiveInt(opts.bits ?? '3072', '--bits');
        const pair = await generateKeyPairAsync(opts.type as KeyType, { bits });
        try {
          saveKeyPair(pair, opts.out, { overwrite: opts.force === true, comment: opts.comment });
        } catch (e) {
          if (e instanceof SealwireError && /file exists/.test(e.message)) {
            throw new SealwireError(e.code, `${e.message}; use --force to replace it`, { cause: e });
          }
          throw e;
        }
        process.stdout.write(`${pair.publicKey.fingerprint}\n`);
        process.stderr.write(`wrote ${opts.out} (private, mode 0600) and ${opts.out}.pub (${pair.type}${pair.type === 'rsa' ? ` ${bits} bits` : ''})\n`);
        return 0;
      }),
    );
}
