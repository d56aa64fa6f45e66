/**
 * Key files.
 *
 * - Private keys: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) for both X25519 and RSA, written with
 *   mode 0600 (and refused for writing over a file that exists, unless `overwrite` is set; an
 *   overwritten file is set to 0600 too). Loading refuses a private key file that group or others
 *   can read, that is a symbolic link, or that another user owns (`BAD_KEY`), as OpenSSH's
 *   StrictModes does: each means someone else may control or read the key.
 *   PKCS#1 RSA PEM is accepted on load.
 * - Public keys (`NAME.pub`): one line `sealwire-x25519 <base64 raw key> [comment]` for X25519;
 *   SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`) for RSA. Both forms, and the one-line
 *   form for RSA (`sealwire-rsa <base64 SPKI DER>`), are accepted on load.
 *
 * `loadKey` decides by content, not by file name: a private key gives a `KeyPair`, a public key a
 * `PublicKey`.
 */
import { closeSync, fchmodSync, fstatSync, fsyncSync, openSync, readFileSync, rmSync, writeSync, constants as fsc } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { SealwireError } from '../errors.js';
import { KeyPair, PublicKey, KEY_TYPES, type KeyType } from './key.js';

/** Largest key file read (an 8192-bit RSA PEM is about 6.5 KB). */
const MAX_KEY_FILE = 64 * 1024;

/** Parses one public key line: `sealwire-<type> <base64> [comment]`. Returns null if it is not one. */
export function parsePublicKeyLine(line: string): PublicKey | null {
  const m = /^sealwire-([a-z0-9]+)\s+([A-Za-z0-9+/=]+)(?:\s+.*)?$/.exec(line.trim());
  if (!m) return null;
  const type = m[1] as KeyType;
  if (!KEY_TYPES.includes(type)) throw new SealwireError('BAD_KEY', `unknown key type sealwire-${m[1]}`);
  return PublicKey.fromBytes(type, Buffer.from(m[2]!, 'base64'));
}

/** Parses key text (any of the forms above). */
export function parseKey(text: string, source = 'key'): KeyPair | PublicKey {
  const trimmed = text.trim();
  try {
    if (/^-----BEGIN (RSA |ENCRYPTED )?PRIVATE KEY-----/.test(trimmed)) {
      if (trimmed.includes('ENCRYPTED')) throw new SealwireError('BAD_KEY', `${source}: encrypted private keys are not supported`);
      return KeyPair.fromPrivateKeyObject(createPrivateKey({ key: trimmed, format: 'pem' }));
    }
    if (/^-----BEGIN (RSA )?PUBLIC KEY-----/.test(trimmed)) {
      return PublicKey.fromKeyObject(createPublicKey({ key: trimmed, format: 'pem' }));
    }
    const line = parsePublicKeyLine(trimmed.split('\n')[0] ?? '');
    if (line) return line;
  } catch (e) {
    if (e instanceof SealwireError) throw new SealwireError(e.code, `${source}: ${e.message}`);
    throw new SealwireError('BAD_KEY', `${source}: not a valid key (${e instanceof Error ? e.message : String(e)})`);
  }
  throw new SealwireError('BAD_KEY', `${source}: not a sealwire key file (expected PEM or a 'sealwire-<type> <base64>' line)`);
}

/**
 * Loads a key file: a private key file gives a `KeyPair`, a public key file a `PublicKey`.
 * A private key file that group or others may read is refused with `BAD_KEY`, as ssh refuses it:
 * the key may already be exposed, and the operator should know (POSIX only).
 */
export function loadKey(path: string): KeyPair | PublicKey {
  const { text, mode, uid, symlink } = readKeyFile(path);
  const key = parseKey(text, path);
  if (key instanceof KeyPair && process.platform !== 'win32') checkPrivateKeyFile(path, mode, uid, symlink);
  return key;
}

