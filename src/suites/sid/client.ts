/**
 * The `sid` client handshake (seed 000, client column), as a tagged union of states.
 *
 *   awaitServerHello → (0x01, key checked) → awaitSessionOffer
 *     → (0x03 opened; cid, challenge and binding match) → established
 *
 * The client's random 16-byte challenge travels only inside the box sealed to the server's key
 * (0x02), so a SessionOffer that carries it back was made by the holder of the server's private
 * key. (The seed uses the cid for this; over UDP the cid is the connection id, visible in every
 * datagram, so it cannot be the secret.) The SessionOffer also carries SHA-256(S_pub ‖ C_pub ‖ cid
 * ‖ challenge) as the server computed it: a server the client trusts that relays the client's
 * handshake to another server gets back an offer naming that other server's key, which the client
 * refuses (unknown-key-share). The record keys come from the AES_key and the transcript hash, so
 * the two legs of such a relay could not share keys anyway. The client then confirms with 0x04 and
 * may send data at once; the server trusts the session when the 0x04 opens (only the holder of
 * the client's private key could read the AES_key in 0x03).
 */
import { sha256 } from '../../crypto/hash.js';
import { openHybrid, sealHybrid } from '../../crypto/rsa.js';
import { equalConstantTime, wipe } from '../../crypto/secrets.js';
import type { PublicKey } from '../../keys/key.js';
import type { ClientConfig, HandshakeMessage, HandshakeStep } from '../../session/handshake.js';
import { checkServerKey, peerRsaKey } from '../common.js';
import { RsaClientHandshake } from '../rsa-handshake.js';
import {
  CHALLENGE_SIZE,
  CID_SIZE,
  CLIENT_IDENTITY_CONTEXT,
  Direction,
  MessageType,
  SESSION_OFFER_CONTEXT,
  encodeConfirm,
  encodeIdentityPlain,
  offerBinding,
  parseOfferPlain,
} from './messages.js';
import { SidRecordCipher, deriveSidKeys } from './records.js';

type State =
  | { readonly name: 'start' }
  | { readonly name: 'awaitServerHello' }
  | {
      readonly name: 'awaitSessionOffer';
      readonly server: PublicKey;
      readonly cid: Buffer;
      readonly challenge: Buffer;
      /** payload 0x00 ‖ payload 0x01 ‖ payload 0x02, for the transcript hash. */
      readonly transcript: Buffer;
    }
  | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  start: 'nothing (not started)',
  awaitServerHello: "the server's key (0x01) (if the server closed the connection: is this client's key authorized there?)",
  awaitSessionOffer: "the server's session offer (0x03) (if the server closed the connection: is the pinned server key this server's?)",
  done: 'nothing (established)',
};

export class SidClientHandshake extends RsaClientHandshake<State> {
  constructor(config: ClientConfig) {
    super('sid', AWAITING, Object.values(MessageType), { name: 'start' }, config, 'required');
  }

  /** 0x00: the client's public key. */
  start(): HandshakeStep {
    this.beginOnce('start');
    this.state = { name: 'awaitServerHello' };
    return { send: [{ type: MessageType.CLIENT_HELLO, payload: this.ownKey.publicKey.bytes }] };
  }

  receive(m: HandshakeMessage): HandshakeStep {
    const s = this.state;
    if (m.type === MessageType.REJECT && (s.name === 'awaitServerHello' || s.name === 'awaitSessionOffer')) {
      // No state change: over UDP a Reject is an unauthenticated hint (the datagram session drops
      // it and keeps waiting); over a stream the thrown error ends the session anyway.
      throw this.fail('the server refused the handshake (0x05); it says no more: check its log (is this client key authorized there?)');
    }
    switch (s.name) {
      case 'awaitServerHello':
        this.expect(m, MessageType.SERVER_HELLO, 'ServerHello');
        return this.onServerHello(m);
      case 'awaitSessionOffer':
        this.expect(m, MessageType.SESSION_OFFER, 'SessionOffer');
        return this.onSessionOffer(m, s);
      case 'start':
      case 'done':
        throw this.unexpected(m);
    }
  }

  wipe(): void {
    this.state = { name: 'done' };
  }

  private onServerHello(m: HandshakeMessage): HandshakeStep {
    const server = peerRsaKey(this.suite, m.payload, 'server');
    checkServerKey(this.suite, this.config.server, server);
    // Over UDP the cid is the session's connection id, chosen before the 0x00 and carried in
    // every datagram (record/datagram.ts); sealed here, it binds that id to the handshake.
    const cid = this.config.connectionId ? Buffer.from(this.config.connectionId) : this.config.rng(CID_SIZE);
    // The challenge stays secret (inside the boxes only): the server's proof over UDP, where
    // the cid is visible in every datagram.
    const challenge = this.config.rng(CHALLENGE_SIZE);
    const own = this.ownKey.publicKey.bytes;
    const payload = sealHybrid(server.keyObject, encodeIdentityPlain(cid, challenge, own), CLIENT_IDENTITY_CONTEXT, this.config.rng);
    const transcript = Buffer.concat([own, m.payload, payload]);
    this.state = { name: 'awaitSessionOffer', server, cid, challenge, transcript };
    return { send: [{ type: MessageType.CLIENT_IDENTITY, payload }] };
  }

  private onSessionOffer(m: HandshakeMessage, s: Extract<State, { name: 'awaitSessionOffer' }>): HandshakeStep {
    // The state changes only once the 0x03 checks out: over UDP a forged 0x03 is dropped and the
    // real one must still find the handshake waiting.
    const plain = openHybrid(this.ownKey.privateKey, m.payload, SESSION_OFFER_CONTEXT);
    if (!plain) throw this.fail(`the SessionOffer (${m.payload.length} bytes) does not open with this client's key`);
    try {
      const offer = parseOfferPlain(plain);
      if (!equalConstantTime(offer.cid, s.cid) || !equalConstantTime(offer.challenge, s.challenge)) {
        throw this.fail('the SessionOffer does not carry our cid and challenge: it was not made by the holder of the server key');
      }
      const binding = offerBinding(s.server.bytes, this.ownKey.publicKey.bytes, s.cid, s.challenge);
      if (!equalConstantTime(offer.binding, binding)) {
        throw this.fail(
          `the SessionOffer was made for another server key than ${s.server.fingerprint}: the server we reached relayed our handshake to another server (refused)`,
        );
      }
      this.state = { name: 'done' };
      const keys = deriveSidKeys(offer.key, sha256(s.transcript, m.payload));
      const cid = Buffer.from(offer.cid);
      const sid = Buffer.from(offer.sid);
      const confirm = encodeConfirm(keys.c2s, cid, sid);
      const send = new SidRecordCipher({ key: keys.c2s, cid, sid, direction: Direction.CLIENT_TO_SERVER });
      const receive = new SidRecordCipher({ key: keys.s2c, cid, sid, direction: Direction.SERVER_TO_CLIENT });
      return {
        send: [{ type: MessageType.CONFIRM, payload: confirm }],
        established: { send, receive, peerPublicKey: s.server },
      };
    } finally {
      wipe(plain);
    }
  }
}
