/**
 * Test helpers for the chat: cheap password hashing, event collectors, a lossy datagram pair, and
 * a `sealwire chat` child process in line mode.
 */
import { EventEmitter } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from '../helpers/cli.js';
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

/** A `sealwire chat` process in line mode: write lines, wait for output lines, collect the exit. */
export class ChatProcess {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private partial = '';
  private waiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  constructor(args: string[], env: NodeJS.ProcessEnv, lifetimeMs = 25_000) {
    this.child = spawn(process.execPath, [CLI, 'chat', ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
    this.child.stdout!.on('data', (c: Buffer) => {
      this.partial += c.toString();
      const parts = this.partial.split('\n');
      this.partial = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => !(w.re.test(line) && (w.resolve(line), true)));
      }
    });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), lifetimeMs);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
  }

  /** Resolves with the first output line (seen or future) that matches. */
  waitFor(re: RegExp): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ re, resolve });
      void this.exited.then(() => reject(new Error(`chat exited before printing ${re}; stdout: ${this.lines.join(' | ')}; stderr: ${this.stderr}`)));
    });
  }

  write(...lines: string[]): void {
    this.child.stdin!.write(lines.map((l) => `${l}\n`).join(''));
  }

  end(): Promise<number | null> {
    this.child.stdin!.end();
    return this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  /** Sends a signal (SIGTERM, SIGHUP...) to the chat process. */
  signal(sig: NodeJS.Signals): void {
    if (this.child.exitCode === null) this.child.kill(sig);
  }

  /** Output lines from the first that matches `from` on (for order checks). */
  linesFrom(from: RegExp): string[] {
    const i = this.lines.findIndex((l) => from.test(l));
    return i < 0 ? [] : this.lines.slice(i);
  }
}
