/**
 * The `ccm` server handshake (seed 002, server column), as a tagged union of states.
 *
 *   awaitClientKeyExchange → (authorized, decrypted) → awaitFinished → (Finished opens) → established
 *
 * The client's key is checked against `authorize` as soon as it is named, before the server
 * spends an RSA operation on it; the client proves it holds the private key with its Finished,
 * which opens only under keys derived from the nonce the server sealed to that key. Every
 * failure ends the session with a `SealwireError`; the peer only sees the connection close.
 */
import { sha256 } from '../../crypto/hash.js';
import { oaepDecrypt, oaepEncrypt, rsaModulusBytes } from '../../crypto/rsa.js';
import { equalConstantTime, wipe } from '../../crypto/secrets.js';
import type { PublicKey } from '../../keys/key.js';
import type { HandshakeMessage, HandshakeStep, ServerConfig } from '../../session/handshake.js';
import { peerRsaKey } from '../common.js';
import { RsaServerHandshake, type KeyQueryTypes } from '../rsa-handshake.js';
import {
  CLIENT_BLOCK_PLAIN_SIZE,
  CLIENT_KEY_EXCHANGE_LABEL,
  MessageType,
  SECRET_SIZE,
  SERVER_KEY_EXCHANGE_LABEL,
  SERVER_NONCE_SIZE,
  parseClientKeyExchange,
} from './messages.js';
import { CcmRecordCipher, deriveCcmKeys } from './records.js';

type State =
  | { readonly name: 'awaitClientKeyExchange' }
  | { readonly name: 'awaitFinished'; readonly client: PublicKey; readonly th: Buffer; readonly send: CcmRecordCipher; readonly receive: CcmRecordCipher }
  | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  awaitClientKeyExchange: "the client's ClientKeyExchange",
  awaitFinished: "the client's Finished (a client that cannot send it does not hold the private key it named)",
  done: 'nothing (established)',
};

const KEY_QUERY: KeyQueryTypes = { query: MessageType.KEY_QUERY, reply: MessageType.KEY_REPLY };

export class CcmServerHandshake extends RsaServerHandshake<State> {
  constructor(config: ServerConfig) {
    super('ccm', AWAITING, Object.values(MessageType), { name: 'awaitClientKeyExchange' }, config);
  }

  receive(m: HandshakeMessage): HandshakeStep {
    const s = this.state;
    switch (s.name) {
      case 'awaitClientKeyExchange':
        return this.answerKeyQuery(KEY_QUERY, m) ?? this.onClientKeyExchange(m);
      case 'awaitFinished':
        this.expect(m, MessageType.CLIENT_FINISHED, 'ClientFinished');
        return this.onFinished(m, s);
      case 'done':
        throw this.unexpected(m);
    }
  }

  wipe(): void {
    const s = this.state;
    if (s.name === 'awaitFinished') {
      s.send.wipe();
      s.receive.wipe();
    }
    this.state = { name: 'done' };
  }

  private onClientKeyExchange(m: HandshakeMessage): HandshakeStep {
    this.expect(m, MessageType.CLIENT_KEY_EXCHANGE, 'ClientKeyExchange');
    this.state = { name: 'done' };
    const ckx = parseClientKeyExchange(m.payload, rsaModulusBytes(this.privateKey));
    const client = peerRsaKey(this.suite, ckx.clientKey, 'client');
    this.authorize(client);
    const plain = oaepDecrypt(this.privateKey, ckx.sealed, CLIENT_KEY_EXCHANGE_LABEL);
    try {
      if (!plain || plain.length !== CLIENT_BLOCK_PLAIN_SIZE || !equalConstantTime(plain.subarray(SECRET_SIZE), sha256(ckx.clientKey))) {
        throw this.fail(`the ClientKeyExchange (${ckx.sealed.length}-byte block) does not decrypt with this server's key, or names another client key`);
      }
      const secret = plain.subarray(0, SECRET_SIZE);
      const serverNonce = this.config.rng(SERVER_NONCE_SIZE);
      const block = Buffer.concat([secret, serverNonce]);
      const reply = oaepEncrypt(client.keyObject, block, SERVER_KEY_EXCHANGE_LABEL);
      wipe(block);
      const th = sha256(m.payload, reply);
      const keys = deriveCcmKeys(secret, serverNonce, th);
      wipe(serverNonce);
      this.state = {
        name: 'awaitFinished',
        client,
        th,
        send: new CcmRecordCipher(keys.s2c, this.config.rng),
        receive: new CcmRecordCipher(keys.c2s, this.config.rng),
      };
      return { send: [{ type: MessageType.SERVER_KEY_EXCHANGE, payload: reply }] };
    } finally {
      wipe(plain);
    }
  }

  private onFinished(m: HandshakeMessage, s: Extract<State, { name: 'awaitFinished' }>): HandshakeStep {
    const th = s.receive.open(MessageType.CLIENT_FINISHED, 0n, new Uint8Array(0), m.payload);
    if (!th || !equalConstantTime(th, s.th)) {
      throw this.fail(`the client's Finished does not open: the client does not hold the private key of ${s.client.fingerprint}, or the handshake was altered`);
    }
    this.state = { name: 'done' };
    return { send: [], established: { send: s.send, receive: s.receive, peerPublicKey: s.client } };
  }
}
