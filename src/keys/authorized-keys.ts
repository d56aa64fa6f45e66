/**
 * authorized_keys: the public keys a server accepts, as in OpenSSH. One key per line in the
 * one-line form (`sealwire-<type> <base64> [comment]`); `#` starts a comment; PEM public key
 * blocks are accepted too, so RSA `.pub` files can simply be concatenated into the file.
 */
import { readFileSync, statSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { SealwireError } from '../errors.js';
import { PublicKey } from './key.js';
import { parsePublicKeyLine } from './files.js';

const MAX_FILE = 16 * 1024 * 1024;

export function parseAuthorizedKeys(text: string, source = 'authorized_keys'): PublicKey[] {
  const keys: PublicKey[] = [];
  const pem = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;
  for (const block of text.match(pem) ?? []) {
    try {
      keys.push(PublicKey.fromKeyObject(createPublicKey({ key: block, format: 'pem' })));
    } catch (e) {
      throw new SealwireError('BAD_KEY', `${source}: bad PEM public key: ${(e as Error).message}`);
    }
  }
  // Blank out PEM blocks but keep their newlines, so that line numbers in errors stay true.
  const lines = text.replace(pem, (block) => block.replace(/[^\n]/g, '')).split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let key: PublicKey | null;
    try {
      key = parsePublicKeyLine(line);
    } catch (e) {
      throw new SealwireError('BAD_KEY', `${source}:${i + 1}: ${(e as Error).message}`);
    }
    if (!key) throw new SealwireError('BAD_KEY', `${source}:${i + 1}: not a 'sealwire-<type> <base64>' key line`);
    keys.push(key);
  });
  return keys;
}

export function loadAuthorizedKeys(path: string): PublicKey[] {
  let text: string;
  try {
    // Size checked before reading, so a huge or endless file (a FIFO, /dev/zero) is never slurped.
    if (statSync(path).size > MAX_FILE) throw new SealwireError('TOO_LARGE', `${path}: larger than ${MAX_FILE} bytes`);
    const buf = readFileSync(path);
    if (buf.length > MAX_FILE) throw new SealwireError('TOO_LARGE', `${path}: larger than ${MAX_FILE} bytes`);
    text = buf.toString('utf8');
  } catch (e) {
    if (e instanceof SealwireError) throw e;
    throw new SealwireError('IO', `cannot read authorized keys ${path}: ${(e as Error).message}`);
  }
  return parseAuthorizedKeys(text, path);
}

/** An `authorize` callback that accepts exactly the given keys (compared by their bytes). */
export function authorizeKeys(keys: readonly PublicKey[]): (peer: PublicKey) => boolean {
  const allowed = new Set(keys.map((k) => `${k.type}:${k.bytes.toString('base64')}`));
  return (peer) => allowed.has(`${peer.type}:${peer.bytes.toString('base64')}`);
}
