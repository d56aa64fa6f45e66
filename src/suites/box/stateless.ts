/**
 * `box` over UDP without per-Hello state on the server (docs/DESIGN.md §3, as CurveCP does it).
 *
 * The server answers a Hello (and a KeyQuery) at once and forgets it. The Cookie's box carries,
 * after ES ‖ Ctag ‖ Stag, a **token**: the server's ephemeral state sealed under a key only the
 * server knows, which rotates every minute (the current and the previous key are accepted, so a
 * token lives 1–2 minutes). The client sends the token back in front of its Vouch; only then does
 * the server create a session.
 *
 *   token   = Tnonce (24, random) ‖ secretbox_K(EC (32) ‖ ESs (32) ‖ CID (8) ‖ Offer (1)) = 113 bytes
 *   Cookie' = Cnonce (22) ‖ Box[ES (32) ‖ Ctag (32) ‖ Stag (32) ‖ token (113)](Ss -> EC) = 247 bytes
 *   Vouch'  = token (113) ‖ Vouch (150)                                                  = 263 bytes
 *   Stag    = BLAKE2b-256(key = ESs, "sealwire box stag")
 *
 * Offer is the Hello's record-cipher offer (messages.ts), kept for the Ready and the record keys.
 * The Cookie' (247) is still smaller than the Hello (256): no amplification. A token names its
 * connection id, so it cannot be moved to another session, and a connection id whose token was
 * used is remembered until the token has expired, so a replayed Vouch' cannot rebuild a session
 * (which would repeat the session's nonces). That memory is marked before the Vouch is verified,
 * so it is bounded: after `maxUsedTokens / 2` ids under one key the token key turns over early, and
 * the ids of tokens that no key can open any more are forgotten (a flood costs in-flight handshakes at most one
 * retry, never unbounded memory).
 */
import { SealwireError } from '../../errors.js';
import { BOX_NONCE_SIZE, X25519_KEY_SIZE, blake2b, secretboxOpen, secretboxSeal } from '../../crypto/box.js';
import { wipe } from '../../crypto/secrets.js';
import type { Handshake, HandshakeMessage, ServerConfig, StatelessServer } from '../../session/handshake.js';
import { BoxServerHandshake } from './server.js';
import { MessageType, TAG_SIZE, TOKEN_SIZE } from './messages.js';

const CID_SIZE = 8;
export const TOKEN_PLAIN_SIZE = X25519_KEY_SIZE + X25519_KEY_SIZE + CID_SIZE + 1;
export { TOKEN_SIZE };
/** How long one token key is the current one (milliseconds). */
export const TOKEN_KEY_PERIOD_MS = 60_000;
/** Used connection ids remembered at most (then the token key turns over early): about 7 MB. */
export const MAX_USED_TOKENS = 65_536;
const STAG_CONTEXT = Buffer.from('sealwire box stag');

/** Stag derived from ESs (fresh per Hello and secret, so Stag is too). */
export function stagFromEphemeral(ephemeralSecret: Uint8Array): Buffer {
  return blake2b(TAG_SIZE, STAG_CONTEXT, ephemeralSecret);
}

interface TokenKey {
  /** Counts key turnovers (timed or early). */
  readonly epoch: number;
  /** The period (`now / TOKEN_KEY_PERIOD_MS`) in which the key was made. */
  readonly period: number;
  readonly key: Buffer;
}

export class BoxStatelessServer implements StatelessServer {
  private current: TokenKey | null = null;
  private previous: TokenKey | null = null;
  /** Connection ids whose token was used, until the token has expired (epoch of use). */
  private readonly used = new Map<string, number>();
  /** Ids marked used since the current key was made: at half the bound the key turns over early. */
  private usedUnderCurrent = 0;

  constructor(
    private readonly config: ServerConfig,
    private readonly maxUsedTokens = MAX_USED_TOKENS,
  ) {
    if (config.key.type !== 'x25519') throw new SealwireError('BAD_KEY', 'box: the server needs an X25519 key pair');
  }

