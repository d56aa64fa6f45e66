/**
 * Raw record-cipher speed per CPU-second, 64 KiB records, sealing only, in the client process: the
 * cost floor under the bulk figure. `box` records are XSalsa20-Poly1305 (seed 003's secretbox,
 * from libsodium, no hardware help); node:tls here uses AES-128-GCM, which OpenSSL runs with
 * AES-NI and carry-less multiply. The other rows show what a different record cipher would give.
 */
import { createCipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import sodium from 'sodium-native';
import { now, type Figure, type FigureContext, type Outcome } from '../figure.js';
import { summarize } from '../stats.js';
import { BoxChachaRecordCipher } from '../../suites/box/records.js';
import { Direction } from '../../suites/box/messages.js';
import { OPENSSL_FROM } from '../../crypto/record-aead.js';


type Seal = (plain: Buffer, counter: number) => void;

function aead(alg: CipherGCMTypes | 'chacha20-poly1305', keyBytes: number): Seal {
  const key = randomBytes(keyBytes);
  const iv = Buffer.alloc(12);
  return (plain, counter) => {
    iv.writeUInt32BE(counter, 8);
    const c = createCipheriv(alg as CipherGCMTypes, key, iv, { authTagLength: 16 });
    c.update(plain);
    c.final();
    c.getAuthTag();
  };
}

function secretbox(record: number): Seal {
  const key = randomBytes(32);
  const nonce = Buffer.alloc(24);
  const out = Buffer.alloc(record + 16);
  return (plain, counter) => {
    nonce.writeUInt32BE(counter, 20);
    sodium.crypto_secretbox_easy(out, plain, nonce, key);
  };
}

/** What a `box` session seals with the negotiated ChaCha20-Poly1305 (suites/box/records.ts). */
function boxChacha(): Seal {
  const cipher = new BoxChachaRecordCipher(randomBytes(32), Direction.CLIENT_TO_SERVER);
  const header = Buffer.alloc(5);
  // Into reused memory, as a TCP session seals into its transport's pool (record/buffers.ts).
  let out = Buffer.alloc(0);
  const allocate = (size: number): Buffer => (out.length === size ? out : (out = Buffer.alloc(size)));
  return (plain, counter) => {
    cipher.seal(0x10, BigInt(counter), header, plain, allocate);
  };
}

const CIPHERS: readonly { impl: string; label: string; make: (record: number) => Seal }[] = [
  { impl: 'aes-128-gcm', label: 'AES-128-GCM (node:crypto)', make: () => aead('aes-128-gcm', 16) },
  { impl: 'aes-256-gcm', label: 'AES-256-GCM (node:crypto)', make: () => aead('aes-256-gcm', 32) },
  { impl: 'chacha20-poly1305', label: 'ChaCha20-Poly1305 (node:crypto)', make: () => aead('chacha20-poly1305', 32) },
  { impl: 'xsalsa20-poly1305', label: 'XSalsa20-Poly1305 (box, libsodium)', make: secretbox },
  { impl: 'box-chacha20-poly1305', label: `ChaCha20-Poly1305 (box${Number.isFinite(OPENSSL_FROM) ? `: OpenSSL from ${OPENSSL_FROM} bytes` : ', libsodium'})`, make: boxChacha },
];

function cipherFigure(id: string, record: number, what: string): Figure {
  return {
  id,
  title: `Record ciphers, ${what} records, seal only, per CPU-second`,
  unit: 'MB/s',
  better: 'higher',
  baseline: 'aes-128-gcm',
  description:
    `Sealing speed of ${what} records with each AEAD per second of CPU time, in the client process: the floor under the ${record > 4096 ? "bulk figure's" : "round-trip figure's"} CPU cost (per call costs included). node:tls here runs AES-128-GCM; box records are XSalsa20-Poly1305.`,
  targets: {},
  steps: (ctx: FigureContext) => CIPHERS.length * ctx.options.runs,
  async run(ctx) {
    const plain = randomBytes(record);
    const seals = CIPHERS.map((c) => c.make(record));
    const values: number[][] = CIPHERS.map(() => []);
    const ms = Math.min(ctx.options.runMs, 300);
    for (let r = 0; r < ctx.options.runs; r++) {
      for (let i = 0; i < CIPHERS.length; i++) {
        const seal = seals[i]!;
        let n = 0;
        const start = now();
        const cpu0 = process.cpuUsage();
        while (now() - start < ms) seal(plain, n++);
        const cpu = process.cpuUsage(cpu0);
        // Per second of CPU time, not of wall time: on a shared machine the loop loses the CPU.
        values[i]!.push((n * record) / 1e6 / ((cpu.user + cpu.system) / 1e6));
        ctx.step(`${id} ${CIPHERS[i]!.impl}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return CIPHERS.map((c, i): Outcome => ({ impl: c.impl, label: c.label, status: 'ok', summary: summarize(values[i]!) }));
  },
};
}

export const recordCiphers = cipherFigure('ciphers', 64 * 1024, '64 KiB');
export const recordCiphersSmall = cipherFigure('ciphers-1k', 1024, '1 KiB');
