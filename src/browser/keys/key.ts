/**
 * The browser backend of keys/key.ts: `PublicKey` and `KeyPair` for X25519 only (the `box` suite),
 * with the same fields, fingerprints and one-line form as the Node module. RSA keys need OpenSSL
 * and are refused with `BAD_KEY`. The browser build puts this module where src/keys/key.ts is
 * imported (scripts/build-browser.mjs).
 */
import { SealwireError } from '../../errors.js';
import { x25519PublicKey, X25519_KEY_SIZE } from '../crypto/box.js';
import { sha256 } from '../crypto/hash.js';
import { systemRng } from '../crypto/random.js';
import { wipe } from '../crypto/secrets.js';

export type KeyType = 'x25519' | 'rsa';
export const KEY_TYPES: readonly KeyType[] = ['x25519', 'rsa'];

/** `SHA256:<base64>` of the key's canonical bytes, as OpenSSH prints fingerprints. */
export function fingerprintOf(bytes: Uint8Array): string {
  return 'SHA256:' + sha256(bytes).toString('base64').replace(/=+$/, '');
}

const noRsa = (): SealwireError => new SealwireError('BAD_KEY', 'RSA keys are not available in the browser build (box suite only)');

export class PublicKey {
  private cachedFingerprint: string | undefined;

  private constructor(
    readonly type: KeyType,
    /** Raw 32 bytes (X25519). */
    readonly bytes: Buffer,
  ) {}

  /** Parses an X25519 public key from its 32 bytes. Throws `BAD_KEY` otherwise (and for RSA). */
  static fromBytes(type: KeyType, bytes: Uint8Array): PublicKey {
    if (type !== 'x25519') throw noRsa();
    if (bytes.length !== X25519_KEY_SIZE) {
      throw new SealwireError('BAD_KEY', `X25519 public key must be ${X25519_KEY_SIZE} bytes, got ${bytes.length}`);
    }
    return new PublicKey('x25519', Buffer.from(bytes));
  }

  get fingerprint(): string {
    return (this.cachedFingerprint ??= fingerprintOf(this.bytes));
  }

  get bits(): number {
    return 255;
  }

  equals(other: PublicKey | null | undefined): boolean {
    return !!other && other.type === this.type && other.bytes.equals(this.bytes);
  }

  /** One-line form: `sealwire-x25519 <base64>`, as in .pub files. */
  toString(): string {
    return `sealwire-${this.type} ${this.bytes.toString('base64')}`;
  }
}

export class KeyPair {
  private constructor(
    readonly type: KeyType,
    readonly publicKey: PublicKey,
    private readonly x25519Secret: Buffer,
  ) {}

  /** An X25519 key pair from its 32-byte secret key (copied). */
  static fromX25519Secret(secret: Uint8Array): KeyPair {
    if (secret.length !== X25519_KEY_SIZE) {
      throw new SealwireError('BAD_KEY', `X25519 secret key must be ${X25519_KEY_SIZE} bytes, got ${secret.length}`);
    }
    const sk = Buffer.from(secret);
    return new KeyPair('x25519', PublicKey.fromBytes('x25519', x25519PublicKey(sk)), sk);
  }

  /** The raw X25519 secret key. */
  get secretKey(): Buffer {
    return this.x25519Secret;
  }

  /** Overwrites the secret in memory. */
  wipe(): void {
    wipe(this.x25519Secret);
  }
}

/** A fresh X25519 key pair (the browser build has no RSA). */
export function generateKeyPair(type: KeyType = 'x25519'): KeyPair {
  if (type !== 'x25519') throw noRsa();
  const secret = systemRng(X25519_KEY_SIZE);
  try {
    return KeyPair.fromX25519Secret(secret);
  } finally {
    wipe(secret);
  }
}
