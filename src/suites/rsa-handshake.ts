/**
 * The skeleton the RSA suites' handshakes (sid, secsess, ccm, cbcmac) share, so that each suite's
 * `client.ts` and `server.ts` hold only what its seed says.
 *
 * - `SuiteHandshake`: the state (a tagged union named for what it awaits), `awaiting` for error
 *   messages, and failures prefixed with the suite's name.
 * - `RsaClientHandshake`: the checks of the keys the client was given (its own RSA key pair where
 *   the suite authenticates clients; a pinned server key must be RSA).
 * - `KeyQueryClientHandshake`: for the suites whose client can learn the server's key first
 *   (secsess, ccm), the KeyQuery → KeyReply opening, then the one answer the suite handles.
 * - `RsaServerHandshake`: the server's RSA private key, the silent start, the one KeyQuery a
 *   server answers, and the authorization check, made as soon as the client's key is named and
 *   before any private-key operation.
 *
 * Nothing here reads the clock or touches a socket; messages are (type, payload) pairs.
 */
import type { KeyObject } from 'node:crypto';
import { SealwireError } from '../errors.js';
import type { KeyPair, PublicKey } from '../keys/key.js';
import type { ClientConfig, Handshake, HandshakeMessage, HandshakeStep, ServerConfig } from '../session/handshake.js';
import { checkAuthorized, checkKeyQuery, expectMessage, handshakeError, rsaPrivate, serverKeyFromReply } from './common.js';

const EMPTY = new Uint8Array(0);

/** A state of a handshake: a tagged union member named for what it awaits. */
export interface NamedState {
  readonly name: string;
}

/** What every handshake state machine of a suite has, whatever its role. */
export abstract class SuiteHandshake<S extends NamedState> {
  protected state: S;

  protected constructor(
    protected readonly suite: string,
    private readonly awaitingByState: Readonly<Record<S['name'], string>>,
    protected readonly knownTypes: readonly number[],
    initial: S,
  ) {
    this.state = initial;
  }

  /** What the handshake waits for now (see `Handshake.awaiting`). */
  get awaiting(): string {
    return this.awaitingByState[this.state.name as S['name']];
  }

  /** A `HANDSHAKE_FAILED` error naming the suite. */
  protected fail(message: string): SealwireError {
    return handshakeError(this.suite, message);
  }

  /** Throws unless `m` is of `type` (see common.ts `expectMessage`). */
  protected expect(m: HandshakeMessage, type: number, name: string): void {
    expectMessage(this.suite, m, type, name, this.knownTypes);
  }

  /** The error for a message that comes when none (or another) is awaited. */
  protected unexpected(m: HandshakeMessage): SealwireError {
    return this.fail(`unexpected message 0x${m.type.toString(16).padStart(2, '0')} (${this.awaiting})`);
  }
}

/** The KeyQuery / KeyReply message types of a suite that has them. */
export interface KeyQueryTypes {
  readonly query: number;
  readonly reply: number;
}

/** The client side: the checks of the keys it was given, at construction, and `start()` run once. */
export abstract class RsaClientHandshake<S extends NamedState> extends SuiteHandshake<S> implements Handshake {
  readonly role = 'client';
  /** The client's own key pair; `null` in the suites whose clients stay anonymous. */
  protected readonly clientKey: KeyPair | null;

  protected constructor(
    suite: string,
    awaitingByState: Readonly<Record<S['name'], string>>,
    knownTypes: readonly number[],
    initial: S,
    protected readonly config: ClientConfig,
    clientKeys: 'required' | 'none',
  ) {
    super(suite, awaitingByState, knownTypes, initial);
    if (clientKeys === 'required') {
      if (!config.key) throw new SealwireError('BAD_KEY', `${suite}: the client needs an RSA key pair`);
      rsaPrivate(suite, config.key, 'client');
    }
    this.clientKey = clientKeys === 'required' ? config.key : null;
    if (config.server.kind === 'pinned' && config.server.key.type !== 'rsa') {
      throw new SealwireError('BAD_KEY', `${suite}: the server key must be an RSA key`);
    }
  }

  abstract start(): HandshakeStep;
  abstract receive(m: HandshakeMessage): HandshakeStep;
  abstract wipe(): void;

  /** The client's key pair, in the suites that require one (checked by the constructor). */
  protected get ownKey(): KeyPair {
    if (!this.clientKey) throw new SealwireError('BAD_KEY', `${this.suite}: the client needs an RSA key pair`);
    return this.clientKey;
  }

