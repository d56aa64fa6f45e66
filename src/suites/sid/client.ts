/**
 * The `sid` client handshake (seed 000, client column), as a tagged union of states.
 *
 *   awaitServerHello → (0x01, key checked) → awaitSessionOffer → (0x03 opened, cid and challenge match) → established
 *
 * The client's random 16-byte challenge travels only inside the box sealed to the server's key
 * (0x02), so a SessionOffer that carries it back was made by the holder of the server's private
 * key. (The seed uses the cid for this; over UDP the cid is the connection id, visible in every
 * datagram, so it cannot be the secret.) The client then confirms with 0x04 and may send data at once; the
 * server trusts the session when the 0x04 opens (only the holder of the client's private key
 * could read the AES_key in 0x03).
 */
import { SealwireError } from '../../errors.js';
import { gcmSeal } from '../../crypto/aead.js';
import { openHybrid, sealHybrid } from '../../crypto/rsa.js';
import { equalConstantTime, wipe } from '../../crypto/secrets.js';
import type { KeyPair, PublicKey } from '../../keys/key.js';
import type { ClientConfig, Handshake, HandshakeMessage, HandshakeStep } from '../../session/handshake.js';
import { checkServerKey, expectMessage, handshakeError, peerRsaKey, rsaPrivate } from '../common.js';
import {
  CHALLENGE_SIZE,
  CID_SIZE,
  CLIENT_IDENTITY_CONTEXT,
  CONFIRM_OK,
  Direction,
  MessageType,
  SESSION_OFFER_CONTEXT,
  encodeIdentityPlain,
  parseOfferPlain,
  sidNonce,
} from './messages.js';
import { SidRecordCipher } from './records.js';

type State =
  | { readonly name: 'start' }
  | { readonly name: 'awaitServerHello' }
  | { readonly name: 'awaitSessionOffer'; readonly server: PublicKey; readonly cid: Buffer; readonly challenge: Buffer }
  | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  start: 'nothing (not started)',
  awaitServerHello: "the server's key (0x01)",
  awaitSessionOffer:
    "the server's session offer (0x03) (if the server closed the connection: is this client's key authorized, and is the pinned server key this server's?)",
  done: 'nothing (established)',
};

const SUITE = 'sid';
const KNOWN = Object.values(MessageType) as number[];
const hsFail = (msg: string): SealwireError => handshakeError(SUITE, msg);

export class SidClientHandshake implements Handshake {
  readonly role = 'client';
  private state: State = { name: 'start' };
  private readonly key: KeyPair;

  constructor(private readonly config: ClientConfig) {
    if (!config.key) throw new SealwireError('BAD_KEY', 'sid: the client needs an RSA key pair');
    rsaPrivate(SUITE, config.key, 'client');
    if (config.server.kind === 'pinned' && config.server.key.type !== 'rsa') {
      throw new SealwireError('BAD_KEY', 'sid: the server key must be an RSA key');
    }
    this.key = config.key;
  }

  get awaiting(): string {
    return AWAITING[this.state.name];
  }

  /** 0x00: the client's public key. */
  start(): HandshakeStep {
    if (this.state.name !== 'start') throw hsFail('start() called twice');
    this.state = { name: 'awaitServerHello' };
    return { send: [{ type: MessageType.CLIENT_HELLO, payload: this.key.publicKey.bytes }] };
  }

  receive(m: HandshakeMessage): HandshakeStep {
    const s = this.state;
    if (m.type === MessageType.REJECT && (s.name === 'awaitServerHello' || s.name === 'awaitSessionOffer')) {
      // No state change: over UDP a Reject is an unauthenticated hint (the datagram session drops
      // it and keeps waiting); over a stream the thrown error ends the session anyway.
      throw hsFail('the server refused the handshake (0x05); it says no more: check its log');
    }
    switch (s.name) {
      case 'awaitServerHello': {
        expectMessage(SUITE, m, MessageType.SERVER_HELLO, 'ServerHello', KNOWN);
        const server = peerRsaKey(SUITE, m.payload, 'server');
        checkServerKey(SUITE, this.config.server, server);
        // Over UDP the cid is the session's connection id, chosen before the 0x00 and carried in
        // every datagram (record/datagram.ts); sealed here, it binds that id to the handshake.
        const cid = this.config.connectionId ? Buffer.from(this.config.connectionId) : this.config.rng(CID_SIZE);
        // The challenge stays secret (inside the boxes only): the server's proof over UDP, where
        // the cid is visible in every datagram.
        const challenge = this.config.rng(CHALLENGE_SIZE);
        const payload = sealHybrid(server.keyObject, encodeIdentityPlain(cid, challenge, this.key.publicKey.bytes), CLIENT_IDENTITY_CONTEXT, this.config.rng);
        this.state = { name: 'awaitSessionOffer', server, cid, challenge };
        return { send: [{ type: MessageType.CLIENT_IDENTITY, payload }] };
      }
      case 'awaitSessionOffer':
        expectMessage(SUITE, m, MessageType.SESSION_OFFER, 'SessionOffer', KNOWN);
        return this.onSessionOffer(m, s);
      case 'start':
      case 'done':
        throw hsFail(`unexpected message 0x${m.type.toString(16)} (${this.awaiting})`);
    }
  }

  wipe(): void {
    this.state = { name: 'done' };
  }

  private onSessionOffer(m: HandshakeMessage, s: Extract<State, { name: 'awaitSessionOffer' }>): HandshakeStep {
    // The state changes only once the 0x03 checks out: over UDP a forged 0x03 is dropped and the
    // real one must still find the handshake waiting.
    const plain = openHybrid(this.key.privateKey, m.payload, SESSION_OFFER_CONTEXT);
    if (!plain) throw hsFail(`the SessionOffer (${m.payload.length} bytes) does not open with this client's key`);
    try {
      const offer = parseOfferPlain(plain);
      if (!equalConstantTime(offer.cid, s.cid) || !equalConstantTime(offer.challenge, s.challenge)) {
        throw hsFail('the SessionOffer does not carry our cid and challenge: it was not made by the holder of the server key');
      }
      this.state = { name: 'done' };
      const cid = Buffer.from(offer.cid);
      const sid = Buffer.from(offer.sid);
      // 0x04: cid in clear, then sid ‖ "OK" under the session key (the seed's confirmation).
      const confirmPlain = Buffer.concat([sid, CONFIRM_OK]);
      const aad = Buffer.concat([Buffer.of(MessageType.CONFIRM), cid]);
      const { ciphertext, tag } = gcmSeal(offer.key, sidNonce(MessageType.CONFIRM, Direction.CLIENT_TO_SERVER, 0n), aad, confirmPlain);
      const send = new SidRecordCipher({ key: Buffer.from(offer.key), cid, sid, direction: Direction.CLIENT_TO_SERVER });
      const receive = new SidRecordCipher({ key: Buffer.from(offer.key), cid, sid, direction: Direction.SERVER_TO_CLIENT });
      return {
        send: [{ type: MessageType.CONFIRM, payload: Buffer.concat([cid, ciphertext, tag]) }],
        established: { send, receive, peerPublicKey: s.server },
      };
    } finally {
      wipe(plain);
    }
  }
}
