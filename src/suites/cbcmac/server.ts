/**
 * The `cbcmac` server handshake (seed 004, server column), as a tagged union of states.
 *
 *   awaitHello → (ServerKey sent) → awaitKeyExchange → (decrypted, MAC verified) → established
 *
 * Each handshake gets its own RSA key E from the server's pool (prepared by the transport before
 * the handshake exists, so no connection waits for key generation while the pool has keys). E's
 * private key is used for one decryption and then dropped from the state, and the pool never
 * hands it out again: once the session's record keys are gone, a recording of the session
 * cannot be decrypted, even with the server's long-term private key (forward secrecy).
 */
import { SealwireError } from '../../errors.js';
import { sha256 } from '../../crypto/hash.js';
import { oaepDecrypt, pssSign, rsaModulusBytes } from '../../crypto/rsa.js';
import { wipe } from '../../crypto/secrets.js';
import type { KeyPair } from '../../keys/key.js';
import type { SessionKeySource } from '../../keys/rsa-pool.js';
import type { HandshakeMessage, HandshakeStep, ServerConfig } from '../../session/handshake.js';
import { expectPayloadSize, rsaPrivate } from '../common.js';
import { RsaServerHandshake } from '../rsa-handshake.js';
import {
  CLIENT_RANDOM_SIZE,
  KEY_EXCHANGE_LABEL,
  MessageType,
  SECRET_SIZE,
  encodeServerKey,
  signedServerKey,
} from './messages.js';
import { CbcmacRecordCipher, deriveCbcmacKeys } from './records.js';

type State =
  | { readonly name: 'awaitHello'; readonly session: KeyPair }
  | { readonly name: 'awaitKeyExchange'; readonly session: KeyPair; readonly transcript: Buffer }
  | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  awaitHello: "the client's ClientHello",
  awaitKeyExchange: "the client's KeyExchange",
  done: 'nothing (established)',
};

const EMPTY = new Uint8Array(0);

/** The per-session key for a new handshake: the prepared one, or one the pool has ready. */
function sessionKeyFor(config: ServerConfig): KeyPair {
  if (config.session) return config.session as KeyPair;
  const pool = config.resources as SessionKeySource | undefined;
  const key = pool?.take();
  if (!key) throw new SealwireError('LIMIT', 'cbcmac: no per-session RSA key ready (the key pool is empty or missing)');
  return key;
}

export class CbcmacServerHandshake extends RsaServerHandshake<State> {
  constructor(config: ServerConfig) {
    const session = sessionKeyFor(config);
    rsaPrivate('cbcmac', session, 'per-session key');
    super('cbcmac', AWAITING, Object.values(MessageType), { name: 'awaitHello', session }, config);
  }

  receive(m: HandshakeMessage): HandshakeStep {
    const s = this.state;
    switch (s.name) {
      case 'awaitHello': {
        this.expect(m, MessageType.CLIENT_HELLO, 'ClientHello');
        expectPayloadSize(this.suite, m, CLIENT_RANDOM_SIZE, 'ClientHello');
        const sessionKey = s.session.publicKey.bytes;
        const signature = pssSign(this.privateKey, signedServerKey(m.payload, sessionKey));
        const payload = encodeServerKey({ serverKey: this.config.key.publicKey.bytes, sessionKey, signature });
        this.state = { name: 'awaitKeyExchange', session: s.session, transcript: Buffer.concat([m.payload, payload]) };
        return { send: [{ type: MessageType.SERVER_KEY, payload }] };
      }
      case 'awaitKeyExchange':
        this.expect(m, MessageType.KEY_EXCHANGE, 'KeyExchange');
        return this.onKeyExchange(m, s);
      case 'done':
        throw this.unexpected(m);
    }
  }

  /** Drops the per-session key: after this, nothing in the handshake can decrypt its KeyExchange. */
  wipe(): void {
    this.state = { name: 'done' };
  }

  private onKeyExchange(m: HandshakeMessage, s: Extract<State, { name: 'awaitKeyExchange' }>): HandshakeStep {
    // The per-session private key decrypts exactly one message, whatever happens next.
    this.state = { name: 'done' };
    const n = rsaModulusBytes(s.session.publicKey.keyObject);
    if (m.payload.length < n + 16 + 16 + 16) throw this.fail(`KeyExchange of ${m.payload.length} bytes is too short`);
    const block = m.payload.subarray(0, n);
    const secret = oaepDecrypt(s.session.privateKey, block, KEY_EXCHANGE_LABEL);
    if (!secret || secret.length !== SECRET_SIZE) {
      wipe(secret);
      throw this.fail('the KeyExchange does not decrypt with this session\'s key (altered, or made for another session)');
    }
    const keys = deriveCbcmacKeys(secret, sha256(s.transcript, block));
    wipe(secret);
    const send = new CbcmacRecordCipher(keys.s2c, this.config.rng);
    const receive = new CbcmacRecordCipher(keys.c2s, this.config.rng);
    const first = receive.open(MessageType.KEY_EXCHANGE, 0n, block, m.payload.subarray(n));
    if (!first) {
      send.wipe();
      receive.wipe();
      throw this.fail('the KeyExchange MAC does not verify');
    }
    const finished = Buffer.concat(send.seal(MessageType.FINISHED, 0n, EMPTY, EMPTY));
    return {
      send: [{ type: MessageType.FINISHED, payload: finished }],
      established: { send, receive, peerPublicKey: null },
      data: first.length > 0 ? [first] : [],
    };
  }
}
