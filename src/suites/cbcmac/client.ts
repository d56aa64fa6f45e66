/**
 * The `cbcmac` client handshake (seed 004, client column), as a tagged union of states.
 *
 *   awaitServerKey → (long-term key checked, per-session key's signature verified) → awaitFinished
 *     → (Finished opens) → established
 *
 * The seed's client trusts whatever public key the server sends; here the server's per-session
 * key must carry a signature, by the long-term key the client pins, over the client's random
 * and that key (the seed's own "certificates and digital signatures" future work), so it cannot
 * be swapped or replayed from another session. The client stays anonymous.
 */
import { sha256 } from '../../crypto/hash.js';
import { oaepEncrypt, pssVerify } from '../../crypto/rsa.js';
import { wipe } from '../../crypto/secrets.js';
import type { PublicKey } from '../../keys/key.js';
import type { ClientConfig, HandshakeMessage, HandshakeStep } from '../../session/handshake.js';
import { checkServerKey, peerRsaKey } from '../common.js';
import { RsaClientHandshake } from '../rsa-handshake.js';
import { CLIENT_RANDOM_SIZE, KEY_EXCHANGE_LABEL, MessageType, SECRET_SIZE, parseServerKey, signedServerKey } from './messages.js';
import { CbcmacRecordCipher, deriveCbcmacKeys } from './records.js';

type State =
  | { readonly name: 'start' }
  | { readonly name: 'awaitServerKey'; readonly hello: Buffer }
  | { readonly name: 'awaitFinished'; readonly server: PublicKey; readonly send: CbcmacRecordCipher; readonly receive: CbcmacRecordCipher }
  | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  start: 'nothing (not started)',
  awaitServerKey: "the server's keys (ServerKey)",
  awaitFinished: "the server's Finished",
  done: 'nothing (established)',
};

const EMPTY = new Uint8Array(0);

export class CbcmacClientHandshake extends RsaClientHandshake<State> {
  constructor(config: ClientConfig) {
    super('cbcmac', AWAITING, Object.values(MessageType), { name: 'start' }, config, 'none');
  }

  start(): HandshakeStep {
    this.beginOnce('start');
    const hello = this.config.rng(CLIENT_RANDOM_SIZE);
    this.state = { name: 'awaitServerKey', hello };
    return { send: [{ type: MessageType.CLIENT_HELLO, payload: hello }] };
  }

  receive(m: HandshakeMessage): HandshakeStep {
    const s = this.state;
    switch (s.name) {
      case 'awaitServerKey':
        this.expect(m, MessageType.SERVER_KEY, 'ServerKey');
        return this.onServerKey(m, s.hello);
      case 'awaitFinished': {
        this.expect(m, MessageType.FINISHED, 'Finished');
        const plain = s.receive.open(MessageType.FINISHED, 0n, EMPTY, m.payload);
        if (!plain || plain.length !== 0) throw this.fail('the Finished does not open: the server could not decrypt our KeyExchange');
        this.state = { name: 'done' };
        return { send: [], established: { send: s.send, receive: s.receive, peerPublicKey: s.server } };
      }
      case 'start':
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

  private onServerKey(m: HandshakeMessage, hello: Buffer): HandshakeStep {
    this.state = { name: 'done' };
    const msg = parseServerKey(m.payload);
    const server = peerRsaKey(this.suite, msg.serverKey, 'server');
    checkServerKey(this.suite, this.config.server, server);
    const session = peerRsaKey(this.suite, msg.sessionKey, 'per-session');
    if (!pssVerify(server.keyObject, signedServerKey(hello, msg.sessionKey), msg.signature)) {
      throw this.fail(`the per-session key is not signed by the server key ${server.fingerprint}`);
    }
    const secret = this.config.rng(SECRET_SIZE);
    const block = oaepEncrypt(session.keyObject, secret, KEY_EXCHANGE_LABEL);
    const keys = deriveCbcmacKeys(secret, sha256(hello, m.payload, block));
    wipe(secret);
    const send = new CbcmacRecordCipher(keys.c2s, this.config.rng);
    const receive = new CbcmacRecordCipher(keys.s2c, this.config.rng);
    // The seed's first flight: RSA(AES-key ‖ MAC-key), IV, MAC, message (empty: data follows as records).
    const payload = Buffer.concat(send.seal(MessageType.KEY_EXCHANGE, 0n, block, EMPTY));
    this.state = { name: 'awaitFinished', server, send, receive };
    return { send: [{ type: MessageType.KEY_EXCHANGE, payload }] };
  }
}
