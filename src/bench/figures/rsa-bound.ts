/**
 * The bound under the RSA suites' handshake rates: RSA-OAEP-SHA256 private-key decryptions per
 * second on one core, with the key size the suites' servers use. Each RSA suite's server does at
 * least one private-key operation per handshake, so a server process cannot exceed this rate.
 * Measured in the client process (synchronous, one thread), only when a suite uses RSA keys.
 */
import { RSA_PKCS1_OAEP_PADDING } from 'node:constants';
import { privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { getSuite } from '../../suites/index.js';
import { now, type Figure, type FigureContext } from '../figure.js';
import { sealwireImpl } from '../protocol.js';
import { summarize } from '../stats.js';

export function rsaSuites(ctx: FigureContext): string[] {
  return ctx.tcpImpls.filter((i) => i !== 'net' && i !== 'tls' && getSuite(sealwireImpl(i).suite).keyType === 'rsa');
}

export const rsaBound: Figure = {
  id: 'rsa-bound',
  title: 'RSA private-key operations, one core (bound for the RSA suites)',
  unit: 'ops/s',
  better: 'higher',
  baseline: '',
  description:
    "RSA-OAEP-SHA256 decryptions per second on one core with the RSA suites' server key. A server that does k private-key operations per handshake cannot complete more than this / k handshakes per second per core.",
  targets: {},
  steps: (ctx: FigureContext) => (rsaSuites(ctx).length > 0 ? ctx.options.runs : 0),
  async run(ctx) {
    const suite = rsaSuites(ctx)[0];
    if (!suite) return [];
    const pub = ctx.material.serverPublicKey(suite);
    const key = ctx.material.serverKeyPair(suite).privateKey;
    const sealed = publicEncrypt({ key: pub.keyObject, oaepHash: 'sha256', padding: RSA_PKCS1_OAEP_PADDING }, randomBytes(32));
    const values: number[] = [];
    for (let r = 0; r < ctx.options.runs; r++) {
      let n = 0;
      const start = now();
      const end = start + Math.min(ctx.options.runMs, 500);
      while (now() < end) {
        privateDecrypt({ key, oaepHash: 'sha256', padding: RSA_PKCS1_OAEP_PADDING }, sealed);
        n++;
      }
      values.push(n / ((now() - start) / 1000));
      ctx.step('rsa-bound');
      await new Promise((resolve) => setImmediate(resolve));
    }
    return [{ impl: `rsa-${pub.bits}`, label: `RSA-${pub.bits} (OAEP-SHA256 decrypt)`, status: 'ok', summary: summarize(values) }];
  },
};
