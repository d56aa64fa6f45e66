/**
 * The `box` suite's messages (seed 003), byte by byte. docs/PROTOCOLS.md has the same tables.
 *
 * Notation as in the seed: `Box[X](A -> B)` is X sealed with XSalsa20-Poly1305 under the key
 * that A's secret and B's public key give (crypto/box.ts, `boxKeys`), with the nonce below.
 *
 *   0x05 KeyQuery  C→S  64 zero bytes                         (only when the client has no key for S)
 *   0x06 KeyReply  S→C  S (32)
 *   0x01 Hello     C→S  EC (32) ‖ Box[Ctag (32) ‖ CID (8) ‖ Offer (1) ‖ 167 zero bytes](ECs -> S) = 256 bytes
 *                       CID: the UDP connection id (zeros on streams), so the Hello is bound to it
 *                       Offer: record ciphers beyond XSalsa20-Poly1305, one bit each (0 = seed 003)
 *   0x02 Cookie    S→C  Cnonce (22) ‖ Box[ES (32) ‖ Ctag (32) ‖ Stag (32)](Ss -> EC) = 134 bytes
 *                       nonce 0x02 ‖ 'S' ‖ Cnonce (random)
 *   0x03 Vouch     C→S  Box[C (32) ‖ Vnonce (22) ‖ V (80)](ECs -> ES)              = 150 bytes
 *                       V = Box[EC (32) ‖ Stag (32)](Cs -> S), nonce 0x0f ‖ 'C' ‖ Vnonce
 *   0x04 Ready     S→C  Box[](ESs -> EC)                 when Offer = 0             =  16 bytes
 *                       Box[Choice (1)](ESs -> EC)       when Offer ≠ 0             =  17 bytes
 *   0x10 Data / 0x11 Close, both ways: Box[data](ECs -> ES) or Box[data](ESs -> EC)
 *
 * Nonces are 24 bytes: message type (1) ‖ direction (1: 'C' = 0x43 client→server, 'S' = 0x53
 * server→client) ‖ 14 zero bytes ‖ 64-bit big-endian counter (0 for handshake messages, the
 * record sequence number for records). Two messages never share a nonce under one key: keys of a
 * session are fresh (ephemeral keys on both sides), types differ, directions differ, and records
 * count up. The one box under two long-term keys, V, meets the same key in every session, so its
 * nonce is 22 random bytes after its prefix (docs/DESIGN.md §2.3), sent in the Vouch. The Cookie's key
 * comes from (S, EC), and EC is the client's choice: a replayed Hello makes the server seal a
 * second Cookie under the same key, so the Cookie's nonce is also 22 random bytes, sent with it.
 *
 * Record cipher negotiation: the client offers in the Hello, the server chooses in the Ready, and
 * both values go into the record keys (records.ts, `recordKey`). The Offer travels inside the
 * Hello's box, which the Vouch's V ties to the client's long-term key (V names EC), and the
 * Choice inside the Ready, under the session key: an attacker can change neither, and a side that
 * sees other values than its peer derives other keys. A client that offers nothing (Offer = 0, a
 * seed-003 Hello) gets the seed-003 Ready and XSalsa20-Poly1305 records.
 *
 * The Hello is padded so that it is never smaller than the server's answer (no amplification).
 * Over UDP the server is stateless (stateless.ts): its Cookie' box also carries a 113-byte token
 * (247 bytes in all, still below the Hello) that the client puts in front of its Vouch.
 */
import { writeU64BE } from '../../record/u64.js';
import { SealwireError } from '../../errors.js';
import { BOX_MAC_SIZE, BOX_NONCE_SIZE, X25519_KEY_SIZE } from '../../crypto/box.js';
import { Reader, expectSize } from '../../wire/reader.js';
import { equalConstantTime } from '../../crypto/secrets.js';
import { Writer } from '../../wire/writer.js';
import type { BoxCipherName } from '../../crypto/record-aead.js';