  answer(m: HandshakeMessage, connectionId: Uint8Array, now: number): readonly HandshakeMessage[] | 'resume' {
    if (m.type === MessageType.VOUCH) return 'resume';
    // A throwaway stateful handshake answers the KeyQuery or the Hello; only the token keeps its state.
    const once = new BoxServerHandshake({ ...this.config, connectionId });
    try {
      if (m.type !== MessageType.HELLO) return once.receive(m).send;
      const key = this.tokenKey(now);
      return once.receiveHelloStateless(m, {
        stag: stagFromEphemeral,
        seal: (ec, ess, offer) => this.sealToken(key, ec, ess, connectionId, offer),
      });
    } finally {
      once.wipe();
    }
  }

  resume(m: HandshakeMessage, connectionId: Uint8Array, now: number): Handshake {
    this.rotate(now);
    if (m.payload.length < TOKEN_SIZE) throw new SealwireError('HANDSHAKE_FAILED', 'box: Vouch without the server token');
    const token = m.payload.subarray(0, TOKEN_SIZE);
    const nonce = token.subarray(0, BOX_NONCE_SIZE);
    const sealed = token.subarray(BOX_NONCE_SIZE);
    let plain: Buffer | null = null;
    for (const k of [this.current, this.previous]) {
      if (k && !plain) plain = secretboxOpen(sealed, nonce, k.key);
    }
    if (!plain) throw new SealwireError('HANDSHAKE_FAILED', 'box: the Vouch carries no valid server token (expired, or not from this server)');
    try {
      const ec = plain.subarray(0, X25519_KEY_SIZE);
      const ess = plain.subarray(X25519_KEY_SIZE, 2 * X25519_KEY_SIZE);
      const cid = plain.subarray(2 * X25519_KEY_SIZE, 2 * X25519_KEY_SIZE + CID_SIZE);
      const offer = plain[2 * X25519_KEY_SIZE + CID_SIZE]!;
      if (Buffer.compare(cid, connectionId) !== 0) throw new SealwireError('HANDSHAKE_FAILED', 'box: the server token belongs to another connection id');
      const id = Buffer.from(connectionId).toString('latin1');
      if (this.used.has(id)) throw new SealwireError('HANDSHAKE_FAILED', 'box: the server token was used already (a replayed Vouch)');
      this.used.set(id, this.current!.epoch);
      if (++this.usedUnderCurrent >= this.maxUsedTokens / 2) this.turnOver(this.current!.period);
      return BoxServerHandshake.resumeFromToken({ ...this.config, connectionId }, ec, ess, stagFromEphemeral(ess), TOKEN_SIZE, offer);
    } finally {
      wipe(plain);
    }
  }

  private sealToken(key: TokenKey, ec: Uint8Array, ess: Uint8Array, cid: Uint8Array, offer: number): Buffer {
    const plain = Buffer.concat([ec, ess, cid, Uint8Array.of(offer)]);
    const nonce = this.config.rng(BOX_NONCE_SIZE);
    const sealed = secretboxSeal(plain, nonce, key.key);
    wipe(plain);
    return Buffer.concat([nonce, sealed]);
  }

  private tokenKey(now: number): TokenKey {
    this.rotate(now);
    return this.current!;
  }

  /** Moves to the key of `now`'s period (a key lives one period as current, one as previous). */
  private rotate(now: number): void {
    const period = Math.floor(now / TOKEN_KEY_PERIOD_MS);
    if (this.current && this.current.period >= period) return;
    this.turnOver(period);
  }

  /**
   * A new current key; the current one stays as previous if it is from the last period or this
   * one. Older keys are wiped, and the used ids of tokens they sealed are forgotten: no key opens
   * those tokens any more.
   */
  private turnOver(period: number): void {
    const old = this.previous;
    const keep = this.current && this.current.period >= period - 1 ? this.current : null;
    if (old) wipe(old.key);
    if (this.current && this.current !== keep) wipe(this.current.key);
    this.previous = keep;
    const epoch = (this.current?.epoch ?? 0) + 1;
    this.current = { epoch, period, key: Buffer.from(this.config.rng(32)) };
    this.usedUnderCurrent = 0;
    const oldest = keep ? keep.epoch : epoch;
    for (const [id, e] of this.used) if (e < oldest) this.used.delete(id);
  }

  /** Connection ids remembered as used (at most `maxUsedTokens`: half under each live key). */
  get usedTokens(): number {
    return this.used.size;
  }
}
