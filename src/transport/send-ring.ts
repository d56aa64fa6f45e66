/**
 * Reusable send buffers for one UDP socket: records are sealed straight into a slot, the slot goes
 * to `socket.send`, and it is written again only once the socket is done with it.
 *
 * Why: a fresh buffer per datagram costs more than the rest of the per-record path together on
 * the benchmark machine (BENCHMARKS.md: about 0.8 µs of CPU per 1 KiB message, most of it the
 * garbage collector's work on the buffers' backing stores), and a send callback per datagram costs
 * a `process.nextTick` each. So only some sends carry a callback, and the ring relies on one fact:
 * **a socket's sends complete in the order they were made** (libuv sends synchronously when it
 * can, queues otherwise, and never sends past its queue). When the callback of the datagram in
 * slot n runs, every slot up to n is free.
 *
 * Rules for the user (transport/udp.ts):
 * - `allocate` hands out the next slot (a view of exactly `size` bytes); the record sealed into it
 *   must be sent (or dropped) before the next record is sealed into a slot that would be sent
 *   before it: records leave in the order they were sealed.
 * - Pass `callbackFor(datagram)` as the send callback of every datagram (it is usually undefined);
 *   if `send` throws, hand that callback to `unsent`.
 * - A slot is taken back only by a callback, so a datagram that is never sent keeps nothing alive
 *   beyond the next marked send.
 *
 * Slots are created on first use (a socket that sends nothing holds none, one that sends a record
 * now and then reuses slot 0); when every slot is in flight, or a record is larger than a slot, a
 * fresh buffer is used. The slots only ever hold ciphertext.
 */
import type { Allocate } from '../record/buffers.js';

/** Bytes per slot: the largest record datagram (type ‖ cid ‖ seq ‖ 1,200 bytes ‖ tag) with room. */
const SLOT_SIZE = 1280;
/** Slots per socket at most: 80 KiB for a socket that sends bursts of 64 datagrams or more. */
const SLOTS = 64;
/** A callback at least every this many slots (and on the first send after a quiet moment). */
const MARK_EVERY = 16;

export class SendRing {
  private readonly slots: (Buffer | undefined)[] = [];
  /** Slots handed out so far (the next one is `head % SLOTS`). */
  private head = 0;
  /** Slots before this number are free again. */
  private released = 0;
  /** Release points of the sends that carry a callback, oldest first (each a slot count). */
  private readonly marks: number[] = [];
  /** The view `allocate` returned last, and its slot number: the one datagram `callbackFor` may mark. */
  private lastView: Uint8Array | null = null;
  private lastSlot = 0;

  /** One callback for every marked send: they run in send order, so the oldest mark is reached. */
  private readonly release = (): void => {
    const m = this.marks.shift();
    if (m !== undefined) this.released = m;
  };

  readonly allocate: Allocate = (size) => {
    if (this.head === this.released && this.marks.length === 0) {
      this.head = 0; // nothing in flight: start again at slot 0
      this.released = 0;
    }
    if (size > SLOT_SIZE || this.head - this.released >= SLOTS) {
      this.lastView = null;
      return Buffer.allocUnsafe(size);
    }
    const i = this.head % SLOTS;
    const slot = (this.slots[i] ??= Buffer.allocUnsafeSlow(SLOT_SIZE));
    const view = slot.subarray(0, size);
    this.lastView = view;
    this.lastSlot = this.head++;
    return view;
  };

  /**
   * The callback to pass to `socket.send(datagram, …)`: set when `datagram` is the slot handed out
   * last and no callback is pending or `MARK_EVERY` slots have passed since the last one.
   */
  callbackFor(datagram: Uint8Array): (() => void) | undefined {
    if (datagram !== this.lastView) return undefined;
    this.lastView = null;
    const upTo = this.lastSlot + 1;
    const n = this.marks.length;
    if (n > 0 && upTo - this.marks[n - 1]! < MARK_EVERY) return undefined;
    this.marks.push(upTo);
    return this.release;
  }

  /** `socket.send(datagram, callbackFor(datagram))` threw: its callback will never run. */
  unsent(callback: (() => void) | undefined): void {
    if (callback === this.release) this.marks.pop();
  }

  /** Slots in flight (tests). */
  get inFlight(): number {
    return this.head - this.released;
  }

  /** Slots created (tests). */
  get created(): number {
    return this.slots.filter((s) => s !== undefined).length;
  }
}