export const MessageType = {
  HELLO: 0x01,
  COOKIE: 0x02,
  VOUCH: 0x03,
  READY: 0x04,
  KEY_QUERY: 0x05,
  KEY_REPLY: 0x06,
  /** Not a message: the nonce prefix of V, the box inside the Vouch. */
  VOUCH_INNER: 0x0f,
} as const;

export const Direction = {
  CLIENT_TO_SERVER: 0x43, // 'C'
  SERVER_TO_CLIENT: 0x53, // 'S'
} as const;
export type DirectionByte = (typeof Direction)[keyof typeof Direction];

export const TAG_SIZE = 32;
/** The connection id inside the Hello (datagram transports; zeros on streams). */
export const HELLO_CID_SIZE = 8;
/** The record-cipher offer after the connection id. */
export const HELLO_OFFER_SIZE = 1;
export const HELLO_PADDING = 167;
export const V_NONCE_SIZE = BOX_NONCE_SIZE - 2;
/** Random bytes after the 2-byte (type, direction) prefix of a random nonce. */
export const RANDOM_NONCE_SIZE = BOX_NONCE_SIZE - 2;

export const KEY_QUERY_SIZE = 64;
export const KEY_REPLY_SIZE = X25519_KEY_SIZE;
export const HELLO_SIZE = X25519_KEY_SIZE + BOX_MAC_SIZE + TAG_SIZE + HELLO_CID_SIZE + HELLO_OFFER_SIZE + HELLO_PADDING;
export const COOKIE_PLAIN_SIZE = X25519_KEY_SIZE + TAG_SIZE + TAG_SIZE;
export const COOKIE_NONCE_SIZE = BOX_NONCE_SIZE - 2;
export const COOKIE_SIZE = COOKIE_NONCE_SIZE + BOX_MAC_SIZE + COOKIE_PLAIN_SIZE;
export const V_PLAIN_SIZE = X25519_KEY_SIZE + TAG_SIZE;
export const V_SIZE = BOX_MAC_SIZE + V_PLAIN_SIZE;
export const VOUCH_PLAIN_SIZE = X25519_KEY_SIZE + V_NONCE_SIZE + V_SIZE;
export const VOUCH_SIZE = BOX_MAC_SIZE + VOUCH_PLAIN_SIZE;
export const READY_SIZE = BOX_MAC_SIZE;
/** The Ready that answers a Hello with a non-zero Offer: Box[Choice]. */
export const READY_WITH_CHOICE_SIZE = BOX_MAC_SIZE + 1;
/** UDP, stateless server (stateless.ts): the server's token, inside the Cookie' and before the Vouch'. */
export const TOKEN_SIZE = BOX_NONCE_SIZE + BOX_MAC_SIZE + X25519_KEY_SIZE + X25519_KEY_SIZE + 8 + HELLO_OFFER_SIZE;
export const COOKIE_WITH_TOKEN_SIZE = COOKIE_SIZE + TOKEN_SIZE;

/** Record ciphers by their id in the Ready's Choice; the Offer has bit `1 << (id - 1)` for each. */
export const BoxCipherId: Readonly<Record<BoxCipherName, number>> = {
  'xsalsa20-poly1305': 0x00,
  'chacha20-poly1305': 0x01,
};

/** The Offer byte for the ciphers a client accepts (XSalsa20-Poly1305 needs no bit). */
export function encodeOffer(ciphers: readonly BoxCipherName[]): number {
  let offer = 0;
  for (const c of ciphers) if (BoxCipherId[c] !== 0) offer |= 1 << (BoxCipherId[c] - 1);
  return offer;
}

/** True when `offer` (from a Hello) names `cipher`; XSalsa20-Poly1305 is always offered. */
export function offers(offer: number, cipher: BoxCipherName): boolean {
  const id = BoxCipherId[cipher];
  return id === 0 || (offer & (1 << (id - 1))) !== 0;
}

/** The cipher name of a Choice byte, or undefined for an id this build does not know. */
export function cipherOfId(id: number): BoxCipherName | undefined {
  return (Object.keys(BoxCipherId) as BoxCipherName[]).find((c) => BoxCipherId[c] === id);
}

