/**
 * The `sid` suite's messages (seed 000, the UDP chat room's design), byte by byte, as
 * (type, payload) pairs: the stream transport frames them with a length, a datagram transport
 * sends `type ‖ payload` as one datagram. docs/PROTOCOLS.md has the same tables.
 *
 *   0x00 ClientHello     C→S  C_pub (SubjectPublicKeyInfo DER)
 *   0x01 ServerHello     S→C  S_pub (SubjectPublicKeyInfo DER)
 *   0x02 ClientIdentity  C→S  Hybrid(S_pub, cid (8) ‖ challenge (16) ‖ C_pub)
 *   0x03 SessionOffer    S→C  Hybrid(C_pub, cid (8) ‖ challenge (16) ‖ sid (8) ‖ AES_key (16) ‖ AES_algo (1) ‖ binding (32))
 *   0x04 Confirm         C→S  cid (8) ‖ AES-GCM(k_c2s, n(0x04, 'C', 0), aad = 0x04 ‖ cid, sid ‖ "OK") ‖ tag (16)
 *   0x05 Reject          S→C  empty: "handshake failed" (datagram transports only; says nothing more)
 *   0x06 HandshakeAgain  S→C  cid (8): "no session for this cid: handshake again" (datagram only)
 *   0x10 Data / 0x11 Close, both ways:
 *                            cid (8) ‖ seq (u64) ‖ AES-GCM(k_dir, n(type, dir, seq), aad = type ‖ cid ‖ seq, sid ‖ data) ‖ tag (16)
 *
 *   binding = SHA-256(S_pub ‖ C_pub ‖ cid ‖ challenge): the keys the server saw. The client
 *             compares it with the keys it saw, so a SessionOffer relayed from another server
 *             (an unknown-key-share) is refused.
 *   th      = SHA-256(payload 0x00 ‖ payload 0x01 ‖ payload 0x02 ‖ payload 0x03)
 *   k_c2s ‖ k_s2c = HKDF-SHA256(ikm = AES_key, salt = th, info = "sealwire sid v2 record keys", 32)
 *
 *   The challenge is secret (fresh per handshake, only ever inside the boxes): over UDP the cid
 *   travels in clear in every datagram, so only the echoed challenge proves that the 0x03 was made
 *   by the holder of S's private key.
 *   Hybrid(K, m) = RSA-OAEP-SHA256(K, k) ‖ AES-256-GCM(k, 0, m) ‖ tag, fresh k (crypto/rsa.ts)
 *   n(type, dir, seq) = type ‖ dir ('C' 0x43 client→server, 'S' 0x53 server→client) ‖ 0x0000 ‖ u64 seq
 *   AES_algo 0x01 = AES-128-GCM, the only one defined.
 */
import { SealwireError } from '../../errors.js';
import { GCM_IV_SIZE, GCM_TAG_SIZE, gcmOpen, gcmSeal } from '../../crypto/aead.js';
import { sha256 } from '../../crypto/hash.js';
import { equalConstantTime } from '../../crypto/secrets.js';
import { Reader, expectSize } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';

export const MessageType = {
  CLIENT_HELLO: 0x00,
  SERVER_HELLO: 0x01,
  CLIENT_IDENTITY: 0x02,
  SESSION_OFFER: 0x03,
  CONFIRM: 0x04,
  REJECT: 0x05,
  HANDSHAKE_AGAIN: 0x06,
} as const;

export const Direction = {
  CLIENT_TO_SERVER: 0x43,
  SERVER_TO_CLIENT: 0x53,
} as const;
export type DirectionByte = (typeof Direction)[keyof typeof Direction];

export const CID_SIZE = 8;
export const SID_SIZE = 8;
export const CHALLENGE_SIZE = 16;
export const AES_KEY_SIZE = 16;
export const AesAlgo = { AES_128_GCM: 0x01 } as const;
export const BINDING_SIZE = 32;
export const SESSION_OFFER_PLAIN_SIZE = CID_SIZE + CHALLENGE_SIZE + SID_SIZE + AES_KEY_SIZE + 1 + BINDING_SIZE;
export const CONFIRM_OK = Buffer.from('OK', 'latin1');

export const CLIENT_IDENTITY_CONTEXT = 'sealwire sid ClientIdentity';
export const SESSION_OFFER_CONTEXT = 'sealwire sid SessionOffer';

const fail = (what: string): SealwireError => new SealwireError('HANDSHAKE_FAILED', what);

/** GCM nonce: type ‖ direction ‖ 2 zero bytes ‖ u64 counter. */
export function sidNonce(type: number, direction: DirectionByte, seq: bigint): Buffer {
  const n = Buffer.alloc(GCM_IV_SIZE);
  n[0] = type;
  n[1] = direction;
  n.writeBigUInt64BE(seq, 4);
  return n;
}

// --- ClientIdentity (0x02, inside the hybrid box) ------------------------------------------

