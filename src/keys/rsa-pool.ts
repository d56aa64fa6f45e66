/**
 * A pool of fresh RSA key pairs, generated off the event loop by a dedicated worker thread, for
 * suites that need a new RSA key per session (cbcmac, seed 004).
 *
 * RSA key generation takes tens of milliseconds at 2048 bits and far more at 3072 (docs/DESIGN.md §10):
 * never on the event loop, and not on libuv's shared thread pool either (it would hold up file
 * and DNS work). The worker keeps the pool between `lowWater` and `capacity` keys: when a `take`
 * leaves fewer than `lowWater`, it generates until the pool is full again. A connection waits
 * (asynchronously, `acquire`) only when the pool is empty; while it has keys, `take` and
 * `acquire` answer at once.
 *
 * Keys handed out are removed from the pool: each is used for one session only and then dropped.
 * Private keys live in OpenSSL key objects, which JavaScript cannot overwrite; OpenSSL clears
 * their memory when the object is freed.
 */
import { Worker } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import { SealwireError } from '../errors.js';
import { KeyPair } from './key.js';

/** The worker: one key per request, as a KeyObject (structured-cloned into the main thread). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { generateKeyPairSync } = require('node:crypto');
parentPort.on('message', (bits) => {
  try {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
    parentPort.postMessage({ key: privateKey });
  } catch (e) {
    parentPort.postMessage({ error: String((e && e.message) || e) });
  }
});
`;

export interface RsaKeyPoolOptions {
  /** Modulus size of the generated keys. */
  readonly bits: number;
  /** Keys kept ready (default 8). */
  readonly capacity?: number;
  /** Refill starts when fewer keys than this are left (default half the capacity). */
  readonly lowWater?: number;
}

export class RsaKeyPool {
  readonly bits: number;
  readonly capacity: number;
  readonly lowWater: number;
  private readonly ready: KeyPair[] = [];
  private readonly waiters: { resolve: (k: KeyPair) => void; reject: (e: Error) => void }[] = [];
  private worker: Worker | null = null;
  private inFlight = false;
  private refilling = false;
  private closed = false;
  /** Keys generated so far (tests and the bench). */
  generated = 0;

  constructor(options: RsaKeyPoolOptions) {
    this.bits = options.bits;
    this.capacity = Math.max(1, options.capacity ?? 8);
    this.lowWater = Math.min(this.capacity, Math.max(1, options.lowWater ?? Math.ceil(this.capacity / 2)));
    this.refilling = true;
    this.pump();
  }

  /** Keys ready now. */
  get size(): number {
    return this.ready.length;
  }

  /** A key at once, or `undefined` when the pool is empty (a refill is then under way). */
  take(): KeyPair | undefined {
    if (this.closed) throw new SealwireError('CLOSED', 'the RSA key pool is closed');
    const k = this.ready.shift();
    this.maybeRefill();
    return k;
  }

  /** A key: at once while the pool has one, otherwise the next one the worker makes. */
  acquire(): Promise<KeyPair> {
    if (this.closed) return Promise.reject(new SealwireError('CLOSED', 'the RSA key pool is closed'));
    const k = this.take();
    if (k) return Promise.resolve(k);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.refilling = true;
      this.pump();
    });
  }

  /** Stops the worker, drops the keys, and fails waiting `acquire`s with `CLOSED`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ready.length = 0;
    for (const w of this.waiters.splice(0)) w.reject(new SealwireError('CLOSED', 'the RSA key pool was closed'));
    void this.worker?.terminate();
    this.worker = null;
  }

  private maybeRefill(): void {
    if (this.ready.length < this.lowWater) {
      this.refilling = true;
      this.pump();
    }
  }

  /** Asks the worker for the next key if one is needed and none is being made. */
  private pump(): void {
    if (this.closed || this.inFlight) return;
    if (this.ready.length >= this.capacity && this.waiters.length === 0) this.refilling = false;
    if (!this.refilling) return;
    this.inFlight = true;
    this.ensureWorker().postMessage(this.bits);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref(); // a pool never keeps a process alive by itself
    w.on('message', (m: { key?: KeyObject; error?: string }) => this.onGenerated(m));
    w.on('error', (e) => this.onWorkerFailure(e));
    w.on('exit', () => {
      if (this.worker === w) this.worker = null;
    });
    this.worker = w;
    return w;
  }

  private onGenerated(m: { key?: KeyObject; error?: string }): void {
    this.inFlight = false;
    if (this.closed) return;
    if (!m.key) {
      this.onWorkerFailure(new Error(m.error ?? 'no key'));
      return;
    }
    this.generated++;
    const pair = KeyPair.fromPrivateKeyObject(m.key);
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(pair);
    else this.ready.push(pair);
    this.pump();
  }

  private onWorkerFailure(e: Error): void {
    this.inFlight = false;
    const error = new SealwireError('IO', `RSA key generation failed in the worker: ${e.message}`, { cause: e });
    for (const w of this.waiters.splice(0)) w.reject(error);
    void this.worker?.terminate();
    this.worker = null;
  }
}

/**
 * Test seam: a "pool" that hands out the same few pre-generated keys again and again, so that
 * tests running thousands of handshakes need no key generation. Never use it outside tests: it
 * gives up the one-key-per-session property.
 */
export class RecyclingKeyPoolForTestingOnly {
  private next = 0;
  constructor(private readonly keys: readonly KeyPair[]) {
    if (keys.length === 0) throw new SealwireError('INVALID_ARGUMENT', 'RecyclingKeyPoolForTestingOnly needs keys');
  }

  take(): KeyPair {
    return this.keys[this.next++ % this.keys.length]!;
  }

  acquire(): Promise<KeyPair> {
    return Promise.resolve(this.take());
  }

  close(): void {}
}

/** What the cbcmac suite needs from a pool. */
export interface SessionKeySource {
  take(): KeyPair | undefined;
  acquire(): Promise<KeyPair>;
  close(): void;
}
