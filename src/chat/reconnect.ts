/**
 * A chat client that survives a lost session: when the session ends without the user asking (the
 * server restarted, the network changed, an idle timeout), it dials again with backoff, signs in
 * again with the credentials it holds in memory, says `reconnected`, and sends what was typed
 * meanwhile. Messages that were in flight when the session was lost (sent, never confirmed) are
 * named in a notice rather than sent twice. After `maxAttempts` failed dials it gives up: `'close'`
 * carries the error. The history a redial brings is shown only from the moment of the loss on
 * (by this machine's clock), so what was seen live is not repeated.
 *
 * It does not reconnect when the user quit, when the server refused the sign-in (a wrong password
 * stays wrong), or when the same user signed in from elsewhere (the sessions would take turns).
 *
 * Timers come in through `schedule`, so tests drive the backoff without waiting.
 */
import { EventEmitter } from 'node:events';
import { SealwireError } from '../errors.js';
import { ChatRefusedError, type ChatClient, type ChatEvent, type Outgoing } from './client.js';

export interface ReconnectOptions {
  /** Connects and signs in (again); rejects when it cannot. */
  readonly dial: () => Promise<ChatClient>;
  /** Dials after a loss before giving up (default 8). */
  readonly maxAttempts?: number;
  /** Wait before the first redial, doubled after each failure (default 250 ms). */
  readonly baseDelayMs?: number;
  /** Longest wait between redials (default 5000 ms). */
  readonly maxDelayMs?: number;
  /** Lines typed while disconnected that are kept for sending (default 100); more are refused. */
  readonly maxQueued?: number;
  /** Runs `fn` after `ms` (default `setTimeout`); returns a cancel function. */
  readonly schedule?: (fn: () => void, ms: number) => () => void;
  /** Wall-clock ms since the epoch (default `Date.now`): which history is new after a redial. */
  readonly now?: () => number;
}

export const DEFAULT_RECONNECT_ATTEMPTS = 8;

type Action = Outgoing | { kind: 'who' } | { kind: 'passwd'; old: string; new: string };

/**
 * Events: `'sent'` and `'unsent'` as `ChatClient` has them, `'close'` (error or null, final).
 * Chat events, including this layer's notices (`reconnected`), go to the `onEvent` handler.
 */
export class ReconnectingChat extends EventEmitter {
  private client: ChatClient;
  private readonly queued: Action[] = [];
  private reconnecting = false;
  private quitting = false;
  private finished = false;
  private cancelTimer: (() => void) | null = null;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxQueued: number;
  private readonly schedule: (fn: () => void, ms: number) => () => void;
  private handler: ((e: ChatEvent) => void) | null = null;
  /** When the session was lost (wall clock), so a redial shows only history from then on. */
  private lostAt = 0;

