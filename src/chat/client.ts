/**
 * The chat client as a library: signs in over a `MessageChannel`, then turns server messages into
 * typed `ChatEvent`s and user actions into protocol messages. No terminal code here (render.ts
 * formats, cli/commands/chat.ts does the I/O).
 */
import { EventEmitter } from 'node:events';
import { SealwireError } from '../errors.js';
import type { MessageChannel } from './channel.js';
import { BYE_REPLACED, MAX_TEXT_BYTES, MAX_WIRE_MESSAGE, decodeServerMessage, encodeMessage, type ClientMessage, type ServerMessage } from './protocol.js';

/** A message this client sent that the server has not answered yet (`sent` or `unsent`). */
export type Outgoing = { kind: 'say'; text: string } | { kind: 'me'; text: string } | { kind: 'msg'; to: string; text: string };

export type ChatEvent =
  | { kind: 'public'; from: string; text: string }
  | { kind: 'emote'; from: string; text: string }
  | { kind: 'private'; from: string; text: string }
  /** A message of the room's recent past (before live traffic); `at` is ISO 8601 UTC. */
  | { kind: 'history'; action: 'say' | 'me'; from: string; text: string; at: string }
  | { kind: 'joined'; user: string }
  | { kind: 'left'; user: string }
  | { kind: 'online'; users: string[] }
  | { kind: 'notice'; text: string };

/** The server refused a sign-up or sign-in; `reason` is the server's one-line explanation. */
export class ChatRefusedError extends Error {
  override readonly name = 'ChatRefusedError';
  constructor(
    readonly action: 'signin' | 'signup',
    readonly reason: string,
  ) {
    super(`${action === 'signup' ? 'sign-up' : 'sign-in'} refused: ${reason}`);
  }
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
  /** Create the account first (default: sign in to an existing one). */
  readonly signup?: boolean;
}

/** How long `quit` waits for the server to confirm the sign-out before giving up (ms). */
export const QUIT_CONFIRM_MS = 10_000;

/**
 * A signed-in chat client. `onEvent` receives every event (those that arrived before it was set
 * are delivered first); the `'close'` event carries the error that ended the session, or null
 * when it ended as asked (`quit` confirmed by the server, or replaced by a newer sign-in).
 *
 * Every `say`, `me` and `msg` is answered by the server: `'sent'` (Outgoing) once it accepted
 * the message, or `'unsent'` (Outgoing, reason) when it refused it; the reason also arrives as a
 * `notice` event. `pending` lists those not answered yet.
 */
export class ChatClient extends EventEmitter {
  private handler: ((e: ChatEvent) => void) | null = null;
  private backlog: ChatEvent[] = [];
  private quitting = false;
  private signedOut = false;
  private replacedBy = false;
  private readonly outgoing: Outgoing[] = [];

  private constructor(
    private readonly channel: MessageChannel,
    /** The account name as the server spells it. */
    readonly user: string,
    /** Who was online at sign-in (including this user). */
    readonly onlineAtSignIn: readonly string[],
  ) {
    super();
  }

  /** Signs up or in over `channel`; resolves once the server welcomed us. */
  static signIn(channel: MessageChannel, credentials: Credentials): Promise<ChatClient> {
    const action = credentials.signup ? 'signup' : 'signin';
    return new Promise((resolve, reject) => {
      let client: ChatClient | null = null;
      const early: ChatEvent[] = [];
      channel.on('message', (bytes) => {
        let msg: ServerMessage;
        try {
          msg = decodeServerMessage(bytes);
        } catch (e) {
          channel.destroy(e as SealwireError);
          return;
        }
        if (client) {
          client.receive(msg);
          return;
        }
        if (msg.t === 'welcome') {
          client = new ChatClient(channel, msg.user, msg.online);
          client.backlog.push(...early);
          resolve(client);
        } else if (msg.t === 'refused') {
          reject(new ChatRefusedError(action, msg.reason));
          channel.destroy(); // nothing more to say; the server closes its side itself
        } else {
          const ev = toEvent(msg);
          if (ev) early.push(ev);
        }
      });
      channel.once('close', (error) => {
        if (client) client.emit('close', error ?? client.lostWithoutError());
        else reject(error ?? new SealwireError('CLOSED', `the server closed the session before answering the ${action === 'signup' ? 'sign-up' : 'sign-in'}`));
      });
      send(channel, { t: action, user: credentials.user, password: credentials.password });
    });
  }

  /** Sets the event handler and delivers what arrived before it. */
  onEvent(handler: (e: ChatEvent) => void): void {
    this.handler = handler;
    const queued = this.backlog;
    this.backlog = [];
    for (const e of queued) handler(e);
  }

