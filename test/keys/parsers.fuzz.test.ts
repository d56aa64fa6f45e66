/**
 * Random input into every key-text parser: the result is a key or a SealwireError, never another
 * exception (fast-check, bounded runs).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKey, parsePublicKeyLine } from '../../src/keys/files.js';
import { parseAuthorizedKeys } from '../../src/keys/authorized-keys.js';
import { KnownHosts } from '../../src/keys/known-hosts.js';
import { PublicKey, generateKeyPair } from '../../src/keys/key.js';
import { SealwireError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sealwire-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const key = generateKeyPair('x25519').publicKey.toString();
/** Text that is often nearly valid: fragments of real lines mixed with noise. */
const text = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(key, 'sealwire-x25519 ', 'sealwire-rsa ', '127.0.0.1:22 ', '[::1]:22 ', '# c', '\n', '\r\n', '-----BEGIN PUBLIC KEY-----\n', '-----END PUBLIC KEY-----\n', '-----BEGIN PRIVATE KEY-----\n', 'AAAA'),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

function onlySealwireErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SealwireError);
  }
}

describe('key parsers under random input', () => {
  it('parseKey and parsePublicKeyLine', () => {
    fc.assert(
      fc.property(text, (t) => {
        onlySealwireErrors(() => parseKey(t));
        onlySealwireErrors(() => {
          const k = parsePublicKeyLine(t);
          if (k) expect(k).toBeInstanceOf(PublicKey);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('parseAuthorizedKeys', () => {
    fc.assert(fc.property(text, (t) => onlySealwireErrors(() => parseAuthorizedKeys(t))), { numRuns: 300 });
  });

  it('KnownHosts.load of a random file', () => {
    let i = 0;
    fc.assert(
      fc.property(text, (t) => {
        const p = join(dir, `kh${i++}`);
        writeFileSync(p, t);
        onlySealwireErrors(() => KnownHosts.load(p));
      }),
      { numRuns: 200 },
    );
  });
});
