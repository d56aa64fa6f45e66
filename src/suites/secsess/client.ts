/**
 * The `secsess` client handshake (seed 001, client column), as a tagged union of states.
 *
 *   [awaitKeyReply →] awaitConfirm → (Confirm verified) → established
 *
 * The client generates AES_KEY and HMAC_KEY, seals them to the server's RSA key, and trusts the
 * session once the server proves it decrypted them: the Confirm record opens under keys only the
 * holder of the server's private key can derive, and carries HMAC(HMAC_KEY, AES_KEY ‖ HMAC_KEY ‖
 * server_random), compared in constant time. The client stays anonymous.
 */
import { hmacSha256 } from '../../crypto/hmac.js';
import { oaepEncrypt } from '../../crypto/rsa.js';
import { equalConstantTime, wipe } from '../../crypto/secrets.js';
import type { PublicKey } from '../../keys/key.js';
import type { ClientConfig, HandshakeMessage, HandshakeStep } from '../../session/handshake.js';
import { KeyQueryClientHandshake, type KeyQueryFlow, type KeyQueryOpening } from '../rsa-handshake.js';
import { AES_KEY_SIZE, KEY_EXCHANGE_LABEL, MessageType, parseConfirm } from './messages.js';
import { SecsessRecordCipher, deriveSecsessKeys } from './records.js';

type State = { readonly name: 'awaitConfirm'; readonly server: PublicKey; readonly secret: Buffer };

const AWAITING: Record<(State | KeyQueryOpening)['name'], string> = {
  start: 'nothing (not started)',
  awaitKeyReply: "the server's key (KeyReply)",
  awaitConfirm: "the server's Confirm (if the server closed the connection, check that the pinned server key is this server's)",
  done: 'nothing (established)',
};

const FLOW: KeyQueryFlow = {
  query: MessageType.KEY_QUERY,
  reply: MessageType.KEY_REPLY,
  answer: MessageType.CONFIRM,
  answerName: 'Confirm',
};

export class SecsessClientHandshake extends KeyQueryClientHandshake<State> {
  constructor(config: ClientConfig) {
    super('secsess', AWAITING, Object.values(MessageType), config, 'none', FLOW);
  }

  wipe(): void {
    if (this.state.name === 'awaitConfirm') wipe(this.state.secret);
    this.state = { name: 'done' };
  }

  /** KeyExchange: RSA-OAEP(S_pub, AES_KEY ‖ HMAC_KEY). */
  protected firstFlight(server: PublicKey): HandshakeMessage {
    const secret = this.config.rng(AES_KEY_SIZE * 2);
    const payload = oaepEncrypt(server.keyObject, secret, KEY_EXCHANGE_LABEL);
    this.state = { name: 'awaitConfirm', server, secret };
    return { type: MessageType.KEY_EXCHANGE, payload };
  }

  protected onAnswer(m: HandshakeMessage, s: State): HandshakeStep {
    const confirm = parseConfirm(m.payload);
    const aesKey = s.secret.subarray(0, AES_KEY_SIZE);
    const hmacKey = s.secret.subarray(AES_KEY_SIZE);
    const keys = deriveSecsessKeys(aesKey, hmacKey, confirm.serverRandom);
    const send = new SecsessRecordCipher(keys.c2s, this.config.rng);
    const receive = new SecsessRecordCipher(keys.s2c, this.config.rng);
    const value = receive.open(MessageType.CONFIRM, 0n, confirm.serverRandom, confirm.record);
    const expected = hmacSha256(hmacKey, aesKey, hmacKey, confirm.serverRandom);
    const ok = value !== null && equalConstantTime(value, expected);
    wipe(s.secret, expected);
    if (!ok) {
      send.wipe();
      receive.wipe();
      this.state = { name: 'done' };
      throw this.fail('the Confirm does not verify: the server could not decrypt the KeyExchange (wrong server key pinned?) or the message was altered');
    }
    this.state = { name: 'done' };
    return { send: [], established: { send, receive, peerPublicKey: s.server } };
  }
}
