/**
 * The `sid` server handshake (seed 000, server column), as a tagged union of states.
 *
 *   awaitClientHello → (0x00, authorized) → awaitIdentity → (0x02 opened, same key, same cid)
 *     → awaitConfirm → (0x04 opens, sid matches) → established
 *
 * The server checks the client's key against its policy as soon as the 0x00 names it, before it
 * answers and before any RSA private-key operation: an unauthorized client costs it no
 * decryption. The client proves it holds the private key by opening the 0x03 and answering with a
 * 0x04 under the client→server key derived from the AES_key inside and the transcript hash. The
 * 0x03 names S_pub and C_pub (the binding), so a client relayed to this server by another one
 * refuses it. Over TCP a failure closes the connection; a datagram transport may answer with the
 * content-free Reject (0x05).
 */
import { sha256 } from '../../crypto/hash.js';
import { openHybrid, sealHybrid } from '../../crypto/rsa.js';
import { equalConstantTime, wipe } from '../../crypto/secrets.js';
import type { PublicKey } from '../../keys/key.js';
import type { HandshakeMessage, HandshakeStep, ServerConfig } from '../../session/handshake.js';
import { peerRsaKey } from '../common.js';
import { RsaServerHandshake } from '../rsa-handshake.js';
import {
  AES_KEY_SIZE,
  AesAlgo,
  CLIENT_IDENTITY_CONTEXT,
  Direction,
  MessageType,
  SESSION_OFFER_CONTEXT,
  SID_SIZE,
  verifyConfirm,
  encodeOfferPlain,
  offerBinding,
  parseIdentityPlain,
} from './messages.js';
import { SidRecordCipher, deriveSidKeys } from './records.js';

type State =
  | { readonly name: 'awaitClientHello' }
  | { readonly name: 'awaitIdentity'; readonly client: PublicKey }
  | { readonly name: 'awaitConfirm'; readonly client: PublicKey; readonly cid: Buffer; readonly sid: Buffer; readonly c2s: Buffer; readonly s2c: Buffer }
  | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  awaitClientHello: "the client's key (0x00)",
  awaitIdentity: "the client's cid and key sealed to this server (0x02)",
  awaitConfirm: "the client's confirmation (0x04) (a client that cannot send it does not hold the private key it named)",
  done: 'nothing (established)',
};

export class SidServerHandshake extends RsaServerHandshake<State> {
  constructor(config: ServerConfig) {
    super('sid', AWAITING, Object.values(MessageType), { name: 'awaitClientHello' }, config);
  }

  receive(m: HandshakeMessage): HandshakeStep {
    const s = this.state;
    switch (s.name) {
      case 'awaitClientHello': {
        this.expect(m, MessageType.CLIENT_HELLO, 'ClientHello');
        // The seed: "if the bytes are not a well-formatted RSA public key, echo back with error".
        const client = peerRsaKey(this.suite, m.payload, 'client');
        this.authorize(client);
        this.state = { name: 'awaitIdentity', client };
        return { send: [{ type: MessageType.SERVER_HELLO, payload: this.config.key.publicKey.bytes }] };
      }
      case 'awaitIdentity':
        this.expect(m, MessageType.CLIENT_IDENTITY, 'ClientIdentity');
        return this.onIdentity(m, s);
      case 'awaitConfirm':
        this.expect(m, MessageType.CONFIRM, 'Confirm');
        return this.onConfirm(m, s);
      case 'done':
        throw this.unexpected(m);
    }
  }

  wipe(): void {
    if (this.state.name === 'awaitConfirm') wipe(this.state.c2s, this.state.s2c);
    this.state = { name: 'done' };
  }

  private onIdentity(m: HandshakeMessage, s: Extract<State, { name: 'awaitIdentity' }>): HandshakeStep {
    // (The state changes only once the 0x02 checks out: over UDP a forged 0x02 is dropped and the
    // real one must still find the handshake waiting.)
    const plain = openHybrid(this.privateKey, m.payload, CLIENT_IDENTITY_CONTEXT);
    if (!plain) throw this.fail(`the ClientIdentity (${m.payload.length} bytes) does not open with this server's key`);
    const identity = parseIdentityPlain(plain);
    if (!s.client.bytes.equals(identity.clientKey)) throw this.fail('the ClientIdentity names another key than the ClientHello');
    if (this.config.connectionId && !equalConstantTime(identity.cid, this.config.connectionId)) {
      throw this.fail('the ClientIdentity seals another cid than its datagrams carry (a handshake copied under another connection id)');
    }
    const serverKey = this.config.key.publicKey.bytes;
    const cid = Buffer.from(identity.cid);
    const sid = this.config.rng(SID_SIZE);
    const key = this.config.rng(AES_KEY_SIZE);
    const binding = offerBinding(serverKey, s.client.bytes, cid, identity.challenge);
    const offer = encodeOfferPlain({ cid, challenge: identity.challenge, sid, key, algo: AesAlgo.AES_128_GCM, binding });
    wipe(plain);
    const payload = sealHybrid(s.client.keyObject, offer, SESSION_OFFER_CONTEXT, this.config.rng);
    wipe(offer);
    const th = sha256(s.client.bytes, serverKey, m.payload, payload);
    const { c2s, s2c } = deriveSidKeys(key, th);
    wipe(key);
    this.state = { name: 'awaitConfirm', client: s.client, cid, sid, c2s, s2c };
    return { send: [{ type: MessageType.SESSION_OFFER, payload }] };
  }

  private onConfirm(m: HandshakeMessage, s: Extract<State, { name: 'awaitConfirm' }>): HandshakeStep {
    if (!verifyConfirm(s.c2s, m.payload, s.cid, s.sid)) {
      throw this.fail(
        `the Confirm (${m.payload.length} bytes) does not open under the session key: the client does not hold the private key of ${s.client.fingerprint}, or the handshake was relayed or altered`,
      );
    }
    this.state = { name: 'done' };
    const send = new SidRecordCipher({ key: s.s2c, cid: s.cid, sid: s.sid, direction: Direction.SERVER_TO_CLIENT });
    const receive = new SidRecordCipher({ key: s.c2s, cid: s.cid, sid: s.sid, direction: Direction.CLIENT_TO_SERVER });
    return { send: [], established: { send, receive, peerPublicKey: s.client } };
  }
}
