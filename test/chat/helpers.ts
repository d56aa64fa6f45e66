/** Test helpers for the chat: cheap password hashing, event collectors, a lossy datagram pair. */
import { EventEmitter } from 'node:events';
import type { ChatClient, ChatEvent } from '../../src/chat/client.js';
import type { PasswordCost } from '../../src/crypto/password.js';
import type { DatagramSessionLike } from '../../src/chat/channel.js';
import { prng } from './lossy.js';

/** libsodium's minimum Argon2id cost: fast tests. Never for real accounts. */
export const CHEAP_PASSWORD_COST_FOR_TESTING_ONLY: PasswordCost = { ops: 1, mem: 8192 };

/** Records a client's events and waits for the one a predicate picks. */
export class Events {
  readonly all: ChatEvent[] = [];
  private waiters: { match: (e: ChatEvent) => boolean; resolve: (e: ChatEvent) => void }[] = [];

  constructor(client: ChatClient) {
    client.onEvent((e) => {
      this.all.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(e)) return true;
        w.resolve(e);
        return false;
      });
    });
  }

  /** Resolves with the first event (already seen or future) that matches. */
  next(match: (e: ChatEvent) => boolean): Promise<ChatEvent> {
    const seen = this.all.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  notice(re: RegExp): Promise<ChatEvent> {
    return this.next((e) => e.kind === 'notice' && re.test(e.text));
  }

  publicTexts(from?: string): string[] {
    return this.all.flatMap((e) => (e.kind === 'public' && (!from || e.from === from) ? [e.text] : []));
  }
}

class LossyEnd extends EventEmitter implements DatagramSessionLike {
  peer!: LossyEnd;
  closed = false;
  readonly peerPublicKey = null;
  readonly remoteAddress = 'memory';
  readonly remotePort = 0;
  sent = 0;
  dropped = 0;

  constructor(
    private readonly random: () => number,
    private readonly loss: number,
    private readonly maxDelayMs: number,
  ) {
    super();
  }

  send(message: Uint8Array): void {
    if (this.closed) return;
    this.sent++;
    if (this.random() < this.loss) {
      this.dropped++;
      return;
    }
    const copy = Buffer.from(message);
    setTimeout(() => {
      if (!this.peer.closed) this.peer.emit('message', copy);
    }, Math.floor(this.random() * this.maxDelayMs));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
    setTimeout(() => this.peer.close(), this.maxDelayMs);
  }
}

/**
 * Two connected in-memory datagram sessions that lose `loss` of the datagrams and deliver the rest
 * after a random delay up to `maxDelayMs` (so they overtake each other). `close()` reaches the peer.
 */
export function lossyDatagramPair(loss: number, seed: number, maxDelayMs = 5): [LossyEnd, LossyEnd] {
  const random = prng(seed);
  const a = new LossyEnd(random, loss, maxDelayMs);
  const b = new LossyEnd(random, loss, maxDelayMs);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
