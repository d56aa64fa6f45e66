/**
 * The `box` client handshake (seed 003, client column), as a tagged union of states.
 *
 *   awaitKeyReply → (KeyReply) → awaitCookie → (Cookie) → awaitReady → (Ready) → established
 *
 * The client starts in awaitCookie when it knows the server's key, after sending the Hello.
 */
import { SealwireError } from '../../errors.js';
import { boxKeys, secretboxOpen, secretboxSeal, x25519KeyPairFromSeed, type DirectionKeys, type X25519KeyPair } from '../../crypto/box.js';
import { equalConstantTime, wipe } from '../../crypto/secrets.js';
import type { Rng } from '../../crypto/random.js';
import { PublicKey, type KeyPair } from '../../keys/key.js';
import type { ClientConfig, Handshake, HandshakeMessage, HandshakeStep } from '../../session/handshake.js';
import { expectMessage, expectPayloadSize, handshakeError } from '../common.js';
import { establishRecords } from './records.js';
import { RECORD_AEADS, type BoxCipherName } from '../../crypto/record-aead.js';
import { clientLongTermKeys } from './long-term.js';
import {
  COOKIE_PLAIN_SIZE,
  COOKIE_SIZE,
  COOKIE_WITH_TOKEN_SIZE,
  Direction,
  MessageType,
  READY_SIZE,
  READY_WITH_CHOICE_SIZE,
  TAG_SIZE,
  V_NONCE_SIZE,
  cookieNonce,
  counterNonce,
  encodeHello,
  encodeHelloPlain,
  encodeKeyQuery,
  encodeVPlain,
  encodeVouchPlain,
  parseCookie,
  parseCookiePlain,
  parseKeyReply,
  vouchInnerNonce,
  cipherOfId,
  encodeOffer,
} from './messages.js';

type State =
  | { readonly name: 'start' }
  | { readonly name: 'awaitKeyReply' }
  | { readonly name: 'awaitCookie'; readonly server: PublicKey; readonly ephemeral: X25519KeyPair; readonly ctag: Buffer; readonly helloKeys: DirectionKeys }
  | { readonly name: 'awaitReady'; readonly server: PublicKey; readonly sessionKeys: DirectionKeys }
  | { readonly name: 'done' };

const AWAITING: Record<State['name'], string> = {
  start: 'nothing (not started)',
  awaitKeyReply: "the server's key (KeyReply)",
  awaitCookie: "the server's Cookie (if the server closed the connection, check that the pinned server key is this server's)",
  awaitReady: "the server's Ready (if the server closed the connection, this client's key is probably not in the server's authorized keys)",
  done: 'nothing (established)',
};

const hsFail = (msg: string): SealwireError => handshakeError('box', msg);
const KNOWN = Object.values(MessageType);
const expectType = (m: HandshakeMessage, type: number, name: string): void => expectMessage('box', m, type, name, KNOWN);

export class BoxClientHandshake implements Handshake {
  readonly role = 'client';
  private state: State = { name: 'start' };
  private readonly key: KeyPair;
  /** Long-term keys computed for this handshake, not yet known to be right (not cached). */
  private pendingLongTerm: DirectionKeys | null = null;
  /** The record ciphers this client accepts, and the Offer byte that names them. */
  private readonly ciphers: readonly BoxCipherName[];
  private readonly offer: number;

  constructor(private readonly config: ClientConfig) {
    if (!config.key || config.key.type !== 'x25519') {
      throw new SealwireError('BAD_KEY', 'box: the client needs an X25519 key pair');
    }
    if (config.server.kind === 'pinned' && config.server.key.type !== 'x25519') {
      throw new SealwireError('BAD_KEY', 'box: the server key must be an X25519 key');
    }
    this.key = config.key;
    this.ciphers = config.boxCipher ? [config.boxCipher] : RECORD_AEADS;
    if (!this.ciphers.every((c) => RECORD_AEADS.includes(c))) {
      throw new SealwireError('INVALID_ARGUMENT', `box: record cipher ${String(config.boxCipher)} is not available in this build (${RECORD_AEADS.join(', ')})`);
    }
    this.offer = encodeOffer(this.ciphers);
  }

  get awaiting(): string {
    return AWAITING[this.state.name];
  }

  start(): HandshakeStep {
    if (this.state.name !== 'start') throw hsFail('start() called twice');
    if (this.config.server.kind === 'pinned') return { send: [this.hello(this.config.server.key)] };
    this.state = { name: 'awaitKeyReply' };
    return { send: [{ type: MessageType.KEY_QUERY, payload: encodeKeyQuery() }] };
  }

