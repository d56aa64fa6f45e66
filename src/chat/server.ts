/**
 * The chat room server: accounts, presence, public and private messages, limits. It sees only
 * `MessageChannel`s (channel.ts), so the same logic serves TCP and UDP sessions; `listenChat`
 * wires it to a sealwire server.
 *
 * Choices (docs/CHAT.md says them to users):
 * - One room. Signing in joins it; `maxMembers` bounds who can be in it at once.
 * - Signing in twice: the newer session takes over. The older one gets a notice and is closed;
 *   the others see no leave/join, since the user never left.
 * - A wrong user name and a wrong password get the same answer, and an unknown name still costs a
 *   hash, so answers do not tell which names exist. A refused sign-in closes the session.
 * - The server keeps the room's last messages (history: `history.keep`, default 200, 0 for none)
 *   and shows the newest (`history.shown`, default 50) to a member who signs in, before live
 *   traffic; a private message to an offline account waits (at most `maxOffline` per recipient)
 *   and is delivered at that member's next sign-in. Both live in a `MessageStore` (history.ts).
 * - Every `say`, `me` and `msg` is answered with `sent` or `unsent`, in order: each member's
 *   messages are handled one after another, even when the store answers asynchronously.
 * - A message too large for the protocol is answered with `unsent`; the session goes on.
 * - The server logs no text and no password.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { SealwireError } from '../errors.js';
import { hashPassword, verifyPassword, INTERACTIVE_COST, type PasswordCost } from '../crypto/password.js';
import type { AccountStore } from './store.js';
import { memoryMessageStore, type MessageStore } from './history.js';
import type { MessageChannel } from './channel.js';
import { DEFAULT_LIMITS, MIN_PASSWORD_CHARS, RateLimiter, Semaphore, type ChatLimits, type RateStore } from './limits.js';
import { SignInThrottle, memoryThrottleStore, sourceOf, throttledReason, type ThrottlePolicy, type ThrottleStore } from './throttle.js';
import { escapeText, peerText } from '../text/escape.js';
import { BYE_REPLACED, NEW_USER_NAME, USER_NAME, decodeClientMessage, encodeMessage, isPrintable, type ClientMessage, type ServerMessage } from './protocol.js';

/** Messages the room keeps by default (`--history N`). */
export const DEFAULT_HISTORY_KEEP = 200;
/** Of those, how many a member sees on signing in. */
export const DEFAULT_HISTORY_SHOWN = 50;
/** Private messages that may wait for one offline member. */
export const DEFAULT_MAX_OFFLINE = 100;

export interface ChatServerOptions {
  readonly store: AccountStore;
  readonly limits?: Partial<ChatLimits>;
  /** Milliseconds (default `performance.now`); drives the rate limiter. */
  readonly clock?: () => number;
  /** One line per event for the operator (never a message text or a password). */
  readonly log?: (line: string) => void;
  /** Argon2id cost of new password hashes (default: libsodium's interactive cost). */
  readonly passwordCost?: PasswordCost;
  /** History and offline messages (default: in memory). */
  readonly messages?: MessageStore;
  /** Messages kept (default 200; 0 keeps none) and shown at sign-in (default 50). */
  readonly history?: { readonly keep?: number; readonly shown?: number };
  /** Private messages that may wait for one offline member (default 100). */
  readonly maxOffline?: number;
  /** Wall-clock milliseconds since the epoch, for history times (default `Date.now`). */
  readonly now?: () => number;
  /**
   * Other chat servers sharing this room (pg/cluster.ts): public messages, /me, private messages
   * and presence go through it, so members of every server form one room. Default: this server alone.
   */
  readonly cluster?: ClusterLink;
  /** Sign-in backoff (throttle.ts; defaults in DEFAULT_THROTTLE). */
  readonly throttle?: Partial<ThrottlePolicy>;
  /** Where the backoff state lives (default: this process's memory). */
  readonly throttleStore?: ThrottleStore;
  /**
   * Where a member's rate buckets are kept when they leave this server (sign-out, session lost,
   * signed in elsewhere, shutdown) and read back at sign-in, so that moving to another server of
   * the room does not refill them. Never touched per message. Default: none (this process only).
   */
  readonly rateStore?: RateStore;
}

