/**
 * The `box` server handshake (seed 003, server column), as a tagged union of states.
 *
 *   awaitHello → (Hello) → awaitVouch → (Vouch, verified, authorized) → established
 *
 * A KeyQuery is answered once, before the Hello, for clients that learn the server's key (trust
 * on first use). Everything that fails says only `HANDSHAKE_FAILED` to the operator's log with the
 * reason; the peer sees the connection close and nothing more.
 */
import { SealwireError } from '../../errors.js';
import { boxKeys, secretboxOpen, secretboxSeal, x25519KeyPairFromSeed, x25519PublicKey, type DirectionKeys } from '../../crypto/box.js';
import { equalConstantTime, wipe } from '../../crypto/secrets.js';
import { PublicKey, type KeyPair } from '../../keys/key.js';
import type { Handshake, HandshakeMessage, HandshakeStep, ServerConfig } from '../../session/handshake.js';
import { expectMessage, expectPayloadSize, handshakeError } from '../common.js';
import { establishRecords } from './records.js';
import { RECORD_AEADS, type BoxCipherName } from '../../crypto/record-aead.js';
import { LongTermKeys } from './long-term.js';
import {
  Direction,
  HELLO_SIZE,
  MessageType,
  TAG_SIZE,
  VOUCH_SIZE,
  COOKIE_NONCE_SIZE,
  checkKeyQuery,
  cookieNonce,
  counterNonce,
  encodeCookiePlain,
  parseHello,
  parseHelloPlain,
  parseVPlain,
  parseVouchPlain,
  vouchInnerNonce,
  BoxCipherId,
  offers,
} from './messages.js';

/** What the stateless server (stateless.ts) lends `onHello`: Stag from ESs, and the token. */
export interface StatelessToken {
  stag(ephemeralSecret: Uint8Array): Buffer;
  seal(clientEphemeral: Uint8Array, ephemeralSecret: Uint8Array, offer: number): Buffer;
}

type State =
  | { readonly name: 'awaitHello'; readonly keyQueried: boolean }
  | {
      readonly name: 'awaitVouch';
      readonly clientEphemeral: Buffer;
      readonly stag: Buffer;
      readonly sessionKeys: DirectionKeys;
      /** Bytes in front of the Vouch (the stateless server's token; 0 otherwise). */
      readonly prefix: number;
      /** The Hello's record-cipher Offer (messages.ts). */
      readonly offer: number;
    }
  | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  awaitHello: "the client's Hello",
  awaitVouch: "the client's Vouch",
  done: 'nothing (established)',
};

const hsFail = (msg: string): SealwireError => handshakeError('box', msg);
const KNOWN = Object.values(MessageType);

export class BoxServerHandshake implements Handshake {
  readonly role = 'server';
  private state: State = { name: 'awaitHello', keyQueried: false };
  private readonly key: KeyPair;

