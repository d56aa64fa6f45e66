/**
 * The `secsess` server handshake (seed 001, server column), as a tagged union of states.
 *
 *   awaitKeyExchange → (KeyExchange decrypted) → established, Confirm sent
 *
 * A KeyQuery is answered once, before the KeyExchange, for clients that learn the server's key.
 * The server adds a random of its own to the key derivation, so a recorded KeyExchange replayed
 * to it gives a session under new keys in which the recorded records do not open. Any failure
 * (a ciphertext of the wrong size, one that does not decrypt, a wrong plaintext length) is the
 * same `HANDSHAKE_FAILED` and the connection closes: the peer learns nothing about why.
 */
import { hmacSha256 } from '../../crypto/hmac.js';
import { oaepDecrypt } from '../../crypto/rsa.js';
import { wipe } from '../../crypto/secrets.js';
import type { HandshakeMessage, HandshakeStep, ServerConfig } from '../../session/handshake.js';
import { RsaServerHandshake, type KeyQueryTypes } from '../rsa-handshake.js';
import { AES_KEY_SIZE, KEY_EXCHANGE_LABEL, KEY_EXCHANGE_PLAIN_SIZE, MessageType, SERVER_RANDOM_SIZE } from './messages.js';
import { SecsessRecordCipher, deriveSecsessKeys } from './records.js';

type State = { readonly name: 'awaitKeyExchange' } | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  awaitKeyExchange: "the client's KeyExchange",
  done: 'nothing (established)',
};

const KEY_QUERY: KeyQueryTypes = { query: MessageType.KEY_QUERY, reply: MessageType.KEY_REPLY };

export class SecsessServerHandshake extends RsaServerHandshake<State> {
  constructor(config: ServerConfig) {
    super('secsess', AWAITING, Object.values(MessageType), { name: 'awaitKeyExchange' }, config);
  }

  receive(m: HandshakeMessage): HandshakeStep {
    if (this.state.name === 'done') throw this.unexpected(m);
    return this.answerKeyQuery(KEY_QUERY, m) ?? this.onKeyExchange(m);
  }

  wipe(): void {
    this.state = { name: 'done' };
  }

  private onKeyExchange(m: HandshakeMessage): HandshakeStep {
    this.expect(m, MessageType.KEY_EXCHANGE, 'KeyExchange');
    this.state = { name: 'done' };
    const secret = oaepDecrypt(this.privateKey, m.payload, KEY_EXCHANGE_LABEL);
    if (!secret || secret.length !== KEY_EXCHANGE_PLAIN_SIZE) {
      wipe(secret);
      throw this.fail(`the KeyExchange (${m.payload.length} bytes) does not decrypt with this server's key: the client sealed it to another key, or it was altered`);
    }
    const aesKey = secret.subarray(0, AES_KEY_SIZE);
    const hmacKey = secret.subarray(AES_KEY_SIZE);
    const serverRandom = this.config.rng(SERVER_RANDOM_SIZE);
    const keys = deriveSecsessKeys(aesKey, hmacKey, serverRandom);
    const value = hmacSha256(hmacKey, aesKey, hmacKey, serverRandom);
    wipe(secret);
    const send = new SecsessRecordCipher(keys.s2c, this.config.rng);
    const receive = new SecsessRecordCipher(keys.c2s, this.config.rng);
    const confirm = Buffer.concat(send.seal(MessageType.CONFIRM, 0n, serverRandom, value));
    return {
      send: [{ type: MessageType.CONFIRM, payload: confirm }],
      established: { send, receive, peerPublicKey: null },
    };
  }
}