/** A nonce with a counter: type ‖ direction ‖ 14 zero bytes ‖ u64 counter. */
export function counterNonce(type: number, direction: DirectionByte, counter: bigint): Buffer {
  const n = Buffer.alloc(BOX_NONCE_SIZE);
  writeCounterNonce(n, type, direction, counter);
  return n;
}

/** Rewrites a reusable nonce buffer in place (the record hot path). Bytes 2..15 stay zero. */
export function writeCounterNonce(n: Buffer, type: number, direction: DirectionByte, counter: bigint): void {
  n[0] = type;
  n[1] = direction;
  writeU64BE(n, 16, counter);
}

/** A random nonce: type ‖ direction ‖ 22 random bytes (for boxes whose key may repeat). */
export function randomNonce(type: number, direction: DirectionByte, random: Uint8Array): Buffer {
  if (random.length !== RANDOM_NONCE_SIZE) throw new SealwireError('INVALID_ARGUMENT', `random nonce part must be ${RANDOM_NONCE_SIZE} bytes`);
  const n = Buffer.alloc(BOX_NONCE_SIZE);
  n[0] = type;
  n[1] = direction;
  n.set(random, 2);
  return n;
}

/** V's nonce: 0x0f ‖ 'C' ‖ 22 random bytes. */
export function vouchInnerNonce(random: Uint8Array): Buffer {
  return randomNonce(MessageType.VOUCH_INNER, Direction.CLIENT_TO_SERVER, random);
}

/** The Cookie's nonce: 0x02 ‖ 'S' ‖ Cnonce (22 random bytes, sent before the box). */
export function cookieNonce(random: Uint8Array): Buffer {
  return randomNonce(MessageType.COOKIE, Direction.SERVER_TO_CLIENT, random);
}

const fail = (what: string): SealwireError => new SealwireError('HANDSHAKE_FAILED', what);

// --- KeyQuery / KeyReply -------------------------------------------------------------------

export const encodeKeyQuery = (): Buffer => Buffer.alloc(KEY_QUERY_SIZE);

export function checkKeyQuery(payload: Uint8Array): void {
  expectSize(payload, KEY_QUERY_SIZE, 'box KeyQuery', 'HANDSHAKE_FAILED');
  if (!payload.every((b) => b === 0)) throw fail('box KeyQuery: padding is not zero');
}

export function parseKeyReply(payload: Uint8Array): Uint8Array {
  expectSize(payload, KEY_REPLY_SIZE, 'box KeyReply', 'HANDSHAKE_FAILED');
  return payload;
}

// --- Hello ---------------------------------------------------------------------------------

export interface Hello {
  readonly clientEphemeral: Uint8Array;
  readonly sealed: Uint8Array;
}

const NO_CID = new Uint8Array(HELLO_CID_SIZE);

export function encodeHelloPlain(ctag: Uint8Array, connectionId: Uint8Array = NO_CID, offer = 0): Buffer {
  if (connectionId.length !== HELLO_CID_SIZE) throw new SealwireError('INVALID_ARGUMENT', 'connection id must be 8 bytes');
  const w = new Writer(TAG_SIZE + HELLO_CID_SIZE + HELLO_OFFER_SIZE + HELLO_PADDING).bytes(ctag).bytes(connectionId).u8(offer);
  w.reserve(HELLO_PADDING); // a Writer's buffer starts zeroed: the padding is zeros
  return w.finish();
}

export function encodeHello(clientEphemeral: Uint8Array, sealed: Uint8Array): Buffer {
  return new Writer(HELLO_SIZE).bytes(clientEphemeral).bytes(sealed).finish();
}

export function parseHello(payload: Uint8Array): Hello {
  expectSize(payload, HELLO_SIZE, 'box Hello', 'HANDSHAKE_FAILED');
  const r = new Reader(payload, 'box Hello', 'HANDSHAKE_FAILED');
  const clientEphemeral = r.fixed(X25519_KEY_SIZE, 'EC');
  const sealed = r.rest();
  return { clientEphemeral, sealed };
}

