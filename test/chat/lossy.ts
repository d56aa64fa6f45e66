/**
 * A simulated lossy datagram network between two `ReliableCore`s, in virtual time: each datagram
 * is dropped, duplicated or delayed (so reordered) by a seeded generator. No sockets, no timers.
 */
import { ReliableCore, type ReliableOptions } from '../../src/chat/reliable.js';

export interface Impairment {
  /** Probability a datagram is lost. */
  readonly loss: number;
  /** Probability a datagram is delivered twice. */
  readonly duplicate: number;
  /** Delivery delay is uniform in [minDelay, maxDelay] ms, so datagrams overtake each other. */
  readonly minDelay: number;
  readonly maxDelay: number;
}

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Side = 'a' | 'b';

export class LossyNet {
  readonly a: ReliableCore;
  readonly b: ReliableCore;
  readonly delivered: Record<Side, string[]> = { a: [], b: [] };
  now = 0;
  datagrams = 0;
  dropped = 0;
  private inFlight: { to: Side; at: number; bytes: Uint8Array; order: number }[] = [];
  private order = 0;
  private readonly random: () => number;

  constructor(
    private readonly impairment: Impairment,
    seed: number,
    options: ReliableOptions = {},
  ) {
    this.a = new ReliableCore(options);
    this.b = new ReliableCore(options);
    this.random = prng(seed);
  }

  core(side: Side): ReliableCore {
    return side === 'a' ? this.a : this.b;
  }

  send(from: Side, text: string): void {
    this.core(from).send(Buffer.from(text), this.now);
    this.collect(from);
  }

  /** Moves datagrams and time until nothing is left to do, or `limitMs` of virtual time passed. */
  run(limitMs = 600_000): void {
    const end = this.now + limitMs;
    while (this.now <= end) {
      this.collect('a');
      this.collect('b');
      const timeouts = [this.a.nextTimeout(), this.b.nextTimeout()].filter((t): t is number => t !== undefined);
      const nextDelivery = this.inFlight.length ? Math.min(...this.inFlight.map((d) => d.at)) : undefined;
      const next = Math.min(nextDelivery ?? Infinity, ...timeouts);
      if (next === Infinity) return;
      this.now = Math.max(this.now, next);
      const due = this.inFlight.filter((d) => d.at <= this.now).sort((x, y) => x.at - y.at || x.order - y.order);
      this.inFlight = this.inFlight.filter((d) => d.at > this.now);
      for (const d of due) {
        const core = this.core(d.to);
        for (const m of core.receive(d.bytes, this.now)) this.delivered[d.to].push(Buffer.from(m).toString());
      }
      this.a.handleTimeout(this.now);
      this.b.handleTimeout(this.now);
      if (this.a.error || this.b.error) return;
    }
  }

  private collect(from: Side): void {
    const to: Side = from === 'a' ? 'b' : 'a';
    for (const bytes of this.core(from).takeOutput()) {
      this.datagrams++;
      if (this.random() < this.impairment.loss) {
        this.dropped++;
        continue;
      }
      const copies = this.random() < this.impairment.duplicate ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        const delay = this.impairment.minDelay + this.random() * (this.impairment.maxDelay - this.impairment.minDelay);
        this.inFlight.push({ to, at: this.now + delay, bytes, order: this.order++ });
      }
    }
  }
}
