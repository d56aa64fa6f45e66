/**
 * `box` packet mode (seed 003's second diagram, "for udp based protocols like dns and dht"): no
 * handshake; every client packet carries the client's ephemeral key and a box to the server's
 * long-term key, and the server answers with a box to that ephemeral key.
 *
 *   0x20 Request  C→S  EC (32) ‖ seq (8) ‖ Box[message](ECs -> S)   nonce 0x20 ‖ 'C' ‖ 14 zero ‖ seq
 *   0x21 Reply    S→C  Rnonce (22) ‖ Box[seq (8) ‖ message](Ss -> EC)  nonce 0x21 ‖ 'S' ‖ Rnonce
 *
 * - The client keeps one ephemeral key pair (EC, ECs) for its lifetime and counts `seq` up, so
 *   its nonces never repeat under (EC, S). The server keeps no state, so it may answer a replayed
 *   request again: its nonce is random (22 bytes), never a counter.
 * - The client accepts a reply only for a request it sent (seq below its counter) and each reply
 *   once (a replay window over seq), after the box authenticates.
 * - No amplification: a reply is never larger than the request it answers (`reply` refuses with
 *   `TOO_LARGE`): the reply's message may be at most 10 bytes longer than the request's.
 * - What it does not give (docs/SECURITY.md): the server cannot tell a replayed request from a new
 *   one (requests must be idempotent, as DNS queries are); clients are anonymous; forward secrecy
 *   only against theft of client secrets: whoever later steals Ss opens recorded packets.
 */
import { SealwireError } from '../../errors.js';
import { BOX_MAC_SIZE, X25519_KEY_SIZE, boxKeys, secretboxOpen, secretboxSeal, x25519KeyPairFromSeed, type DirectionKeys } from '../../crypto/box.js';
import { wipe } from '../../crypto/secrets.js';
import type { Rng } from '../../crypto/random.js';
import type { KeyPair, PublicKey } from '../../keys/key.js';
import { ReplayWindow } from '../../record/replay-window.js';
import { Direction, RANDOM_NONCE_SIZE, counterNonce, randomNonce } from './messages.js';

export const PacketType = { REQUEST: 0x20, REPLY: 0x21 } as const;
export const REQUEST_OVERHEAD = 1 + X25519_KEY_SIZE + 8 + BOX_MAC_SIZE;
export const REPLY_OVERHEAD = 1 + RANDOM_NONCE_SIZE + BOX_MAC_SIZE + 8;
/** Largest message in one packet (one datagram, under common path MTUs). */
export const MAX_PACKET_MESSAGE = 1200;

/** The client side: one ephemeral key for its lifetime (wipe it at the end). */
export class BoxPacketClient {
  private readonly ephemeralPublic: Buffer;
  private keys: DirectionKeys | null;
  private seq = 0n;
  private readonly window = new ReplayWindow();

  constructor(server: PublicKey, rng: Rng) {
    if (server.type !== 'x25519') throw new SealwireError('BAD_KEY', 'box packet mode: the server key must be an X25519 key');
    const seed = rng(32);
    const ephemeral = x25519KeyPairFromSeed(seed);
    wipe(seed);
    this.ephemeralPublic = ephemeral.publicKey;
    this.keys = boxKeys('client', ephemeral.publicKey, ephemeral.secretKey, server.bytes);
    wipe(ephemeral.secretKey);
  }

  /** A Request packet for `message`; returns it with its sequence number. */
  request(message: Uint8Array): { seq: bigint; packet: Buffer } {
    const keys = this.live();
    if (message.length > MAX_PACKET_MESSAGE) throw new SealwireError('TOO_LARGE', `packet message of ${message.length} bytes; the limit is ${MAX_PACKET_MESSAGE}`);
    const seq = this.seq++;
    const sealed = secretboxSeal(message, counterNonce(PacketType.REQUEST, Direction.CLIENT_TO_SERVER, seq), keys.send);
    const packet = Buffer.allocUnsafe(1 + X25519_KEY_SIZE + 8 + sealed.length);
    packet[0] = PacketType.REQUEST;
    this.ephemeralPublic.copy(packet, 1);
    packet.writeBigUInt64BE(seq, 1 + X25519_KEY_SIZE);
    sealed.copy(packet, 1 + X25519_KEY_SIZE + 8);
    return { seq, packet };
  }