/** Counters of sign-in attempts, for tests and the operator. */
export interface SignInStats {
  /** Sign-in attempts received. */
  attempts: number;
  /** Attempts whose password was checked (one Argon2 verification each). */
  checked: number;
  /** Attempts answered "too many attempts" without a check. */
  throttled: number;
}

/** An event of the room as the cluster delivers it to every server, the one that stored it too. */
export interface ClusterRoomEvent {
  readonly kind: 'say' | 'me' | 'private' | 'joined' | 'left' | 'takeover';
  /** The sender, or the member joining, leaving or taken over. */
  readonly user: string;
  /** Private: the recipient; takeover: the session that now holds `user`. */
  readonly to: string | null;
  readonly text: string | null;
}

/** What the chat server needs from the link to the other servers (implemented by pg/cluster.ts). */
export interface ClusterLink {
  publish(kind: 'say' | 'me' | 'private', user: string, to: string | null, text: string | null): void;
  /** Records `user` as signed in here with `session`; stores a joined or takeover event. */
  claim(user: string, session: string): Promise<void>;
  /** Records that `session` of `user` signed out; stores a left event if it still held the user. */
  release(user: string, session: string): void;
  online(): Promise<string[]>;
  isOnline(user: string): Promise<boolean>;
  on(event: 'event', listener: (e: ClusterRoomEvent) => void): unknown;
  on(event: 'reregistered', listener: () => void): unknown;
}

type State = 'new' | 'authenticating' | 'member' | 'replaced' | 'closed';

interface Connection {
  readonly channel: MessageChannel;
  state: State;
  user: string | null;
  /** The member's messages are handled in order, one after the other (the store is async). */
  queue: Promise<void>;
  /** While history and offline messages load, live messages wait here; null once delivered. */
  held: ServerMessage[] | null;
  /** With a cluster: this session's id in the presence table. */
  session?: string;
  /** When (performance.now) this session took the user over from another server, if it did. */
  handover?: number;
}

const WRONG_CREDENTIALS = 'wrong user name or password';
/** The `bye` that confirms a `quit`: the client knows its sign-out arrived. */
const SIGNED_OUT = 'signed out';
/** How long the server keeps a session open after `quit` for the client to close it (ms). */
const QUIT_LINGER_MS = 10_000;
/** How long a sign-in that took the user over from another server waits for that server to save
 * the user's rate buckets (ms); the member's messages wait meanwhile, the welcome does not. */
const RATE_HANDOVER_MS = 3000;

export class ChatServer extends EventEmitter {
  readonly limits: ChatLimits;
  private readonly store: AccountStore;
  private readonly clock: () => number;
  private readonly log: (line: string) => void;
  private readonly cost: PasswordCost;
  private readonly members = new Map<string, Connection>();
  private readonly connections = new Set<Connection>();
  private readonly rate: RateLimiter;
  private readonly rateBytes: RateLimiter;
  private readonly rateStore: RateStore | undefined;
  /** Bucket saves in flight (awaited by `close`). */
  private readonly rateSaves = new Set<Promise<void>>();
  private readonly hashing: Semaphore;
  private dummyHash: Promise<string> | undefined;
  private readonly throttle: SignInThrottle;
  /** Accounts whose throttled attempts were already logged since their last check. */
  private readonly quiet = new Set<string>();
  readonly signInStats: SignInStats = { attempts: 0, checked: 0, throttled: 0 };
  private readonly messages: MessageStore;
  private readonly historyKeep: number;
  private readonly historyShown: number;
  private readonly maxOffline: number;
  private readonly now: () => number;
  private readonly cluster: ClusterLink | undefined;

