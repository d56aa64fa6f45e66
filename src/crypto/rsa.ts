/**
 * RSA through node:crypto: OAEP with SHA-256 (and MGF1-SHA-256) for encryption, PSS with SHA-256
 * for signatures, and the one hybrid sealing helper every RSA suite uses when a design asks RSA to
 * carry more than one OAEP block holds (docs/PROTOCOLS.md, RSA building blocks).
 *
 * - Keys below `RSA_MIN_BITS` are refused here too, not only where keys are loaded: a wrapper that
 *   is handed a weak key by mistake says so (`BAD_KEY`) instead of using it.
 * - Decryption failures return `null`, one value for every cause (wrong key, bad padding, wrong
 *   length, wrong label), so callers cannot tell the peer why; PKCS#1 v1.5 is never used (Node 20
 *   refuses its private decryption anyway: the Marvin attack, CVE-2023-46809).
 * - The OAEP label carries a context string, so a ciphertext made for one message of one suite
 *   does not decrypt as another.
 */
import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { SealwireError } from '../errors.js';
import { GCM_IV_SIZE, GCM_TAG_SIZE } from './aead.js';
import { wipe } from './secrets.js';

/** RSA keys below this are refused everywhere (docs/SECURITY.md). */
export const RSA_MIN_BITS = 2048;
/** SHA-256 output size, used by OAEP twice (label hash and seed). */
const HASH_SIZE = 32;
/** The fresh AES-256-GCM key that hybrid sealing wraps with RSA-OAEP. */
export const HYBRID_KEY_SIZE = 32;

/** Modulus size in bits of an RSA key object; throws `BAD_KEY` for a non-RSA or weak key. */
export function rsaBits(key: KeyObject): number {
  if (key.asymmetricKeyType !== 'rsa') throw new SealwireError('BAD_KEY', `expected an RSA key, got ${key.asymmetricKeyType ?? 'a secret key'}`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < RSA_MIN_BITS) throw new SealwireError('BAD_KEY', `RSA key of ${bits} bits refused: at least ${RSA_MIN_BITS} bits required`);
  return bits;
}

/** Bytes of an RSA ciphertext or signature under `key` (the modulus size in bytes). */
export function rsaModulusBytes(key: KeyObject): number {
  return Math.ceil(rsaBits(key) / 8);
}

/** Largest plaintext RSA-OAEP-SHA256 holds under `key` (190 bytes at 2048 bits). */
export function oaepMaxPlaintext(key: KeyObject): number {
  return rsaModulusBytes(key) - 2 * HASH_SIZE - 2;
}

/** An OAEP label: a context string (UTF-8), or raw bytes. */
export type OaepLabel = string | Uint8Array;

const oaep = (key: KeyObject, label: OaepLabel): { key: KeyObject; padding: number; oaepHash: string; oaepLabel: Buffer } => ({
  key,
  padding: constants.RSA_PKCS1_OAEP_PADDING,
  oaepHash: 'sha256',
  oaepLabel: typeof label === 'string' ? Buffer.from(label, 'utf8') : Buffer.from(label),
});

/**
 * RSA-OAEP-SHA256 encryption of `plaintext` (at most `oaepMaxPlaintext(key)` bytes) under a public
 * (or private) key, with `label` as the OAEP label. Throws `INVALID_ARGUMENT` when it does not fit.
 */
export function oaepEncrypt(key: KeyObject, plaintext: Uint8Array, label: OaepLabel): Buffer {
  const max = oaepMaxPlaintext(key);
  if (plaintext.length > max) {
    throw new SealwireError('INVALID_ARGUMENT', `RSA-OAEP plaintext of ${plaintext.length} bytes exceeds ${max} (use sealHybrid)`);
  }
  return publicEncrypt(oaep(key, label), plaintext);
}

/**
 * RSA-OAEP-SHA256 decryption with the private key. Returns `null` on any failure, including a
 * ciphertext that is not exactly the modulus size: nothing says why.
 */
export function oaepDecrypt(privateKey: KeyObject, ciphertext: Uint8Array, label: OaepLabel): Buffer | null {
  if (privateKey.type !== 'private') throw new SealwireError('INVALID_ARGUMENT', 'RSA-OAEP decryption needs a private key');
  if (ciphertext.length !== rsaModulusBytes(privateKey)) return null;
  try {
    return privateDecrypt(oaep(privateKey, label), ciphertext);
  } catch {
    return null;
  }
}

/** Size of `sealHybrid(key, p, …)` for a plaintext of `plaintextLength` bytes. */
export function hybridSealedSize(key: KeyObject, plaintextLength: number): number {
  return rsaModulusBytes(key) + plaintextLength + GCM_TAG_SIZE;
}

/**
 * Hybrid sealing: `RSA-OAEP(key, K) ‖ AES-256-GCM(K, iv = 0, aad = context, plaintext) ‖ tag`
 * with a fresh 32-byte K from `rng`. K seals exactly one message, so the fixed IV never repeats
 * under it. `context` is both the OAEP label and the GCM associated data.
 */
export function sealHybrid(key: KeyObject, plaintext: Uint8Array, context: string, rng: (n: number) => Buffer = randomBytes): Buffer {
  const k = rng(HYBRID_KEY_SIZE);
  try {
    const wrapped = oaepEncrypt(key, k, context);
    const c = createCipheriv('aes-256-gcm', k, Buffer.alloc(GCM_IV_SIZE), { authTagLength: GCM_TAG_SIZE });
    c.setAAD(Buffer.from(context, 'utf8'));
    const body = c.update(plaintext);
    c.final();
    return Buffer.concat([wrapped, body, c.getAuthTag()]);
  } finally {
    wipe(k);
  }
}

/** Opens `sealHybrid` output; `null` on any failure (RSA, length or GCM tag), indistinguishably. */
export function openHybrid(privateKey: KeyObject, sealed: Uint8Array, context: string): Buffer | null {
  const n = rsaModulusBytes(privateKey);
  if (sealed.length < n + GCM_TAG_SIZE) return null;
  const k = oaepDecrypt(privateKey, sealed.subarray(0, n), context);
  if (!k || k.length !== HYBRID_KEY_SIZE) {
    wipe(k);
    return null;
  }
  try {
    const d = createDecipheriv('aes-256-gcm', k, Buffer.alloc(GCM_IV_SIZE), { authTagLength: GCM_TAG_SIZE });
    d.setAAD(Buffer.from(context, 'utf8'));
    d.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_SIZE));
    const plaintext = d.update(sealed.subarray(n, sealed.length - GCM_TAG_SIZE));
    try {
      d.final();
    } catch {
      wipe(plaintext);
      return null;
    }
    return plaintext;
  } finally {
    wipe(k);
  }
}

const pss = (key: KeyObject): { key: KeyObject; padding: number; saltLength: number } => ({
  key,
  padding: constants.RSA_PKCS1_PSS_PADDING,
  saltLength: HASH_SIZE,
});

/** RSA-PSS-SHA256 signature (salt 32 bytes) over `data` with a private key. */
export function pssSign(privateKey: KeyObject, data: Uint8Array): Buffer {
  rsaBits(privateKey);
  return sign('sha256', data, pss(privateKey));
}

/** True when `signature` is a valid RSA-PSS-SHA256 signature of `data` under `publicKey`. */
export function pssVerify(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== rsaModulusBytes(publicKey)) return false;
  try {
    return verify('sha256', data, pss(publicKey), signature);
  } catch {
    return false;
  }
}