  /** Opens a Reply: the request's seq and the message, or null (forged, replayed, not ours). */
  open(packet: Uint8Array): { seq: bigint; message: Uint8Array } | null {
    const keys = this.live();
    if (packet.length < REPLY_OVERHEAD || packet[0] !== PacketType.REPLY) return null;
    const nonce = randomNonce(PacketType.REPLY, Direction.SERVER_TO_CLIENT, packet.subarray(1, 1 + RANDOM_NONCE_SIZE));
    const plain = secretboxOpen(packet.subarray(1 + RANDOM_NONCE_SIZE), nonce, keys.receive);
    if (!plain) return null;
    const seq = plain.readBigUInt64BE(0);
    if (seq >= this.seq || !this.window.accept(seq)) return null;
    return { seq, message: plain.subarray(8) };
  }

  wipe(): void {
    if (this.keys) wipe(this.keys.send, this.keys.receive);
    this.keys = null;
  }

  private live(): DirectionKeys {
    if (!this.keys) throw new SealwireError('CLOSED', 'box packet client is wiped');
    return this.keys;
  }
}

/** One authenticated request, and how to answer it. */
export interface PacketRequest {
  /** The client's ephemeral key: the only identity packet mode has. */
  readonly clientEphemeral: Uint8Array;
  readonly seq: bigint;
  readonly message: Uint8Array;
  /** The Reply packet for `message`. Throws `TOO_LARGE` if it would be larger than the request. */
  reply(message: Uint8Array): Buffer;
}

/** The server side: stateless; each request is opened and answered on its own. */
export class BoxPacketServer {
  constructor(
    private readonly key: KeyPair,
    private readonly rng: Rng,
  ) {
    if (key.type !== 'x25519') throw new SealwireError('BAD_KEY', 'box packet mode: the server needs an X25519 key pair');
  }

  /** Opens a Request packet; null for anything that is not one or does not authenticate. */
  open(packet: Uint8Array): PacketRequest | null {
    if (packet.length < REQUEST_OVERHEAD || packet.length > REQUEST_OVERHEAD + MAX_PACKET_MESSAGE || packet[0] !== PacketType.REQUEST) return null;
    const view = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const ec = Buffer.from(view.subarray(1, 1 + X25519_KEY_SIZE));
    const seq = view.readBigUInt64BE(1 + X25519_KEY_SIZE);
    let keys: DirectionKeys;
    try {
      keys = boxKeys('server', this.key.publicKey.bytes, this.key.secretKey, ec);
    } catch {
      return null; // a low-order EC
    }
    const message = secretboxOpen(view.subarray(1 + X25519_KEY_SIZE + 8), counterNonce(PacketType.REQUEST, Direction.CLIENT_TO_SERVER, seq), keys.receive);
    wipe(keys.receive);
    if (!message) {
      wipe(keys.send);
      return null;
    }
    const budget = packet.length;
    const rng = this.rng;
    return {
      clientEphemeral: ec,
      seq,
      message,
      reply(answer: Uint8Array): Buffer {
        const size = REPLY_OVERHEAD + answer.length;
        if (size > budget) throw new SealwireError('TOO_LARGE', `a reply of ${size} bytes to a request of ${budget}: never answer with more than arrived`);
        const plain = Buffer.allocUnsafe(8 + answer.length);
        plain.writeBigUInt64BE(seq, 0);
        plain.set(answer, 8);
        const rnonce = rng(RANDOM_NONCE_SIZE);
        const sealed = secretboxSeal(plain, randomNonce(PacketType.REPLY, Direction.SERVER_TO_CLIENT, rnonce), keys.send);
        return Buffer.concat([Buffer.of(PacketType.REPLY), rnonce, sealed]);
      },
    };
  }
}