/** StrictModes for a private key file (POSIX): not a symlink, owned by this user, 0600 or stricter. */
function checkPrivateKeyFile(path: string, mode: number, uid: number, symlink: boolean): void {
  if (symlink) {
    throw new SealwireError('BAD_KEY', `${path}: private key file is a symbolic link; refusing to use it. Give the path of the file itself`);
  }
  const me = process.getuid?.();
  if (me !== undefined && uid !== me) {
    throw new SealwireError('BAD_KEY', `${path}: private key file is owned by another user (uid ${uid}, not ${me}); refusing to use it`);
  }
  if ((mode & 0o077) !== 0) {
    throw new SealwireError(
      'BAD_KEY',
      `${path}: private key file is readable by ${(mode & 0o007) !== 0 ? 'others' : 'its group'} (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); ` +
        `refusing to use it. Run: chmod 600 ${path}`,
    );
  }
}

/** Loads a private key file; throws `BAD_KEY` if the file holds only a public key. */
export function loadKeyPair(path: string): KeyPair {
  const k = loadKey(path);
  if (!(k instanceof KeyPair)) throw new SealwireError('BAD_KEY', `${path}: holds a public key, a private key is needed`);
  return k;
}

/** Loads a public key (a private key file also gives its public half). */
export function loadPublicKey(path: string): PublicKey {
  const k = loadKey(path);
  return k instanceof KeyPair ? k.publicKey : k;
}

/** The text of a private key file (PKCS#8 PEM). Contains the secret: never log it. */
export function privateKeyPem(pair: KeyPair): string {
  return pair.toPrivateKeyObject().export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** The text of a public key file. */
export function publicKeyText(key: PublicKey, comment?: string): string {
  if (key.type === 'rsa') return key.keyObject.export({ format: 'pem', type: 'spki' }).toString();
  return key.toString() + (comment ? ` ${comment}` : '') + '\n';
}

export interface SaveOptions {
  /** Replace existing files (default false: refuse, so a key is never lost by accident). */
  overwrite?: boolean;
  /** Comment appended to the one-line public key. */
  comment?: string;
}

/**
 * Writes `path` (the private key, mode 0600, created with that mode so it is never readable by
 * others, not even briefly) and `path.pub` (the public key, mode 0644).
 */
export function saveKeyPair(pair: KeyPair, path: string, options: SaveOptions = {}): void {
  const flags = fsc.O_WRONLY | fsc.O_CREAT | (options.overwrite ? fsc.O_TRUNC : fsc.O_EXCL);
  // The public file first: if it exists (and we may not overwrite) nothing is written, so a
  // refused save never leaves a private key behind without its public half.
  writeFileWithMode(`${path}.pub`, publicKeyText(pair.publicKey, options.comment), flags, 0o644);
  try {
    writeFileWithMode(path, privateKeyPem(pair), flags, 0o600);
  } catch (e) {
    if (!options.overwrite) rmSync(`${path}.pub`, { force: true });
    throw e;
  }
}

function writeFileWithMode(path: string, text: string, flags: number, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, flags, mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' ? 'file exists (refusing to overwrite a key)' : (e as Error).message;
    throw new SealwireError('IO', `cannot write ${path}: ${why}`);
  }
  try {
    fchmodSync(fd, mode); // an overwritten file keeps its old mode otherwise
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a key file. It is opened without following a symbolic link (O_NOFOLLOW) first; only when
 * that fails because the path is a link is it opened through the link, with `symlink` set, so a
 * private key found that way is refused and one found the other way really is the file named.
 */
function readKeyFile(path: string): { text: string; mode: number; uid: number; symlink: boolean } {
  let fd: number;
  let symlink = false;
  try {
    try {
      fd = openSync(path, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOOP') throw e;
      symlink = true;
      fd = openSync(path, 'r');
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SealwireError('IO', `cannot read key file ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    // Mode, owner and content from one open file, so a file swapped in between cannot pass the check.
    const { mode, size, uid } = fstatSync(fd);
    if (size > MAX_KEY_FILE) throw new SealwireError('TOO_LARGE', `${path}: key file larger than ${MAX_KEY_FILE} bytes`);
    const buf = readFileSync(fd);
    if (buf.length > MAX_KEY_FILE) throw new SealwireError('TOO_LARGE', `${path}: key file larger than ${MAX_KEY_FILE} bytes`);
    return { text: buf.toString('utf8'), mode, uid, symlink };
  } catch (e) {
    if (e instanceof SealwireError) throw e;
    throw new SealwireError('IO', `cannot read key file ${path}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