  /** Throws unless the handshake is in its initial state (`start()` runs once). */
  protected beginOnce(initialName: string): void {
    if (this.state.name !== initialName) throw this.fail('start() called twice');
  }
}

/** The states every KeyQuery client has, besides its own. */
export type KeyQueryOpening = { readonly name: 'start' } | { readonly name: 'awaitKeyReply' } | { readonly name: 'done' };

/** A KeyQuery suite's client flow: the query and reply types, and the server's answer to the first flight. */
export interface KeyQueryFlow extends KeyQueryTypes {
  readonly answer: number;
  readonly answerName: string;
}

/**
 * A client that may not know the server's key (secsess, ccm): the first flight at once to a
 * pinned key, otherwise an (empty) KeyQuery, and the first flight to the key the KeyReply
 * carries once the client's policy (fingerprint, known_hosts) accepts it. Then one answer from
 * the server, handled by the suite in `onAnswer`, in the suite's own state `S`.
 */
export abstract class KeyQueryClientHandshake<S extends NamedState> extends RsaClientHandshake<S | KeyQueryOpening> {
  protected constructor(
    suite: string,
    awaitingByState: Readonly<Record<(S | KeyQueryOpening)['name'], string>>,
    knownTypes: readonly number[],
    config: ClientConfig,
    clientKeys: 'required' | 'none',
    private readonly flow: KeyQueryFlow,
  ) {
    super(suite, awaitingByState, knownTypes, { name: 'start' }, config, clientKeys);
  }

  /** The first flight to `server`'s key; moves the state to the suite's own awaiting state. */
  protected abstract firstFlight(server: PublicKey): HandshakeMessage;
  /** The server's answer (already checked to be of type `flow.answer`) in state `s`. */
  protected abstract onAnswer(m: HandshakeMessage, s: S): HandshakeStep;

  start(): HandshakeStep {
    this.beginOnce('start');
    if (this.config.server.kind === 'pinned') return { send: [this.firstFlight(this.config.server.key)] };
    this.state = { name: 'awaitKeyReply' };
    return { send: [{ type: this.flow.query, payload: EMPTY }] };
  }

  receive(m: HandshakeMessage): HandshakeStep {
    const s = this.state;
    switch (s.name) {
      case 'awaitKeyReply':
        return { send: [this.firstFlight(serverKeyFromReply(this.suite, m, this.flow.reply, this.knownTypes, this.config.server))] };
      case 'start':
      case 'done':
        throw this.unexpected(m);
    }
    this.expect(m, this.flow.answer, this.flow.answerName);
    return this.onAnswer(m, s as S);
  }
}

/** The server side: its RSA private key, a silent start, the KeyQuery answer and the authorization check. */
export abstract class RsaServerHandshake<S extends NamedState> extends SuiteHandshake<S> implements Handshake {
  readonly role = 'server';
  protected readonly privateKey: KeyObject;
  private keyQueried = false;

  protected constructor(
    suite: string,
    awaitingByState: Readonly<Record<S['name'], string>>,
    knownTypes: readonly number[],
    initial: S,
    protected readonly config: ServerConfig,
  ) {
    super(suite, awaitingByState, knownTypes, initial);
    this.privateKey = rsaPrivate(suite, config.key, 'server');
  }

  /** The server speaks second: nothing to send at start. */
  start(): HandshakeStep {
    return { send: [] };
  }

  abstract receive(m: HandshakeMessage): HandshakeStep;
  abstract wipe(): void;

  /**
   * The answer to the first KeyQuery (the server's SubjectPublicKeyInfo DER), or `null` when `m`
   * is not one or a KeyQuery was answered already (then it is an unexpected message).
   */
  protected answerKeyQuery(types: KeyQueryTypes, m: HandshakeMessage): HandshakeStep | null {
    if (m.type !== types.query || this.keyQueried) return null;
    checkKeyQuery(this.suite, m.payload);
    this.keyQueried = true;
    return { send: [{ type: types.reply, payload: this.config.key.publicKey.bytes }] };
  }

  /** Throws `UNKNOWN_PEER` unless the server's policy accepts the client's key. */
  protected authorize(client: PublicKey): void {
    checkAuthorized(this.suite, this.config.authorize, client);
  }
}