  say(text: string): void {
    this.post({ kind: 'say', text }, { t: 'say', text });
  }

  /** An action (`/me waves`). */
  me(text: string): void {
    this.post({ kind: 'me', text }, { t: 'me', text });
  }

  msg(to: string, text: string): void {
    this.post({ kind: 'msg', to, text }, { t: 'msg', to, text });
  }

  who(): void {
    send(this.channel, { t: 'who' });
  }

  /** Asks the server to change our password; it answers with a notice. */
  passwd(oldPassword: string, newPassword: string): void {
    send(this.channel, { t: 'passwd', old: oldPassword, new: newPassword });
  }

  /** Messages sent but not yet answered by the server, oldest first. */
  get pending(): readonly Outgoing[] {
    return this.outgoing;
  }

  /** True when the server closed this session because the user signed in elsewhere. */
  get replaced(): boolean {
    return this.replacedBy;
  }

  private post(out: Outgoing, msg: ClientMessage): void {
    if (this.channel.closed || this.quitting) return;
    const bytes = encodeMessage(msg);
    if (bytes.length > MAX_WIRE_MESSAGE) {
      // Refused here: the server could not read it either.
      const reason = `message too long (${Buffer.byteLength(out.text, 'utf8')} bytes, limit ${MAX_TEXT_BYTES}); not sent`;
      queueMicrotask(() => {
        this.emit('unsent', out, reason);
        this.deliver({ kind: 'notice', text: reason });
      });
      return;
    }
    this.outgoing.push(out);
    this.channel.send(bytes);
  }

  /** The error of a session that closed without one, unless it ended as asked (quit, replaced). */
  private lostWithoutError(): SealwireError | null {
    if (this.signedOut || this.replacedBy) return null;
    if (this.quitting) return new SealwireError('CLOSED', 'the session ended before the server confirmed the sign-out');
    return null;
  }

  get closed(): boolean {
    return this.channel.closed;
  }

  /**
   * Signs out: sends `quit` and closes once the server confirmed it (its `bye`). Resolves on
   * close; `'close'` carries an error if the session ended before the confirmation.
   */
  quit(): Promise<void> {
    return new Promise((resolve) => {
      if (this.channel.closed) return resolve();
      this.once('close', () => resolve());
      if (this.quitting) return;
      this.quitting = true;
      send(this.channel, { t: 'quit' });
      const timer = setTimeout(() => this.channel.destroy(new SealwireError('TIMEOUT', `the server did not confirm the sign-out within ${QUIT_CONFIRM_MS / 1000} s`)), QUIT_CONFIRM_MS);
      timer.unref();
      this.once('close', () => clearTimeout(timer));
    });
  }

  private receive(msg: ServerMessage): void {
    if (msg.t === 'bye') {
      // Show why (unless it confirms our own quit), then close our side once our acks are out.
      if (this.quitting) this.signedOut = true;
      else {
        this.replacedBy = msg.reason.includes(BYE_REPLACED);
        this.deliver({ kind: 'notice', text: msg.reason });
      }
      this.channel.close();
      return;
    }
    if (msg.t === 'sent') {
      const message = this.outgoing.shift();
      if (message) this.emit('sent', message);
      return;
    }
    if (msg.t === 'unsent') {
      const message = this.outgoing.shift();
      if (message) this.emit('unsent', message, msg.reason);
      this.deliver({ kind: 'notice', text: msg.reason });
      return;
    }
    const ev = toEvent(msg);
    if (ev) this.deliver(ev);
  }

  private deliver(ev: ChatEvent): void {
    if (this.handler) this.handler(ev);
    else this.backlog.push(ev);
  }
}

function send(channel: MessageChannel, msg: ClientMessage): void {
  channel.send(encodeMessage(msg));
}

function toEvent(msg: ServerMessage): ChatEvent | null {
  switch (msg.t) {
    case 'said':
      return { kind: 'public', from: msg.from, text: msg.text };
    case 'emote':
      return { kind: 'emote', from: msg.from, text: msg.text };
    case 'history':
      return { kind: 'history', action: msg.kind === 'me' ? 'me' : 'say', from: msg.from, text: msg.text, at: msg.at };
    case 'unsent':
      return { kind: 'notice', text: msg.reason };
    case 'private':
      return { kind: 'private', from: msg.from, text: msg.text };
    case 'joined':
      return { kind: 'joined', user: msg.user };
    case 'left':
      return { kind: 'left', user: msg.user };
    case 'online':
      return { kind: 'online', users: msg.users };
    case 'notice':
      return { kind: 'notice', text: msg.text };
    case 'refused':
    case 'bye':
      return { kind: 'notice', text: msg.reason };
    case 'welcome':
    case 'sent':
      return null;
  }
}
