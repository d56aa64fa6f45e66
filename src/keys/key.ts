/**
 * Long-term keys: `PublicKey` and `KeyPair`, for X25519 (the `box` suite) and RSA (the others).
 *
 * A public key is carried as canonical bytes: the raw 32 bytes for X25519, SubjectPublicKeyInfo
 * DER for RSA. Its fingerprint is `SHA256:` + unpadded base64 of SHA-256 over those bytes, printed
 * as OpenSSH prints its own. RSA keys below 2048 bits are refused wherever a key enters: from a
 * file, from a peer, or from the generator (docs/DESIGN.md §2.2).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SealwireError } from '../errors.js';
import { x25519KeyPairFromSeed, x25519PublicKey, X25519_KEY_SIZE } from '../crypto/box.js';
import { sha256 } from '../crypto/hash.js';
import { systemRng } from '../crypto/random.js';
import { wipe } from '../crypto/secrets.js';
import { RSA_MIN_BITS } from '../crypto/rsa.js';

export type KeyType = 'x25519' | 'rsa';
export const KEY_TYPES: readonly KeyType[] = ['x25519', 'rsa'];

/** RSA keys below this are refused on load, from a peer, and by the generator (crypto/rsa.ts). */
export const MIN_RSA_BITS = RSA_MIN_BITS;
/** Size of new RSA keys unless asked otherwise. */
export const DEFAULT_RSA_BITS = 3072;
/** Largest RSA key accepted from a peer or a file (bounds the cost of its operations). */
export const MAX_RSA_BITS = 8192;

/** `SHA256:<base64>` of the key's canonical bytes, as OpenSSH prints fingerprints. */
export function fingerprintOf(bytes: Uint8Array): string {
  return 'SHA256:' + sha256(bytes).toString('base64').replace(/=+$/, '');
}

export class PublicKey {
  private cachedFingerprint: string | undefined;
  private cachedKeyObject: KeyObject | undefined;

  private constructor(
    readonly type: KeyType,
    /** Raw 32 bytes (X25519) or SPKI DER (RSA). */
    readonly bytes: Buffer,
    keyObject?: KeyObject,
  ) {
    this.cachedKeyObject = keyObject;
  }

  /**
   * Parses a public key from its canonical bytes. Throws `BAD_KEY` when they are not a valid key
   * of that type, or an RSA key outside 2048..8192 bits.
   */
  static fromBytes(type: KeyType, bytes: Uint8Array): PublicKey {
    // A peer's key lives as long as its session: in memory of its own, since a slice of Buffer's
    // shared 8 KiB pool would keep the whole pool alive (UDP memory per idle session).
    const copy = Buffer.alloc(bytes.length);
    copy.set(bytes);
    if (type === 'x25519') {
      if (copy.length !== X25519_KEY_SIZE) {
        throw new SealwireError('BAD_KEY', `X25519 public key must be ${X25519_KEY_SIZE} bytes, got ${copy.length}`);
      }
      return new PublicKey('x25519', copy);
    }
    let ko: KeyObject;
    try {
      ko = createPublicKey({ key: copy, format: 'der', type: 'spki' });
    } catch {
      throw new SealwireError('BAD_KEY', 'not a DER SubjectPublicKeyInfo RSA public key');
    }
    return PublicKey.fromKeyObject(ko);
  }

  /** Wraps a node:crypto public key object (RSA or X25519), checking type and size. */
  static fromKeyObject(ko: KeyObject): PublicKey {
    const pub = ko.type === 'private' ? createPublicKey(ko) : ko;
    if (pub.asymmetricKeyType === 'rsa') {
      checkRsaBits(pub);
      return new PublicKey('rsa', pub.export({ format: 'der', type: 'spki' }), pub);
    }
    if (pub.asymmetricKeyType === 'x25519') {
      const jwk = pub.export({ format: 'jwk' });
      return PublicKey.fromBytes('x25519', Buffer.from(jwk.x ?? '', 'base64url'));
    }
    throw new SealwireError('BAD_KEY', `unsupported key type ${pub.asymmetricKeyType ?? 'unknown'} (expected x25519 or rsa)`);
  }

  get fingerprint(): string {
    return (this.cachedFingerprint ??= fingerprintOf(this.bytes));
  }

  /** The node:crypto key object (RSA keys; built on first use). */
  get keyObject(): KeyObject {
    if (!this.cachedKeyObject) {
      this.cachedKeyObject =
        this.type === 'rsa'
          ? createPublicKey({ key: this.bytes, format: 'der', type: 'spki' })
          : createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: this.bytes.toString('base64url') }, format: 'jwk' });
    }
    return this.cachedKeyObject;
  }

  /** Modulus size of an RSA key; 255 for X25519. */
  get bits(): number {
    return this.type === 'rsa' ? (this.keyObject.asymmetricKeyDetails?.modulusLength ?? 0) : 255;
  }

  equals(other: PublicKey | null | undefined): boolean {
    return !!other && other.type === this.type && other.bytes.equals(this.bytes);
  }

  /** One-line form: `sealwire-<type> <base64>`, as in .pub, known_hosts and authorized_keys files. */
  toString(): string {
    return `sealwire-${this.type} ${this.bytes.toString('base64')}`;
  }
}

