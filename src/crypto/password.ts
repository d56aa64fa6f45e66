/**
 * Password hashing with libsodium's `crypto_pwhash_str` (Argon2id, memory-hard), for the chat
 * server's accounts. The stored string holds the algorithm, its parameters and a random salt
 * (`$argon2id$v=19$m=…,t=…,p=1$…`), so parameters can rise later without breaking old hashes.
 *
 * Hashing runs on libuv's thread pool (`*_async`), never on the event loop. Passwords are UTF-8
 * bytes copied into a buffer that is wiped after use; they are never logged or stored.
 */
import sodium from 'sodium-native';
import { SealwireError } from '../errors.js';
import { wipe } from './secrets.js';

/** Longest password accepted (bytes, UTF-8): bounds the work one attempt can cause. */
export const MAX_PASSWORD_BYTES = 1024;

export interface PasswordCost {
  /** Passes over memory (libsodium opslimit). */
  readonly ops: number;
  /** Memory in bytes (libsodium memlimit). */
  readonly mem: number;
}

/** libsodium's "interactive" cost: 64 MiB, 2 passes (about 0.1 s on one core). */
export const INTERACTIVE_COST: PasswordCost = {
  ops: sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
  mem: sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE,
};

function passwordBytes(password: string): Buffer {
  const bytes = Buffer.from(password, 'utf8');
  if (bytes.length === 0) throw new SealwireError('INVALID_ARGUMENT', 'password is empty');
  if (bytes.length > MAX_PASSWORD_BYTES) {
    wipe(bytes);
    throw new SealwireError('TOO_LARGE', `password longer than ${MAX_PASSWORD_BYTES} bytes`);
  }
  return bytes;
}

/** Hashes a password; returns the self-describing Argon2id string to store. */
export async function hashPassword(password: string, cost: PasswordCost = INTERACTIVE_COST): Promise<string> {
  const pw = passwordBytes(password);
  const out = Buffer.alloc(sodium.crypto_pwhash_STRBYTES);
  try {
    await sodium.crypto_pwhash_str_async(out, pw, cost.ops, cost.mem);
  } finally {
    wipe(pw);
  }
  const end = out.indexOf(0);
  return out.subarray(0, end < 0 ? out.length : end).toString('ascii');
}

/**
 * True when `password` matches the stored hash string. A malformed stored string, or a password
 * that is empty or too long, is simply false (nothing about why is revealed to the caller's peer).
 */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  let pw: Buffer;
  try {
    pw = passwordBytes(password);
  } catch {
    return false;
  }
  const str = Buffer.alloc(sodium.crypto_pwhash_STRBYTES);
  const s = Buffer.from(stored, 'ascii');
  if (s.length >= str.length || !stored.startsWith('$argon2')) {
    wipe(pw);
    return false;
  }
  str.set(s);
  try {
    return await sodium.crypto_pwhash_str_verify_async(str, pw);
  } catch {
    return false;
  } finally {
    wipe(pw);
  }
}