/**
 * Returns Ctag and the Offer from the opened Hello box, refusing non-zero padding and a connection
 * id other than `connectionId` (zeros on streams), compared in constant time. Offer bits this
 * build does not know are kept (the server ignores them when it chooses).
 */
export function parseHelloPlain(plain: Uint8Array, connectionId: Uint8Array = NO_CID): { readonly ctag: Uint8Array; readonly offer: number } {
  const r = new Reader(plain, 'box Hello', 'HANDSHAKE_FAILED');
  const ctag = r.fixed(TAG_SIZE, 'Ctag');
  const cid = r.fixed(HELLO_CID_SIZE, 'connection id');
  const offer = r.u8('offer');
  const pad = r.fixed(HELLO_PADDING, 'padding');
  r.end();
  if (!pad.every((b) => b === 0)) throw fail('box Hello: padding is not zero');
  if (connectionId.length !== HELLO_CID_SIZE || !equalConstantTime(cid, connectionId)) {
    throw fail('box Hello: sealed for another connection id (a copied Hello)');
  }
  return { ctag, offer };
}

// --- Cookie --------------------------------------------------------------------------------

export interface CookiePlain {
  readonly serverEphemeral: Uint8Array;
  readonly ctag: Uint8Array;
  readonly stag: Uint8Array;
}

export function encodeCookiePlain(c: CookiePlain): Buffer {
  return new Writer(COOKIE_PLAIN_SIZE).bytes(c.serverEphemeral).bytes(c.ctag).bytes(c.stag).finish();
}

/** Cookie: Cnonce ‖ sealed box. */
export function encodeCookie(cNonce: Uint8Array, sealed: Uint8Array): Buffer {
  return new Writer(COOKIE_SIZE).bytes(cNonce).bytes(sealed).finish();
}

export function parseCookie(payload: Uint8Array, size: number = COOKIE_SIZE): { readonly cNonce: Uint8Array; readonly sealed: Uint8Array } {
  expectSize(payload, size, 'box Cookie', 'HANDSHAKE_FAILED');
  const r = new Reader(payload, 'box Cookie', 'HANDSHAKE_FAILED');
  return { cNonce: r.fixed(COOKIE_NONCE_SIZE, 'Cnonce'), sealed: r.rest() };
}

export function parseCookiePlain(plain: Uint8Array): CookiePlain {
  const r = new Reader(plain, 'box Cookie', 'HANDSHAKE_FAILED');
  const c = { serverEphemeral: r.fixed(X25519_KEY_SIZE, 'ES'), ctag: r.fixed(TAG_SIZE, 'Ctag'), stag: r.fixed(TAG_SIZE, 'Stag') };
  r.end();
  return c;
}

// --- Vouch ---------------------------------------------------------------------------------

export interface VouchPlain {
  readonly clientKey: Uint8Array;
  readonly vNonce: Uint8Array;
  readonly v: Uint8Array;
}

export function encodeVouchPlain(p: VouchPlain): Buffer {
  return new Writer(VOUCH_PLAIN_SIZE).bytes(p.clientKey).bytes(p.vNonce).bytes(p.v).finish();
}

export function parseVouchPlain(plain: Uint8Array): VouchPlain {
  const r = new Reader(plain, 'box Vouch', 'HANDSHAKE_FAILED');
  const p = { clientKey: r.fixed(X25519_KEY_SIZE, 'C'), vNonce: r.fixed(V_NONCE_SIZE, 'V nonce'), v: r.fixed(V_SIZE, 'V') };
  r.end();
  return p;
}

export interface VPlain {
  readonly clientEphemeral: Uint8Array;
  readonly stag: Uint8Array;
}

export function encodeVPlain(p: VPlain): Buffer {
  return new Writer(V_PLAIN_SIZE).bytes(p.clientEphemeral).bytes(p.stag).finish();
}

export function parseVPlain(plain: Uint8Array): VPlain {
  const r = new Reader(plain, 'box V', 'HANDSHAKE_FAILED');
  const p = { clientEphemeral: r.fixed(X25519_KEY_SIZE, 'EC'), stag: r.fixed(TAG_SIZE, 'Stag') };
  r.end();
  return p;
}
