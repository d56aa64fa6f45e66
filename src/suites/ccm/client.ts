/**
 * The `ccm` client handshake (seed 002, client column), as a tagged union of states.
 *
 *   [awaitKeyReply →] awaitServerKeyExchange → (secret returned, Finished sent) → established
 *
 * As in the seed, the client seals a fresh secret to the server's key and the server seals it
 * back to the client's key; the client compares (in constant time). The server adds a nonce of
 * its own to what it seals back, and both go into the session keys: only the holder of the
 * client's private key learns that nonce, so only the real client can finish the handshake and
 * talk (the seed let anyone claim any client key). The hash of the client key inside the
 * server-bound RSA block stops a man in the middle from swapping the client key in transit.
 */
import { sha256 } from '../../crypto/hash.js';
import { oaepDecrypt, oaepEncrypt } from '../../crypto/rsa.js';
import { equalConstantTime, wipe } from '../../crypto/secrets.js';
import type { PublicKey } from '../../keys/key.js';
import type { ClientConfig, HandshakeMessage, HandshakeStep } from '../../session/handshake.js';
import { KeyQueryClientHandshake, type KeyQueryFlow, type KeyQueryOpening } from '../rsa-handshake.js';
import {
  CLIENT_KEY_EXCHANGE_LABEL,
  MessageType,
  SECRET_SIZE,
  SERVER_BLOCK_PLAIN_SIZE,
  SERVER_KEY_EXCHANGE_LABEL,
  encodeClientKeyExchange,
} from './messages.js';
import { CcmRecordCipher, deriveCcmKeys } from './records.js';

type State = { readonly name: 'awaitServerKeyExchange'; readonly server: PublicKey; readonly secret: Buffer; readonly first: Buffer };

const AWAITING: Record<(State | KeyQueryOpening)['name'], string> = {
  start: 'nothing (not started)',
  awaitKeyReply: "the server's key (KeyReply)",
  awaitServerKeyExchange:
    "the server's ServerKeyExchange (if the server closed the connection: is this client's key in the server's authorized keys, and is the pinned server key this server's?)",
  done: 'nothing (established)',
};

const FLOW: KeyQueryFlow = {
  query: MessageType.KEY_QUERY,
  reply: MessageType.KEY_REPLY,
  answer: MessageType.SERVER_KEY_EXCHANGE,
  answerName: 'ServerKeyExchange',
};

export class CcmClientHandshake extends KeyQueryClientHandshake<State> {
  constructor(config: ClientConfig) {
    super('ccm', AWAITING, Object.values(MessageType), config, 'required', FLOW);
  }

  wipe(): void {
    if (this.state.name === 'awaitServerKeyExchange') wipe(this.state.secret);
    this.state = { name: 'done' };
  }

  /** ClientKeyExchange: C_pub ‖ RSA-OAEP(S_pub, secret ‖ SHA-256(C_pub)). */
  protected firstFlight(server: PublicKey): HandshakeMessage {
    const secret = this.config.rng(SECRET_SIZE);
    const clientKey = this.ownKey.publicKey.bytes;
    const block = Buffer.concat([secret, sha256(clientKey)]);
    const sealed = oaepEncrypt(server.keyObject, block, CLIENT_KEY_EXCHANGE_LABEL);
    wipe(block);
    const payload = encodeClientKeyExchange({ clientKey, sealed });
    this.state = { name: 'awaitServerKeyExchange', server, secret, first: payload };
    return { type: MessageType.CLIENT_KEY_EXCHANGE, payload };
  }

  protected onAnswer(m: HandshakeMessage, s: State): HandshakeStep {
    this.state = { name: 'done' };
    const plain = oaepDecrypt(this.ownKey.privateKey, m.payload, SERVER_KEY_EXCHANGE_LABEL);
    try {
      if (!plain || plain.length !== SERVER_BLOCK_PLAIN_SIZE) {
        throw this.fail(`the ServerKeyExchange (${m.payload.length} bytes) does not decrypt with this client's key`);
      }
      // The seed's step 7: the secret must come back unchanged, which only the server can do.
      if (!equalConstantTime(plain.subarray(0, SECRET_SIZE), s.secret)) {
        throw this.fail('the server did not return our secret: it could not decrypt it (check that the pinned server key is this server\'s)');
      }
      const th = sha256(s.first, m.payload);
      const keys = deriveCcmKeys(s.secret, plain.subarray(SECRET_SIZE), th);
      const send = new CcmRecordCipher(keys.c2s, this.config.rng);
      const receive = new CcmRecordCipher(keys.s2c, this.config.rng);
      const finished = Buffer.concat(send.seal(MessageType.CLIENT_FINISHED, 0n, new Uint8Array(0), th));
      return {
        send: [{ type: MessageType.CLIENT_FINISHED, payload: finished }],
        established: { send, receive, peerPublicKey: s.server },
      };
    } finally {
      wipe(plain, s.secret);
    }
  }
}