  constructor(options: ChatServerOptions) {
    super();
    this.store = options.store;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clock = options.clock ?? (() => performance.now());
    // Every log line may carry a peer's string (a field name, a reason): escaped here, once.
    const sink = options.log ?? (() => {});
    this.log = (line) => sink(escapeText(line));
    this.cost = options.passwordCost ?? INTERACTIVE_COST;
    this.rate = new RateLimiter(this.limits.ratePerSecond, this.limits.burst);
    this.rateBytes = new RateLimiter(this.limits.bytesPerSecond, this.limits.burstBytes);
    this.rateStore = options.rateStore;
    this.hashing = new Semaphore(this.limits.concurrentHashes, this.limits.maxWaitingSignIns);
    this.throttle = new SignInThrottle(options.throttleStore ?? memoryThrottleStore(), options.throttle);
    this.messages = options.messages ?? memoryMessageStore();
    this.historyKeep = Math.max(0, options.history?.keep ?? DEFAULT_HISTORY_KEEP);
    this.historyShown = Math.min(this.historyKeep, Math.max(0, options.history?.shown ?? DEFAULT_HISTORY_SHOWN));
    this.maxOffline = options.maxOffline ?? DEFAULT_MAX_OFFLINE;
    this.now = options.now ?? Date.now;
    this.cluster = options.cluster;
    this.cluster?.on('event', (e) => this.onClusterEvent(e));
    this.cluster?.on('reregistered', () => {
      for (const m of this.members.values()) void this.cluster!.claim(m.user!, m.session!);
    });
  }

  /** Delivers a cluster event to this server's members. */
  private onClusterEvent(e: ClusterRoomEvent): void {
    const key = e.user.toLowerCase();
    switch (e.kind) {
      case 'say':
      case 'me': {
        const out: ServerMessage = e.kind === 'say' ? { t: 'said', from: e.user, text: e.text ?? '' } : { t: 'emote', from: e.user, text: e.text ?? '' };
        for (const [k, m] of this.members) if (k !== key) this.send(m, out);
        return;
      }
      case 'private': {
        const target = e.to === null ? undefined : this.members.get(e.to.toLowerCase());
        if (target) this.send(target, { t: 'private', from: e.user, text: e.text ?? '' });
        return;
      }
      case 'joined':
      case 'left':
        for (const [k, m] of this.members) if (k !== key) this.send(m, { t: e.kind, user: e.user });
        return;
      case 'takeover': {
        // The user signed in again, maybe on another server: a session of theirs here that is not
        // the new one is closed, as within one server (nobody else is told anything).
        const old = this.members.get(key);
        if (!old || old.session === e.to) return;
        old.state = 'replaced';
        this.send(old, { t: 'bye', reason: `${old.user!} ${BYE_REPLACED}; this one is closed` });
        old.channel.close();
        this.members.delete(key);
        this.saveRate(old.user!);
        this.log(`${old.user!} signed in on another chat server; the session here is closed`);
        return;
      }
    }
  }

  /** Members signed in now, in sign-in order. */
  get online(): string[] {
    return [...this.members.values()].map((c) => c.user!);
  }

  /** Serves one client over `channel` (already authenticated as a sealwire session). */
  attach(channel: MessageChannel): void {
    const conn: Connection = { channel, state: 'new', user: null, queue: Promise.resolve(), held: null };
    this.connections.add(conn);
    const deadline = setTimeout(() => {
      if (conn.state !== 'new' && conn.state !== 'authenticating') return;
      this.log(`closing ${this.who(conn)}: no sign-in within ${this.limits.signInTimeoutMs} ms`);
      conn.state = 'closed';
      channel.destroy(new SealwireError('TIMEOUT', 'no sign-in in time'));
    }, this.limits.signInTimeoutMs);
    deadline.unref();
    channel.on('message', (bytes) => {
      let msg: ClientMessage;
      try {
        msg = decodeClientMessage(bytes);
      } catch (e) {
        if (e instanceof SealwireError && e.code === 'TOO_LARGE') {
          // Whole, authenticated, just too big: say so and keep the session.
          this.log(`refusing a message from ${this.who(conn)}: ${e.message}`);
          this.enqueue(conn, () => this.unsent(conn, `message too long (${bytes.length} bytes); not delivered`));
          return;
        }
        this.log(`dropping ${this.who(conn)}: ${(e as Error).message}`);
        channel.destroy(e as SealwireError);
        return;
      }
      if (conn.state === 'member') this.enqueue(conn, () => this.handleMember(conn, msg));
      else this.handle(conn, msg);
    });
    channel.once('close', (error) => {
      clearTimeout(deadline);
      this.connections.delete(conn);
      if (error) this.log(`session ${this.who(conn)} failed: ${error.message} [${error.code}]`);
      this.signOut(conn);
      conn.state = 'closed';
    });
  }

