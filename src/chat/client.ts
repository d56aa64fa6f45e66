/**
 * The chat client as a library: signs in over a `MessageChannel`, then turns server messages into
 * typed `ChatEvent`s and user actions into protocol messages. No terminal code here (render.ts
 * formats, cli/commands/chat.ts does the I/O).
 */
import { EventEmitter } from 'node:events';
import { SealwireError } from '../errors.js';
import type { MessageChannel } from './channel.js';
import { decodeServerMessage, encodeMessage, type ClientMessage, type ServerMessage } from './protocol.js';

export type ChatEvent =
  | { kind: 'public'; from: string; text: string }
  | { kind: 'private'; from: string; text: string }
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

/**
 * A signed-in chat client. `onEvent` receives every event (those that arrived before it was set
 * are delivered first); the `'close'` event carries the error that ended the session, or null.
 */
export class ChatClient extends EventEmitter {
  private handler: ((e: ChatEvent) => void) | null = null;
  private backlog: ChatEvent[] = [];
  private quitting = false;

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
        if (client) client.emit('close', error);
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
    send(this.channel, { t: 'say', text });
  }

  msg(to: string, text: string): void {
    send(this.channel, { t: 'msg', to, text });
  }

  who(): void {
    send(this.channel, { t: 'who' });
  }

  get closed(): boolean {
    return this.channel.closed;
  }

  /** Signs out and closes the session once everything sent has been delivered. Resolves on close. */
  quit(): Promise<void> {
    return new Promise((resolve) => {
      if (this.channel.closed) return resolve();
      this.once('close', () => resolve());
      if (this.quitting) return;
      this.quitting = true;
      send(this.channel, { t: 'quit' });
      this.channel.close();
    });
  }

  private receive(msg: ServerMessage): void {
    if (msg.t === 'bye') {
      // Show why, then close our side once our acknowledgements are out.
      this.deliver({ kind: 'notice', text: msg.reason });
      this.channel.close();
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
      return null;
  }
}
