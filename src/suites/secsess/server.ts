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
import { SealwireError } from '../../errors.js';
import { hmacSha256 } from '../../crypto/hmac.js';
import { oaepDecrypt } from '../../crypto/rsa.js';
import { wipe } from '../../crypto/secrets.js';
import type { KeyObject } from 'node:crypto';
import type { Handshake, HandshakeMessage, HandshakeStep, ServerConfig } from '../../session/handshake.js';
import { checkKeyQuery, expectMessage, handshakeError, rsaPrivate } from '../common.js';
import { AES_KEY_SIZE, KEY_EXCHANGE_LABEL, KEY_EXCHANGE_PLAIN_SIZE, MessageType, SERVER_RANDOM_SIZE } from './messages.js';
import { SecsessRecordCipher, deriveSecsessKeys } from './records.js';

type State = { readonly name: 'awaitKeyExchange'; readonly keyQueried: boolean } | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  awaitKeyExchange: "the client's KeyExchange",
  done: 'nothing (established)',
};

const SUITE = 'secsess';
const KNOWN = Object.values(MessageType) as number[];
const hsFail = (msg: string): SealwireError => handshakeError(SUITE, msg);

export class SecsessServerHandshake implements Handshake {
  readonly role = 'server';
  private state: State = { name: 'awaitKeyExchange', keyQueried: false };
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
    if (s.name === 'done') throw hsFail(`unexpected message 0x${m.type.toString(16)} after the handshake`);
    if (m.type === MessageType.KEY_QUERY && !s.keyQueried) {
      checkKeyQuery(SUITE, m.payload);
      this.state = { name: 'awaitKeyExchange', keyQueried: true };
      return { send: [{ type: MessageType.KEY_REPLY, payload: this.config.key.publicKey.bytes }] };
    }
    expectMessage(SUITE, m, MessageType.KEY_EXCHANGE, 'KeyExchange', KNOWN);
    this.state = { name: 'done' };
    const secret = oaepDecrypt(this.privateKey, m.payload, KEY_EXCHANGE_LABEL);
    if (!secret || secret.length !== KEY_EXCHANGE_PLAIN_SIZE) {
      wipe(secret);
      throw hsFail(`the KeyExchange (${m.payload.length} bytes) does not decrypt with this server's key: the client sealed it to another key, or it was altered`);
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

  wipe(): void {
    this.state = { name: 'done' };
  }
}