  /**
   * Says goodbye to every session and closes it (sign-outs are not announced). Resolves once all
   * have closed; sessions still open after `graceMs` are dropped.
   */
  close(graceMs = 2000): Promise<void> {
    const open = [...this.connections].filter((c) => !c.channel.closed);
    const closed = open.map((c) => new Promise<void>((resolve) => c.channel.once('close', () => resolve())));
    for (const m of this.members.values()) this.saveRate(m.user!);
    closed.push(...this.rateSaves);
    for (const c of open) {
      c.state = 'closed';
      this.send(c, { t: 'bye', reason: 'the server is shutting down' });
      c.channel.close();
    }
    this.members.clear();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const c of open) c.channel.destroy();
        resolve();
      }, graceMs);
    });
    return Promise.race([Promise.all(closed).then(() => undefined), grace]).finally(() => clearTimeout(timer));
  }

  private handle(conn: Connection, msg: ClientMessage): void {
    switch (conn.state) {
      case 'new':
        if (msg.t === 'signin' || msg.t === 'signup') {
          conn.state = 'authenticating';
          void this.authenticate(conn, msg);
        } else if (msg.t === 'quit') {
          this.send(conn, { t: 'bye', reason: SIGNED_OUT });
          conn.state = 'closed';
          this.closeAfterLinger(conn);
        } else {
          this.send(conn, { t: 'notice', text: 'sign in first' });
        }
        return;
      case 'authenticating':
        if (msg.t === 'quit') {
          this.send(conn, { t: 'bye', reason: SIGNED_OUT });
          conn.state = 'closed';
          this.closeAfterLinger(conn);
        } else this.send(conn, { t: 'notice', text: 'sign-in in progress' });
        return;
      case 'member':
        this.handleMember(conn, msg);
        return;
      case 'replaced':
      case 'closed':
        return;
    }
  }

  /** Runs `step` after the member's earlier messages have been handled. */
  private enqueue(conn: Connection, step: () => void | Promise<void>): void {
    conn.queue = conn.queue
      .then(step)
      .catch((e: unknown) => this.log(`handling a message from ${this.who(conn)} failed: ${(e as Error).message}`));
  }

  private async handleMember(conn: Connection, msg: ClientMessage): Promise<void> {
    if (conn.state !== 'member') return;
    const user = conn.user!;
    switch (msg.t) {
      case 'signin':
      case 'signup':
        this.send(conn, { t: 'notice', text: `already signed in as ${user}` });
        return;
      case 'quit':
        this.signOut(conn);
        this.send(conn, { t: 'bye', reason: SIGNED_OUT });
        conn.state = 'closed';
        this.closeAfterLinger(conn);
        return;
      case 'who':
        if (!this.allow(conn, null)) return;
        this.send(conn, { t: 'online', users: this.cluster ? await this.cluster.online() : this.online });
        return;
      case 'say':
      case 'me': {
        if (!this.checkText(conn, msg.text) || !this.allow(conn, msg.text)) return;
        const out: ServerMessage = msg.t === 'say' ? { t: 'said', from: user, text: msg.text } : { t: 'emote', from: user, text: msg.text };
        if (this.cluster) this.cluster.publish(msg.t, user, null, msg.text);
        else for (const m of this.members.values()) if (m !== conn) this.send(m, out);
        this.send(conn, { t: 'sent' });
        await this.messages.appendHistory({ kind: msg.t, from: user, text: msg.text, at: this.now() }, this.historyKeep);
        return;
      }
      case 'msg': {
        if (!this.checkText(conn, msg.text) || !this.allow(conn, msg.text)) return;
        if (this.cluster && (await this.cluster.isOnline(msg.to))) {
          // Delivered by the server the recipient is signed in on, from the cluster's event.
          this.cluster.publish('private', user, msg.to, msg.text);
          this.send(conn, { t: 'sent' });
          return;
        }
        const target = this.cluster ? undefined : this.members.get(msg.to.toLowerCase());
        if (target) {
          this.send(target, { t: 'private', from: user, text: msg.text });
          this.send(conn, { t: 'sent' });
          return;
        }
        const account = USER_NAME.test(msg.to) ? await this.store.find(msg.to) : undefined;
        if (!account) {
          this.unsent(conn, `no user ${clip(msg.to)}; message not delivered`);
          return;
        }
        if (!(await this.messages.queueOffline(account.name, { from: user, text: msg.text, at: this.now() }, this.maxOffline))) {
          this.unsent(conn, `${account.name} has ${this.maxOffline} messages waiting already; message not delivered`);
          return;
        }
        this.send(conn, { t: 'sent' });
        this.send(conn, { t: 'notice', text: `${account.name} is offline; delivered when ${account.name} signs in` });
        return;
      }
      case 'passwd':
        await this.changePassword(conn, msg.old, msg.new);
        return;
    }
  }

  private unsent(conn: Connection, reason: string): void {
    this.send(conn, { t: 'unsent', reason });
  }

  /** `/passwd`: checks the old password again, then stores the new one's hash. */
  private async changePassword(conn: Connection, oldPassword: string, newPassword: string): Promise<void> {
    const user = conn.user!;
    if ([...newPassword].length < MIN_PASSWORD_CHARS) {
      this.send(conn, { t: 'notice', text: `password not changed: passwords need at least ${MIN_PASSWORD_CHARS} characters` });
      return;
    }
    const job = this.hashing.run(async () => {
      const account = await this.store.find(user);
      if (!account || !(await verifyPassword(account.passwordHash, oldPassword))) return 'wrong';
      return (await this.store.setPassword(user, await hashPassword(newPassword, this.cost))) ? 'changed' : 'wrong';
    });
    let result: string;
    try {
      result = job ? await job : 'busy';
    } catch (e) {
      this.log(`password change failed on the server: ${(e as Error).message}`);
      result = 'error';
    }
    this.log(`password change for ${user}: ${result}`);
    const text = { changed: 'password changed', wrong: 'password not changed: the current password is wrong', busy: 'password not changed: server busy; try again later' }[result] ?? 'password not changed: server error';
    this.send(conn, { t: 'notice', text });
  }

  private checkText(conn: Connection, text: string): boolean {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.limits.maxMessageBytes) {
      this.unsent(conn, `message too long (${bytes} bytes, limit ${this.limits.maxMessageBytes}); not delivered`);
      return false;
    }
    // A tab is kept (clients show it as spaces); other control characters are refused.
    if (text.length === 0 || !isPrintable(text.replace(/\t/g, ' '))) {
      this.unsent(conn, 'message empty or with control characters; not delivered');
      return false;
    }
    return true;
  }

  /**
   * Takes one message (and `text`'s bytes) from the user's rate limits; else refuses: `unsent` for
   * a message, a notice for a command (`text` null).
   */
  private allow(conn: Connection, text: string | null): boolean {
    const key = conn.user!.toLowerCase();
    const now = this.clock();
    const bytes = Buffer.byteLength(text ?? '', 'utf8');
    let refusal: string;
    if (!this.rateBytes.has(key, now, bytes)) {
      refusal = `rate limit: more than ${this.limits.burstBytes} bytes at once or ${this.limits.bytesPerSecond} per second; message not delivered`;
    } else if (this.rate.take(key, now)) {
      this.rateBytes.take(key, now, bytes);
      return true;
    } else {
      refusal = `rate limit: more than ${this.limits.burst} messages at once or ${this.limits.ratePerSecond} per second; message not delivered`;
    }
    if (text !== null) this.unsent(conn, refusal);
    else this.send(conn, { t: 'notice', text: refusal });
    return false;
  }

  private async authenticate(conn: Connection, msg: { t: 'signin' | 'signup'; user: string; password: string }): Promise<void> {
    if (this.roomFull(msg.user)) {
      // Refused before any work (and before a sign-up creates the account); admit() checks again.
      this.refuse(conn, msg.t, this.fullReason(), msg.user);
      return;
    }
    // The backoff (throttle.ts): waits after failures, one check in flight per account (per known
    // device), a bounded number per source. Unknown and malformed names are throttled like real ones.
    const name = USER_NAME.test(msg.user) ? msg.user.toLowerCase() : '?';
    const account = `${msg.t === 'signup' ? '+' : ''}${name}`;
    const source = sourceOf(conn.channel.remote);
    const device = conn.channel.peerPublicKey?.fingerprint;
    let slot = account;
    if (msg.t === 'signin') {
      this.signInStats.attempts++;
      const verdict = await this.throttle.check(account, source, this.clock(), device);
      if (!verdict.ok) return this.refuseThrottled(conn, msg.t, account, verdict.retryAfterMs);
      slot = verdict.slot;
    }
    // No await between check and begin: a parallel attempt finds the slot taken.
    const gate = this.throttle.begin(slot, source);
    if (!gate.ok) return this.refuseThrottled(conn, msg.t, account, gate.retryAfterMs);
    let result: { ok: true; name: string } | { ok: false; reason: string };
    try {
      if (msg.t === 'signin') this.quiet.delete(account);
      result = await this.hashJob(msg);
      // A sign-up or sign-in that succeeds makes this device and source known for the account.
      if (result.ok) await this.throttle.succeeded(name, source, this.clock(), device);
      else if (msg.t === 'signin' && result.reason === WRONG_CREDENTIALS) await this.throttle.failed(account, source, this.clock(), device);
    } finally {
      this.throttle.end(slot, source);
    }
    if (conn.state !== 'authenticating') return; // the session went away meanwhile
    if (!result.ok) {
      this.refuse(conn, msg.t, result.reason, msg.user);
      return;
    }
    this.admit(conn, result.name, msg.t);
  }

  /** Runs the sign-up or sign-in in the shared hash queue. */
  private async hashJob(msg: { t: 'signin' | 'signup'; user: string; password: string }): Promise<{ ok: true; name: string } | { ok: false; reason: string }> {
    const job = this.hashing.run(() => (msg.t === 'signup' ? this.signUp(msg.user, msg.password) : this.signIn(msg.user, msg.password)));
    if (!job) return { ok: false, reason: 'server busy; try again later' };
    try {
      return await job;
    } catch (e) {
      this.log(`sign-in failed on the server: ${(e as Error).message}`);
      return { ok: false, reason: 'server error' };
    }
  }

  /** Answers an attempt the backoff refused; logs only the first per account until its next check. */
  private refuseThrottled(conn: Connection, how: 'signin' | 'signup', account: string, retryAfterMs: number): void {
    this.signInStats.throttled++;
    const quiet = this.quiet.has(account);
    if (!quiet) {
      this.quiet.add(account);
      if (this.quiet.size > 10_000) this.quiet.delete(this.quiet.values().next().value!);
    }
    if (conn.state !== 'authenticating') return;
    this.refuse(conn, how, throttledReason(retryAfterMs), account.replace(/^\+/, ''), quiet);
  }

  /**
   * After `quit` the client closes the session once its messages are acknowledged. The server
   * waits for that instead of closing first: over UDP, closing at once could strand the client's
   * retransmission of `quit` if our acknowledgement was lost. It drops the session after a while
   * regardless.
   */
  private closeAfterLinger(conn: Connection): void {
    setTimeout(() => conn.channel.destroy(), QUIT_LINGER_MS).unref();
  }

  private roomFull(user: string): boolean {
    return this.members.size >= this.limits.maxMembers && !this.members.has(user.toLowerCase());
  }

  private fullReason(): string {
    return `the room is full (at most ${this.limits.maxMembers} signed in)`;
  }

  private refuse(conn: Connection, how: 'signin' | 'signup', reason: string, account?: string, quiet = false): void {
    const tried = account === undefined ? '' : ` (account ${JSON.stringify(clip(account))})`;
    if (!quiet) this.log(`${how} refused for ${this.who(conn)}${tried}: ${reason}`);
    this.send(conn, { t: 'refused', reason });
    conn.state = 'closed';
    conn.channel.close();
  }

  private async signUp(user: string, password: string): Promise<{ ok: true; name: string } | { ok: false; reason: string }> {
    if (!NEW_USER_NAME.test(user)) return { ok: false, reason: "user names are 1-32 letters, digits, '_', '-' or '.', not starting with '-' or '.'" };
    if ([...password].length < MIN_PASSWORD_CHARS) return { ok: false, reason: `passwords need at least ${MIN_PASSWORD_CHARS} characters` };
    if (await this.store.find(user)) return { ok: false, reason: `the name ${user} is taken` };
    const hash = await hashPassword(password, this.cost);
    if (!(await this.store.create(user, hash, Date.now()))) return { ok: false, reason: `the name ${user} is taken` };
    return { ok: true, name: user };
  }

  private async signIn(user: string, password: string): Promise<{ ok: true; name: string } | { ok: false; reason: string }> {
    const account = USER_NAME.test(user) ? await this.store.find(user) : undefined;
    this.signInStats.checked++;
    if (!account) {
      // Spend the same work as for a real account, so timing does not reveal which names exist.
      await verifyPassword(await (this.dummyHash ??= hashPassword('not a real password', this.cost)), password);
      return { ok: false, reason: WRONG_CREDENTIALS };
    }
    if (!(await verifyPassword(account.passwordHash, password))) return { ok: false, reason: WRONG_CREDENTIALS };
    return { ok: true, name: account.name };
  }

  private admit(conn: Connection, name: string, how: 'signin' | 'signup'): void {
    const key = name.toLowerCase();
    const previous = this.members.get(key);
    if (!previous && this.roomFull(name)) {
      this.refuse(conn, how, this.fullReason());
      return;
    }
    conn.user = name;
    conn.state = 'member';
    if (previous) {
      // The newer session takes over; the user never left, so nobody else is told anything.
      previous.state = 'replaced';
      this.send(previous, { t: 'bye', reason: `${name} ${BYE_REPLACED}; this one is closed` });
      previous.channel.close();
      this.members.delete(key);
      this.members.set(key, conn);
    } else {
      this.members.set(key, conn);
      if (!this.cluster) for (const m of this.members.values()) if (m !== conn) this.send(m, { t: 'joined', user: name });
    }
    this.log(`${name} ${how === 'signup' ? 'signed up and ' : ''}signed in from ${this.who(conn)}${previous ? ' (replacing an older session)' : ''}`);
    this.rate.prune(this.clock());
    this.rateBytes.prune(this.clock());
    const cluster = this.cluster;
    if (!cluster) this.send(conn, { t: 'welcome', user: name, online: this.online });
    conn.held = [];
    if (cluster) {
      // Presence is recorded (joined or takeover, for every server) before the welcome lists who is in.
      conn.session = randomBytes(9).toString('base64url');
      this.enqueue(conn, async () => {
        // Signed in on another server still: that one saves the buckets once it sees this claim.
        if (this.rateStore && !previous && (await cluster.isOnline(name))) conn.handover = performance.now();
        await cluster.claim(name, conn.session!);
        this.sendNow(conn, { t: 'welcome', user: name, online: await cluster.online() });
      });
    }
    this.enqueue(conn, () => this.catchUp(conn, name));
    if (this.rateStore) this.enqueue(conn, () => this.loadRate(this.rateStore!, name, conn.handover));
  }

  /** Saves `user`'s buckets (both limiters, as of now) to the rate store, if there is one. */
  private saveRate(user: string): void {
    if (!this.rateStore) return;
    const key = user.toLowerCase();
    const now = this.clock();
    const snapshot = { messages: this.rate.export(key, now).tokens, bytes: this.rateBytes.export(key, now).tokens };
    const saving = this.rateStore
      .save(key, snapshot)
      .catch((e: unknown) => this.log(`saving the rate limits of ${user} failed: ${(e as Error).message}`))
      .finally(() => this.rateSaves.delete(saving));
    this.rateSaves.add(saving);
  }

  /**
   * At sign-in, before the member's first message: takes the buckets saved by the server they
   * last left, refilled for the time since (the store's clock), where they hold fewer tokens than
   * this server's own (a session replaced here left its buckets here, not in the store). After a
   * takeover from another server (`handover`), waits a while for that server's save.
   */
  private async loadRate(store: RateStore, user: string, handover?: number): Promise<void> {
    const key = user.toLowerCase();
    let saved: Awaited<ReturnType<RateStore['load']>>;
    try {
      for (;;) {
        saved = await store.load(key);
        if (handover === undefined) break;
        const since = performance.now() - handover;
        if ((saved && saved.ageMs <= since) || since >= RATE_HANDOVER_MS) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } catch (e) {
      this.log(`loading the rate limits of ${user} failed: ${(e as Error).message}`);
      return;
    }
    if (!saved) return;
    const now = this.clock();
    const at = now - Math.max(0, Number.isFinite(saved.ageMs) ? saved.ageMs : 0);
    for (const [limiter, tokens] of [
      [this.rate, saved.messages],
      [this.rateBytes, saved.bytes],
    ] as const) {
      const mine = limiter.export(key, now);
      limiter.import(key, { tokens, at });
      if (limiter.export(key, now).tokens > mine.tokens) limiter.import(key, mine);
    }
  }

  /** After `welcome`: the room's recent history, then private messages that waited, then live traffic. */
  private async catchUp(conn: Connection, name: string): Promise<void> {
    try {
      const history = await this.messages.recentHistory(this.historyShown);
      for (const h of history) this.sendNow(conn, { t: 'history', kind: h.kind, from: h.from, text: h.text, at: new Date(h.at).toISOString() });
      if (conn.state === 'member') {
        const waiting = await this.messages.takeOffline(name);
        for (const m of waiting) this.sendNow(conn, { t: 'private', from: m.from, text: m.text });
        if (waiting.length > 0) this.log(`${name}: delivered ${waiting.length} message(s) that waited`);
      }
    } finally {
      const held = conn.held ?? [];
      conn.held = null;
      for (const m of held) this.sendNow(conn, m);
    }
  }

  private signOut(conn: Connection): void {
    if (conn.state !== 'member' || !conn.user) return;
    const key = conn.user.toLowerCase();
    if (this.members.get(key) !== conn) return;
    this.members.delete(key);
    this.saveRate(conn.user);
    this.log(`${conn.user} signed out`);
    if (this.cluster) this.cluster.release(conn.user, conn.session!);
    else for (const m of this.members.values()) this.send(m, { t: 'left', user: conn.user });
  }

  private send(conn: Connection, msg: ServerMessage): void {
    if (conn.held) conn.held.push(msg);
    else this.sendNow(conn, msg);
  }

  private sendNow(conn: Connection, msg: ServerMessage): void {
    conn.channel.send(encodeMessage(msg));
  }

  private who(conn: Connection): string {
    const fp = conn.channel.peerPublicKey?.fingerprint;
    return `${conn.user ?? 'anonymous'}@${conn.channel.remote}${fp ? ` (${fp})` : ''}`;
  }
}

function clip(s: string): string {
  return peerText(s, 32);
}
