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
import { SealwireError } from '../../errors.js';
import { hmacSha256 } from '../../crypto/hmac.js';
import { oaepEncrypt } from '../../crypto/rsa.js';
import { equalConstantTime, wipe } from '../../crypto/secrets.js';
import type { PublicKey } from '../../keys/key.js';
import type { ClientConfig, Handshake, HandshakeMessage, HandshakeStep } from '../../session/handshake.js';
import { expectMessage, handshakeError, serverKeyFromReply } from '../common.js';
import { AES_KEY_SIZE, KEY_EXCHANGE_LABEL, MessageType, parseConfirm } from './messages.js';
import { SecsessRecordCipher, deriveSecsessKeys } from './records.js';

type State =
  | { readonly name: 'start' }
  | { readonly name: 'awaitKeyReply' }
  | { readonly name: 'awaitConfirm'; readonly server: PublicKey; readonly secret: Buffer }
  | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  start: 'nothing (not started)',
  awaitKeyReply: "the server's key (KeyReply)",
  awaitConfirm: "the server's Confirm (if the server closed the connection, check that the pinned server key is this server's)",
  done: 'nothing (established)',
};

const SUITE = 'secsess';
const KNOWN = Object.values(MessageType) as number[];
const hsFail = (msg: string): SealwireError => handshakeError(SUITE, msg);

export class SecsessClientHandshake implements Handshake {
  readonly role = 'client';
  private state: State = { name: 'start' };

  constructor(private readonly config: ClientConfig) {
    if (config.server.kind === 'pinned' && config.server.key.type !== 'rsa') {
      throw new SealwireError('BAD_KEY', 'secsess: the server key must be an RSA key');
    }
  }

  get awaiting(): string {
    return AWAITING[this.state.name];
  }

  start(): HandshakeStep {
    if (this.state.name !== 'start') throw hsFail('start() called twice');
    if (this.config.server.kind === 'pinned') return { send: [this.keyExchange(this.config.server.key)] };
    this.state = { name: 'awaitKeyReply' };
    return { send: [{ type: MessageType.KEY_QUERY, payload: new Uint8Array(0) }] };
  }

  receive(m: HandshakeMessage): HandshakeStep {
    const s = this.state;
    switch (s.name) {
      case 'awaitKeyReply': {
        const server = serverKeyFromReply(SUITE, m, MessageType.KEY_REPLY, KNOWN, this.config.server);
        return { send: [this.keyExchange(server)] };
      }
      case 'awaitConfirm':
        expectMessage(SUITE, m, MessageType.CONFIRM, 'Confirm', KNOWN);
        return this.onConfirm(m, s);
      case 'start':
      case 'done':
        throw hsFail(`unexpected message 0x${m.type.toString(16)} (${this.awaiting})`);
    }
  }

  wipe(): void {
    if (this.state.name === 'awaitConfirm') wipe(this.state.secret);
    this.state = { name: 'done' };
  }

  /** KeyExchange: RSA-OAEP(S_pub, AES_KEY ‖ HMAC_KEY). */
  private keyExchange(server: PublicKey): HandshakeMessage {
    const secret = this.config.rng(AES_KEY_SIZE * 2);
    const payload = oaepEncrypt(server.keyObject, secret, KEY_EXCHANGE_LABEL);
    this.state = { name: 'awaitConfirm', server, secret };
    return { type: MessageType.KEY_EXCHANGE, payload };
  }

  private onConfirm(m: HandshakeMessage, s: Extract<State, { name: 'awaitConfirm' }>): HandshakeStep {
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
      throw hsFail('the Confirm does not verify: the server could not decrypt the KeyExchange (wrong server key pinned?) or the message was altered');
    }
    this.state = { name: 'done' };
    return { send: [], established: { send, receive, peerPublicKey: s.server } };
  }
}