  constructor(private readonly config: ServerConfig) {
    if (config.key.type !== 'x25519') throw new SealwireError('BAD_KEY', 'box: the server needs an X25519 key pair');
    this.key = config.key;
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
      case 'awaitHello':
        if (m.type === MessageType.KEY_QUERY && !s.keyQueried) {
          checkKeyQuery(m.payload);
          this.state = { name: 'awaitHello', keyQueried: true };
          return { send: [{ type: MessageType.KEY_REPLY, payload: this.key.publicKey.bytes }] };
        }
        expectMessage('box', m, MessageType.HELLO, 'Hello', KNOWN);
        return this.onHello(m);
      case 'awaitVouch':
        expectMessage('box', m, MessageType.VOUCH, 'Vouch', KNOWN);
        return this.onVouch(m, s);
      case 'done':
        throw hsFail(`unexpected message 0x${m.type.toString(16)} after the handshake`);
    }
  }

  wipe(): void {
    const s = this.state;
    if (s.name === 'awaitVouch') wipe(s.sessionKeys.send, s.sessionKeys.receive);
    this.state = { name: 'done' };
  }

  /**
   * Datagram transports, stateless server (stateless.ts): answers a Hello with a Cookie' whose box
   * also carries `token(EC, ESs)`, keeps nothing, and leaves this handshake done.
   */
  receiveHelloStateless(m: HandshakeMessage, token: StatelessToken): readonly HandshakeMessage[] {
    if (this.state.name !== 'awaitHello') throw hsFail('receiveHelloStateless() on a used handshake');
    expectMessage('box', m, MessageType.HELLO, 'Hello', KNOWN);
    const step = this.onHello(m, token);
    this.wipe();
    return step.send;
  }

  /**
   * Datagram transports: a server handshake rebuilt from a verified token, awaiting the Vouch'
   * (whose first `prefix` bytes are the token). Takes ownership of nothing: copies what it keeps.
   */
  static resumeFromToken(config: ServerConfig, clientEphemeral: Uint8Array, ephemeralSecret: Uint8Array, stag: Buffer, prefix: number, offer: number): BoxServerHandshake {
    const h = new BoxServerHandshake(config);
    h.choose(offer);
    const ephemeralPublic = x25519PublicKey(ephemeralSecret);
    const sessionKeys = boxKeys('server', ephemeralPublic, ephemeralSecret, clientEphemeral);
    h.state = { name: 'awaitVouch', clientEphemeral: Buffer.from(clientEphemeral), stag, sessionKeys, prefix, offer };
    return h;
  }

  /** Hello → Cookie: Cnonce ‖ Box[ES ‖ Ctag ‖ Stag (‖ token)](Ss -> EC). */
  private onHello(m: HandshakeMessage, token?: StatelessToken): HandshakeStep {
    expectPayloadSize('box', m, HELLO_SIZE, 'Hello');
    const hello = parseHello(m.payload);
    const helloKeys = boxKeys('server', this.key.publicKey.bytes, this.key.secretKey, hello.clientEphemeral);
    try {
      const plain = secretboxOpen(hello.sealed, counterNonce(MessageType.HELLO, Direction.CLIENT_TO_SERVER, 0n), helloKeys.receive);
      if (!plain) throw hsFail('the Hello does not open: the client sealed it to another server key');
      const { ctag, offer } = parseHelloPlain(plain, this.config.connectionId);
      this.choose(offer); // refuses now a client without the cipher this server requires
      const seed = this.config.rng(32);
      const ephemeral = x25519KeyPairFromSeed(seed);
      wipe(seed);
      const stag = token ? token.stag(ephemeral.secretKey) : this.config.rng(TAG_SIZE);
      const sessionKeys = boxKeys('server', ephemeral.publicKey, ephemeral.secretKey, hello.clientEphemeral);
      const sealedToken = token ? token.seal(hello.clientEphemeral, ephemeral.secretKey, offer) : null;
      // ESs is needed for nothing else: the session keys are computed (and sealed in the token), so it goes now.
      wipe(ephemeral.secretKey);
      // A replayed Hello meets the same (S, EC) key again: the nonce is random (messages.ts).
      const cNonce = this.config.rng(COOKIE_NONCE_SIZE);
      let cookiePlain = encodeCookiePlain({ serverEphemeral: ephemeral.publicKey, ctag, stag });
      if (sealedToken) cookiePlain = Buffer.concat([cookiePlain, sealedToken]);
      const sealed = secretboxSeal(cookiePlain, cookieNonce(cNonce), helloKeys.send);
      const cookie = Buffer.concat([cNonce, sealed]);
      if (!sealedToken) this.state = { name: 'awaitVouch', clientEphemeral: Buffer.from(hello.clientEphemeral), stag, sessionKeys, prefix: 0, offer };
      else wipe(sessionKeys.send, sessionKeys.receive);
      return { send: [{ type: MessageType.COOKIE, payload: cookie }] };
    } finally {
      wipe(helloKeys.send, helloKeys.receive);
    }
  }

  /** Vouch: opens it, checks V binds C to our EC and Stag, asks `authorize`, then Ready. */
  private onVouch(m: HandshakeMessage, s: Extract<State, { name: 'awaitVouch' }>): HandshakeStep {
    expectPayloadSize('box', m, s.prefix + VOUCH_SIZE, 'Vouch');
    const plain = secretboxOpen(m.payload.subarray(s.prefix), counterNonce(MessageType.VOUCH, Direction.CLIENT_TO_SERVER, 0n), s.sessionKeys.receive);
    if (!plain) throw hsFail('the Vouch does not open under the session key');
    const vouch = parseVouchPlain(plain);
    const clientKey = PublicKey.fromBytes('x25519', vouch.clientKey);
    const cache = this.config.resources instanceof LongTermKeys ? this.config.resources : null;
    const cached = cache?.get(clientKey.bytes);
    const longTerm = cached ?? boxKeys('server', this.key.publicKey.bytes, this.key.secretKey, clientKey.bytes);
    const vPlain = secretboxOpen(vouch.v, vouchInnerNonce(vouch.vNonce), longTerm.receive);
    // Cached only for a client that proved its key and is authorized: anyone else must not be able
    // to churn the cache (and cost the server X25519 work for the clients that belong there).
    let keep = false;
    try {
      if (!vPlain) throw hsFail(`the vouch V does not open: the client does not hold the secret key of ${clientKey.fingerprint}`);
      const v = parseVPlain(vPlain);
      const ephemeralOk = equalConstantTime(v.clientEphemeral, s.clientEphemeral);
      const stagOk = equalConstantTime(v.stag, s.stag);
      if (!ephemeralOk || !stagOk) throw hsFail('the vouch V was made for another session (EC or Stag mismatch)');
      if (!this.config.authorize(clientKey)) {
        throw new SealwireError('UNKNOWN_PEER', `box: client key ${clientKey.fingerprint} is not authorized`);
      }
      keep = true;
    } finally {
      if (!cached) {
        if (keep && cache) cache.remember(clientKey.bytes, longTerm);
        else wipe(longTerm.send, longTerm.receive);
      }
    }
    // The Ready names the chosen record cipher when the client offered a choice (messages.ts).
    const choice = this.choose(s.offer);
    const readyPlain = s.offer === 0 ? new Uint8Array(0) : Uint8Array.of(BoxCipherId[choice]);
    const ready = secretboxSeal(readyPlain, counterNonce(MessageType.READY, Direction.SERVER_TO_CLIENT, 0n), s.sessionKeys.send);
    this.state = { name: 'done' };
    return {
      send: [{ type: MessageType.READY, payload: ready }],
      established: { ...establishRecords('server', choice, s.offer, s.sessionKeys), peerPublicKey: clientKey },
    };
  }

  /**
   * The record cipher for a Hello's Offer: the first of this server's ciphers (the one that
   * `boxCipher` forces, else every one this build has, fastest first) that the client offers.
   */
  private choose(offer: number): BoxCipherName {
    const mine = this.config.boxCipher ? [this.config.boxCipher] : RECORD_AEADS;
    const choice = mine.find((c) => offers(offer, c));
    if (!choice) throw hsFail(`the client does not offer the record cipher this server requires (${mine.join(', ')})`);
    return choice;
  }
}
