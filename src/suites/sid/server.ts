/**
 * The `sid` server handshake (seed 000, server column), as a tagged union of states.
 *
 *   awaitClientHello → (0x00) → awaitIdentity → (0x02 opened, same key, authorized)
 *     → awaitConfirm → (0x04 opens, sid matches) → established
 *
 * The server checks the client's key against `authorize` once the 0x02 names it (before it
 * seals a session key to it); the client proves it holds the private key by opening the 0x03 and
 * answering with a 0x04 under the AES_key inside. Over TCP a failure closes the connection; a
 * datagram transport may answer with the content-free Reject (0x05).
 */
import { SealwireError } from '../../errors.js';
import { gcmOpen, GCM_TAG_SIZE } from '../../crypto/aead.js';
import { openHybrid, sealHybrid } from '../../crypto/rsa.js';
import { equalConstantTime, wipe } from '../../crypto/secrets.js';
import type { KeyObject } from 'node:crypto';
import type { PublicKey } from '../../keys/key.js';
import type { Handshake, HandshakeMessage, HandshakeStep, ServerConfig } from '../../session/handshake.js';
import { checkAuthorized, expectMessage, handshakeError, peerRsaKey, rsaPrivate } from '../common.js';
import {
  AES_KEY_SIZE,
  AesAlgo,
  CID_SIZE,
  CLIENT_IDENTITY_CONTEXT,
  CONFIRM_OK,
  Direction,
  MessageType,
  SESSION_OFFER_CONTEXT,
  SID_SIZE,
  encodeOfferPlain,
  parseIdentityPlain,
  sidNonce,
} from './messages.js';
import { SidRecordCipher } from './records.js';

type State =
  | { readonly name: 'awaitClientHello' }
  | { readonly name: 'awaitIdentity'; readonly client: PublicKey }
  | { readonly name: 'awaitConfirm'; readonly client: PublicKey; readonly cid: Buffer; readonly sid: Buffer; readonly key: Buffer }
  | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  awaitClientHello: "the client's key (0x00)",
  awaitIdentity: "the client's cid and key sealed to this server (0x02)",
  awaitConfirm: "the client's confirmation (0x04) (a client that cannot send it does not hold the private key it named)",
  done: 'nothing (established)',
};

const SUITE = 'sid';
const KNOWN = Object.values(MessageType) as number[];
const hsFail = (msg: string): SealwireError => handshakeError(SUITE, msg);
const CONFIRM_SIZE = CID_SIZE + SID_SIZE + CONFIRM_OK.length + GCM_TAG_SIZE;

export class SidServerHandshake implements Handshake {
  readonly role = 'server';
  private state: State = { name: 'awaitClientHello' };
  private readonly privateKey: KeyObject;

  constructor(private readonly config: ServerConfig) {
    this.privateKey = rsaPrivate(SUITE, config.key, 'server');
  }

  get awaiting(): string {
    return AWAITING[this.state.name];
  }

  start(): HandshakeStep {
    return { send: [] };
  }

  receive(m: HandshakeMessage): HandshakeStep {
    const s = this.state;
    switch (s.name) {
      case 'awaitClientHello': {
        expectMessage(SUITE, m, MessageType.CLIENT_HELLO, 'ClientHello', KNOWN);
        // The seed: "if the bytes are not a well-formatted RSA public key, echo back with error".
        const client = peerRsaKey(SUITE, m.payload, 'client');
        this.state = { name: 'awaitIdentity', client };
        return { send: [{ type: MessageType.SERVER_HELLO, payload: this.config.key.publicKey.bytes }] };
      }
      case 'awaitIdentity':
        expectMessage(SUITE, m, MessageType.CLIENT_IDENTITY, 'ClientIdentity', KNOWN);
        return this.onIdentity(m, s);
      case 'awaitConfirm':
        expectMessage(SUITE, m, MessageType.CONFIRM, 'Confirm', KNOWN);
        return this.onConfirm(m, s);
      case 'done':
        throw hsFail(`unexpected message 0x${m.type.toString(16)} after the handshake`);
    }
  }

  wipe(): void {
    if (this.state.name === 'awaitConfirm') wipe(this.state.key);
    this.state = { name: 'done' };
  }

  private onIdentity(m: HandshakeMessage, s: Extract<State, { name: 'awaitIdentity' }>): HandshakeStep {
    // (The state changes only once the 0x02 checks out: over UDP a forged 0x02 is dropped and the
    // real one must still find the handshake waiting.)
    const plain = openHybrid(this.privateKey, m.payload, CLIENT_IDENTITY_CONTEXT);
    if (!plain) throw hsFail(`the ClientIdentity (${m.payload.length} bytes) does not open with this server's key`);
    const identity = parseIdentityPlain(plain);
    if (!s.client.bytes.equals(identity.clientKey)) throw hsFail('the ClientIdentity names another key than the ClientHello');
    if (this.config.connectionId && !equalConstantTime(identity.cid, this.config.connectionId)) {
      throw hsFail('the ClientIdentity seals another cid than its datagrams carry (a handshake copied under another connection id)');
    }
    checkAuthorized(SUITE, this.config.authorize, s.client);
    const cid = Buffer.from(identity.cid);
    const sid = this.config.rng(SID_SIZE);
    const key = this.config.rng(AES_KEY_SIZE);
    const offer = encodeOfferPlain({ cid, challenge: identity.challenge, sid, key, algo: AesAlgo.AES_128_GCM });
    const payload = sealHybrid(s.client.keyObject, offer, SESSION_OFFER_CONTEXT, this.config.rng);
    wipe(offer);
    this.state = { name: 'awaitConfirm', client: s.client, cid, sid, key };
    return { send: [{ type: MessageType.SESSION_OFFER, payload }] };
  }

  private onConfirm(m: HandshakeMessage, s: Extract<State, { name: 'awaitConfirm' }>): HandshakeStep {
    if (m.payload.length !== CONFIRM_SIZE) throw hsFail(`Confirm of ${m.payload.length} bytes, expected ${CONFIRM_SIZE}`);
    const cid = m.payload.subarray(0, CID_SIZE);
    if (!equalConstantTime(cid, s.cid)) throw hsFail('the Confirm names another cid');
    const aad = Buffer.concat([Buffer.of(MessageType.CONFIRM), cid]);
    const plain = gcmOpen(
      s.key,
      sidNonce(MessageType.CONFIRM, Direction.CLIENT_TO_SERVER, 0n),
      aad,
      m.payload.subarray(CID_SIZE, m.payload.length - GCM_TAG_SIZE),
      m.payload.subarray(m.payload.length - GCM_TAG_SIZE),
    );
    const expected = Buffer.concat([s.sid, CONFIRM_OK]);
    if (!plain || !equalConstantTime(plain, expected)) {
      throw hsFail(`the Confirm does not open under the session key: the client does not hold the private key of ${s.client.fingerprint}`);
    }
    this.state = { name: 'done' };
    const send = new SidRecordCipher({ key: Buffer.from(s.key), cid: s.cid, sid: s.sid, direction: Direction.SERVER_TO_CLIENT });
    const receive = new SidRecordCipher({ key: Buffer.from(s.key), cid: s.cid, sid: s.sid, direction: Direction.CLIENT_TO_SERVER });
    wipe(s.key);
    return { send: [], established: { send, receive, peerPublicKey: s.client } };
  }
}