  constructor(
    first: ChatClient,
    private readonly options: ReconnectOptions,
  ) {
    super();
    this.maxAttempts = options.maxAttempts ?? DEFAULT_RECONNECT_ATTEMPTS;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 5000;
    this.maxQueued = options.maxQueued ?? 100;
    this.schedule =
      options.schedule ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      });
    this.client = first;
    this.adopt(first);
  }

  /** The account name as the server spells it. */
  get user(): string {
    return this.client.user;
  }

  get onlineAtSignIn(): readonly string[] {
    return this.client.onlineAtSignIn;
  }

  /** True while the session is lost and a redial is under way. */
  get disconnected(): boolean {
    return this.reconnecting;
  }

  onEvent(handler: (e: ChatEvent) => void): void {
    this.handler = handler;
    this.client.onEvent(handler);
  }

  say(text: string): void {
    this.act({ kind: 'say', text });
  }

  me(text: string): void {
    this.act({ kind: 'me', text });
  }

  msg(to: string, text: string): void {
    this.act({ kind: 'msg', to, text });
  }

  who(): void {
    this.act({ kind: 'who' });
  }

  passwd(oldPassword: string, newPassword: string): void {
    this.act({ kind: 'passwd', old: oldPassword, new: newPassword });
  }

  /**
   * Signs out and resolves once the session closed. While reconnecting, the lines typed meanwhile
   * are sent first; if the redial fails, `'close'` carries that error.
   */
  quit(): Promise<void> {
    return new Promise((resolve) => {
      if (this.finished) return resolve();
      this.once('close', () => resolve());
      this.quitting = true;
      if (!this.reconnecting) void this.client.quit();
    });
  }

  private act(a: Action): void {
    if (this.finished || this.quitting) return;
    if (!this.reconnecting) return this.perform(a);
    if (this.queued.length >= this.maxQueued) {
      this.notice(`not sent (disconnected, ${this.maxQueued} lines already waiting): ${describe(a)}`);
      return;
    }
    this.queued.push(a);
  }

  private perform(a: Action): void {
    const c = this.client;
    switch (a.kind) {
      case 'say':
        return c.say(a.text);
      case 'me':
        return c.me(a.text);
      case 'msg':
        return c.msg(a.to, a.text);
      case 'who':
        return c.who();
      case 'passwd':
        return c.passwd(a.old, a.new);
    }
  }

  private adopt(client: ChatClient): void {
    client.on('sent', (m: Outgoing) => this.emit('sent', m));
    client.on('unsent', (m: Outgoing, reason: string) => this.emit('unsent', m, reason));
    client.once('close', (error: SealwireError | null) => this.onClientClose(client, error));
  }

  private onClientClose(client: ChatClient, error: SealwireError | null): void {
    if (client !== this.client || this.finished) return;
    if ((this.quitting && !this.reconnecting) || client.replaced || this.maxAttempts === 0) return this.finish(error);
    const lost = client.pending;
    this.lostAt = (this.options.now ?? Date.now)();
    this.notice(`connection lost (${error ? error.message : 'the server closed the session'}); reconnecting`);
    for (const m of lost) this.notice(`not confirmed by the server before the connection was lost, may not have been sent: ${describe(m)}`);
    this.reconnecting = true;
    this.redial(1, error);
  }

  private redial(attempt: number, lastError: Error | null): void {
    if (attempt > this.maxAttempts) {
      const why = lastError ? `: ${lastError.message}` : '';
      this.finish(new SealwireError('CLOSED', `connection lost and ${this.maxAttempts} attempts to reconnect failed${why}`));
      return;
    }
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    this.cancelTimer = this.schedule(() => {
      this.cancelTimer = null;
      this.options.dial().then(
        (client) => this.reconnected(client),
        (e: unknown) => {
          if (e instanceof ChatRefusedError) {
            this.finish(new SealwireError('CLOSED', `connection lost, and signing in again was refused: ${e.reason}`));
            return;
          }
          this.redial(attempt + 1, e instanceof Error ? e : new Error(String(e)));
        },
      );
    }, delay);
  }

  private reconnected(client: ChatClient): void {
    if (this.finished) {
      void client.quit();
      return;
    }
    this.client = client;
    this.reconnecting = false;
    this.adopt(client);
    this.notice('reconnected');
    if (this.handler) {
      const handler = this.handler;
      // The history a redial brings repeats what was shown live: keep what came after the loss.
      client.onEvent((e) => {
        if (e.kind === 'history' && !(Date.parse(e.at) >= this.lostAt)) return;
        handler(e);
      });
    }
    for (const a of this.queued.splice(0)) this.perform(a);
    if (this.quitting) void client.quit();
  }

  private notice(text: string): void {
    const e: ChatEvent = { kind: 'notice', text };
    if (this.handler) this.handler(e);
    else this.emit('event', e);
  }

  private finish(error: SealwireError | null): void {
    if (this.finished) return;
    this.finished = true;
    this.reconnecting = false;
    this.cancelTimer?.();
    this.emit('close', error);
  }
}

function describe(a: Action): string {
  switch (a.kind) {
    case 'say':
    case 'me':
      return a.kind === 'me' ? `/me ${a.text}` : a.text;
    case 'msg':
      return `/msg ${a.to} ${a.text}`;
    case 'who':
      return '/who';
    case 'passwd':
      return '/passwd';
  }
}