  receive(m: HandshakeMessage): HandshakeStep {
    const s = this.state;
    switch (s.name) {
      case 'awaitKeyReply': {
        expectType(m, MessageType.KEY_REPLY, 'KeyReply');
        const server = PublicKey.fromBytes('x25519', parseKeyReply(m.payload));
        if (this.config.server.kind === 'learn') this.config.server.verify(server);
        return { send: [this.hello(server)] };
      }
      case 'awaitCookie': {
        expectType(m, MessageType.COOKIE, 'Cookie');
        // Over UDP a stateless server adds its token inside the Cookie box (stateless.ts).
        const withToken = this.config.connectionId !== undefined && m.payload.length === COOKIE_WITH_TOKEN_SIZE;
        if (!withToken) expectPayloadSize('box', m, COOKIE_SIZE, 'Cookie');
        const sealedCookie = parseCookie(m.payload, withToken ? COOKIE_WITH_TOKEN_SIZE : COOKIE_SIZE);
        const plain = secretboxOpen(sealedCookie.sealed, cookieNonce(sealedCookie.cNonce), s.helloKeys.receive);
        if (!plain) throw hsFail('the Cookie does not open: it was not sealed by the holder of the pinned server key');
        const cookie = parseCookiePlain(plain.subarray(0, COOKIE_PLAIN_SIZE));
        const token = withToken ? Buffer.from(plain.subarray(COOKIE_PLAIN_SIZE)) : null;
        if (!equalConstantTime(cookie.ctag, s.ctag)) throw hsFail('the Cookie does not answer our Hello (Ctag mismatch)');
        const sessionKeys = boxKeys('client', s.ephemeral.publicKey, s.ephemeral.secretKey, cookie.serverEphemeral);
        const vouch = this.vouch(s.server, s.ephemeral.publicKey, cookie.stag, sessionKeys);
        wipe(s.ephemeral.secretKey, s.helloKeys.send, s.helloKeys.receive, plain);
        this.state = { name: 'awaitReady', server: s.server, sessionKeys };
        return { send: [token ? { type: vouch.type, payload: Buffer.concat([token, vouch.payload]) } : vouch] };
      }
      case 'awaitReady': {
        expectType(m, MessageType.READY, 'Ready');
        // With an Offer, the Ready carries the server's Choice (messages.ts); without, it is empty.
        expectPayloadSize('box', m, this.offer === 0 ? READY_SIZE : READY_WITH_CHOICE_SIZE, 'Ready');
        const plain = secretboxOpen(m.payload, counterNonce(MessageType.READY, Direction.SERVER_TO_CLIENT, 0n), s.sessionKeys.receive);
        if (!plain) throw hsFail('the Ready does not open under the session key');
        const choice = this.offer === 0 ? 'xsalsa20-poly1305' : cipherOfId(plain[0]!);
        if (!choice || !this.ciphers.includes(choice)) {
          throw hsFail(`the server chose record cipher 0x${plain[0]!.toString(16)}, which this client did not offer (${this.ciphers.join(', ')})`);
        }
        if (this.pendingLongTerm) clientLongTermKeys(this.key).remember(s.server.bytes, this.pendingLongTerm);
        this.pendingLongTerm = null;
        this.state = { name: 'done' };
        return {
          send: [],
          established: { ...establishRecords('client', choice, this.offer, s.sessionKeys), peerPublicKey: s.server },
        };
      }
      case 'start':
      case 'done':
        throw hsFail(`unexpected message 0x${m.type.toString(16)} (${this.awaiting})`);
    }
  }

  wipe(): void {
    const s = this.state;
    if (s.name === 'awaitCookie') wipe(s.ephemeral.secretKey, s.helloKeys.send, s.helloKeys.receive);
    // awaitReady's session keys belong to the record ciphers once established; wipe them only if
    // the handshake is abandoned before that.
    if (s.name === 'awaitReady') wipe(s.sessionKeys.send, s.sessionKeys.receive);
    if (this.pendingLongTerm) wipe(this.pendingLongTerm.send, this.pendingLongTerm.receive);
    this.pendingLongTerm = null;
    this.state = { name: 'done' };
  }

  /** Hello: EC ‖ Box[Ctag ‖ padding](ECs -> S). */
  private hello(server: PublicKey): HandshakeMessage {
    const rng: Rng = this.config.rng;
    const seed = rng(32);
    const ephemeral = x25519KeyPairFromSeed(seed);
    wipe(seed);
    const ctag = rng(TAG_SIZE);
    const helloKeys = boxKeys('client', ephemeral.publicKey, ephemeral.secretKey, server.bytes);
    const sealed = secretboxSeal(encodeHelloPlain(ctag, this.config.connectionId, this.offer), counterNonce(MessageType.HELLO, Direction.CLIENT_TO_SERVER, 0n), helloKeys.send);
    this.state = { name: 'awaitCookie', server, ephemeral, ctag, helloKeys };
    return { type: MessageType.HELLO, payload: encodeHello(ephemeral.publicKey, sealed) };
  }

  /** Vouch: Box[C ‖ Vnonce ‖ V](ECs -> ES), V = Box[EC ‖ Stag](Cs -> S). */
  private vouch(server: PublicKey, clientEphemeral: Uint8Array, stag: Uint8Array, sessionKeys: DirectionKeys): HandshakeMessage {
    // The long-term pair's keys are the same in every session with this server: computed once
    // and kept (long-term.ts). They are cached only once the server has answered a Vouch made
    // with them (`remember` in awaitReady), so a wrong server key never lands in the cache.
    const cache = clientLongTermKeys(this.key);
    const longTerm = cache.get(server.bytes) ?? cache.compute(server.bytes);
    const vNonce = this.config.rng(V_NONCE_SIZE);
    const v = secretboxSeal(encodeVPlain({ clientEphemeral, stag }), vouchInnerNonce(vNonce), longTerm.send);
    this.pendingLongTerm = cache.get(server.bytes) ? null : longTerm;
    const plain = encodeVouchPlain({ clientKey: this.key.publicKey.bytes, vNonce, v });
    const sealed = secretboxSeal(plain, counterNonce(MessageType.VOUCH, Direction.CLIENT_TO_SERVER, 0n), sessionKeys.send);
    return { type: MessageType.VOUCH, payload: sealed };
  }
}