export function encodeIdentityPlain(cid: Uint8Array, challenge: Uint8Array, clientKey: Uint8Array): Buffer {
  return new Writer(CID_SIZE + CHALLENGE_SIZE + clientKey.length).bytes(cid).bytes(challenge).bytes(clientKey).finish();
}

export function parseIdentityPlain(plain: Uint8Array): { cid: Uint8Array; challenge: Uint8Array; clientKey: Uint8Array } {
  const r = new Reader(plain, 'sid ClientIdentity', 'HANDSHAKE_FAILED');
  return { cid: r.fixed(CID_SIZE, 'cid'), challenge: r.fixed(CHALLENGE_SIZE, 'challenge'), clientKey: r.rest() };
}

// --- SessionOffer (0x03, inside the hybrid box) --------------------------------------------

export interface SessionOffer {
  readonly cid: Uint8Array;
  readonly challenge: Uint8Array;
  readonly sid: Uint8Array;
  readonly key: Uint8Array;
  readonly algo: number;
  /** `offerBinding(S_pub, C_pub, cid, challenge)` as the server computed it. */
  readonly binding: Uint8Array;
}

/** SHA-256(S_pub ‖ C_pub ‖ cid ‖ challenge): both long-term keys, as one side saw them, bound to this handshake. */
export function offerBinding(serverKey: Uint8Array, clientKey: Uint8Array, cid: Uint8Array, challenge: Uint8Array): Buffer {
  return sha256(serverKey, clientKey, cid, challenge);
}

export function encodeOfferPlain(o: SessionOffer): Buffer {
  return new Writer(SESSION_OFFER_PLAIN_SIZE).bytes(o.cid).bytes(o.challenge).bytes(o.sid).bytes(o.key).u8(o.algo).bytes(o.binding).finish();
}

export function parseOfferPlain(plain: Uint8Array): SessionOffer {
  expectSize(plain, SESSION_OFFER_PLAIN_SIZE, 'sid SessionOffer', 'HANDSHAKE_FAILED');
  const r = new Reader(plain, 'sid SessionOffer', 'HANDSHAKE_FAILED');
  const o = {
    cid: r.fixed(CID_SIZE, 'cid'),
    challenge: r.fixed(CHALLENGE_SIZE, 'challenge'),
    sid: r.fixed(SID_SIZE, 'sid'),
    key: r.fixed(AES_KEY_SIZE, 'AES_key'),
    algo: r.u8('AES_algo'),
    binding: r.fixed(BINDING_SIZE, 'binding'),
  };
  r.end();
  if (o.algo !== AesAlgo.AES_128_GCM) throw fail(`sid SessionOffer: unknown AES_algo 0x${o.algo.toString(16)}`);
  return o;
}

// --- Confirm (0x04) ----------------------------------------------------------------------------

export const CONFIRM_SIZE = CID_SIZE + SID_SIZE + CONFIRM_OK.length + GCM_TAG_SIZE;

const confirmAad = (cid: Uint8Array): Buffer => Buffer.concat([Buffer.of(MessageType.CONFIRM), cid]);

/** The Confirm: cid in clear, then sid ‖ "OK" under the client→server key, nonce n(0x04, 'C', 0). */
export function encodeConfirm(c2sKey: Uint8Array, cid: Uint8Array, sid: Uint8Array): Buffer {
  const { ciphertext, tag } = gcmSeal(c2sKey, sidNonce(MessageType.CONFIRM, Direction.CLIENT_TO_SERVER, 0n), confirmAad(cid), Buffer.concat([sid, CONFIRM_OK]));
  return Buffer.concat([cid, ciphertext, tag]);
}

/** True when `payload` is exactly the Confirm of this cid and sid under `c2sKey` (checked in constant time). */
export function verifyConfirm(c2sKey: Uint8Array, payload: Uint8Array, cid: Uint8Array, sid: Uint8Array): boolean {
  if (payload.length !== CONFIRM_SIZE) return false;
  const named = payload.subarray(0, CID_SIZE);
  if (!equalConstantTime(named, cid)) return false;
  const plain = gcmOpen(
    c2sKey,
    sidNonce(MessageType.CONFIRM, Direction.CLIENT_TO_SERVER, 0n),
    confirmAad(named),
    payload.subarray(CID_SIZE, payload.length - GCM_TAG_SIZE),
    payload.subarray(payload.length - GCM_TAG_SIZE),
  );
  return plain !== null && equalConstantTime(plain, Buffer.concat([sid, CONFIRM_OK]));
}

// --- Reject / HandshakeAgain (datagram transports) -----------------------------------------

/** The "handshake again" notice for a record whose cid has no session (unauthenticated: a hint). */
export function encodeHandshakeAgain(cid: Uint8Array): Buffer {
  return new Writer(CID_SIZE).bytes(cid).finish();
}

export function parseHandshakeAgain(payload: Uint8Array): Uint8Array {
  expectSize(payload, CID_SIZE, 'sid HandshakeAgain', 'HANDSHAKE_FAILED');
  return payload;
}