export class KeyPair {
  private constructor(
    readonly type: KeyType,
    readonly publicKey: PublicKey,
    private readonly x25519Secret: Buffer | undefined,
    private readonly rsaPrivate: KeyObject | undefined,
  ) {}

  /** An X25519 key pair from its 32-byte secret key (copied). */
  static fromX25519Secret(secret: Uint8Array): KeyPair {
    if (secret.length !== X25519_KEY_SIZE) {
      throw new SealwireError('BAD_KEY', `X25519 secret key must be ${X25519_KEY_SIZE} bytes, got ${secret.length}`);
    }
    const sk = Buffer.from(secret);
    return new KeyPair('x25519', PublicKey.fromBytes('x25519', x25519PublicKey(sk)), sk, undefined);
  }

  /** A key pair from a node:crypto private key object (RSA ≥ 2048 bits, or X25519). */
  static fromPrivateKeyObject(ko: KeyObject): KeyPair {
    if (ko.type !== 'private') throw new SealwireError('BAD_KEY', 'not a private key');
    if (ko.asymmetricKeyType === 'x25519') {
      const jwk = ko.export({ format: 'jwk' });
      const secret = Buffer.from(jwk.d ?? '', 'base64url');
      try {
        return KeyPair.fromX25519Secret(secret);
      } finally {
        wipe(secret);
      }
    }
    if (ko.asymmetricKeyType === 'rsa') {
      checkRsaBits(ko);
      return new KeyPair('rsa', PublicKey.fromKeyObject(ko), undefined, ko);
    }
    throw new SealwireError('BAD_KEY', `unsupported key type ${ko.asymmetricKeyType ?? 'unknown'} (expected x25519 or rsa)`);
  }

  /** The raw X25519 secret key. Throws for other key types. */
  get secretKey(): Buffer {
    if (!this.x25519Secret) throw new SealwireError('BAD_KEY', `a ${this.type} key has no X25519 secret`);
    return this.x25519Secret;
  }

  /** The RSA private key object. Throws for other key types. */
  get privateKey(): KeyObject {
    if (!this.rsaPrivate) throw new SealwireError('BAD_KEY', `a ${this.type} key has no RSA private key`);
    return this.rsaPrivate;
  }

  /** The private key as a node:crypto key object (for export to PKCS#8). */
  toPrivateKeyObject(): KeyObject {
    if (this.rsaPrivate) return this.rsaPrivate;
    const sk = this.secretKey;
    return createPrivateKey({
      key: { kty: 'OKP', crv: 'X25519', d: sk.toString('base64url'), x: this.publicKey.bytes.toString('base64url') },
      format: 'jwk',
    });
  }

  /** Overwrites the X25519 secret in memory (RSA key objects live in OpenSSL and cannot be wiped). */
  wipe(): void {
    wipe(this.x25519Secret);
  }
}

export interface GenerateOptions {
  /** RSA modulus size (default 3072; at least 2048). */
  bits?: number;
}

/**
 * Generates a long-term key pair. X25519 is instant; RSA takes from tens of milliseconds (2048)
 * to seconds (4096) and blocks the event loop: use `generateKeyPairAsync` in a server.
 */
export function generateKeyPair(type: KeyType = 'x25519', options: GenerateOptions = {}): KeyPair {
  if (type === 'x25519') {
    const seed = systemRng(32);
    const { secretKey } = x25519KeyPairFromSeed(seed);
    wipe(seed);
    try {
      return KeyPair.fromX25519Secret(secretKey);
    } finally {
      wipe(secretKey);
    }
  }
  if (type === 'rsa') {
    const bits = checkRequestedBits(options.bits ?? DEFAULT_RSA_BITS);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
    return KeyPair.fromPrivateKeyObject(privateKey);
  }
  throw new SealwireError('INVALID_ARGUMENT', `unknown key type ${String(type)} (expected x25519 or rsa)`);
}

/** Like `generateKeyPair`, but RSA generation runs on libuv's thread pool. */
export async function generateKeyPairAsync(type: KeyType = 'x25519', options: GenerateOptions = {}): Promise<KeyPair> {
  if (type !== 'rsa') return generateKeyPair(type, options);
  const bits = checkRequestedBits(options.bits ?? DEFAULT_RSA_BITS);
  const { generateKeyPair: gen } = await import('node:crypto');
  const privateKey = await new Promise<KeyObject>((resolve, reject) =>
    gen('rsa', { modulusLength: bits, publicExponent: 0x10001 }, (err, _pub, priv) => (err ? reject(err) : resolve(priv))),
  );
  return KeyPair.fromPrivateKeyObject(privateKey);
}

function checkRequestedBits(bits: number): number {
  if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw new SealwireError('BAD_KEY', `RSA key size ${bits} refused: use ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits (3072 recommended)`);
  }
  return bits;
}

function checkRsaBits(ko: KeyObject): void {
  const bits = ko.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw new SealwireError('BAD_KEY', `RSA key of ${bits} bits refused: at least ${MIN_RSA_BITS} bits required`);
  }
  if (bits > MAX_RSA_BITS) {
    throw new SealwireError('BAD_KEY', `RSA key of ${bits} bits refused: at most ${MAX_RSA_BITS} bits accepted`);
  }
}
