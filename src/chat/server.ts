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
 * - The server stores accounts only, never message bodies, and logs no text and no password.
 */
import { EventEmitter } from 'node:events';
import { SealwireError } from '../errors.js';
import { hashPassword, verifyPassword, INTERACTIVE_COST, type PasswordCost } from '../crypto/password.js';
import type { AccountStore } from './store.js';
import type { MessageChannel } from './channel.js';
import { DEFAULT_LIMITS, MIN_PASSWORD_CHARS, RateLimiter, Semaphore, type ChatLimits } from './limits.js';
import { SignInThrottle, memoryThrottleStore, sourceOf, throttledReason, type ThrottlePolicy, type ThrottleStore } from './throttle.js';
import { escapeText, peerText } from '../text/escape.js';
import { NEW_USER_NAME, USER_NAME, decodeClientMessage, encodeMessage, isPrintable, type ClientMessage, type ServerMessage } from './protocol.js';

export interface ChatServerOptions {
  readonly store: AccountStore;
  readonly limits?: Partial<ChatLimits>;
  /** Milliseconds (default `performance.now`); drives the rate limiter. */
  readonly clock?: () => number;
  /** One line per event for the operator (never a message text or a password). */
  readonly log?: (line: string) => void;
  /** Argon2id cost of new password hashes (default: libsodium's interactive cost). */
  readonly passwordCost?: PasswordCost;
  /** Sign-in backoff (throttle.ts; defaults in DEFAULT_THROTTLE). */
  readonly throttle?: Partial<ThrottlePolicy>;
  /** Where the backoff state lives (default: this process's memory). */
  readonly throttleStore?: ThrottleStore;
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

type State = 'new' | 'authenticating' | 'member' | 'replaced' | 'closed';

interface Connection {
  readonly channel: MessageChannel;
  state: State;
  user: string | null;
}

const WRONG_CREDENTIALS = 'wrong user name or password';
/** How long the server keeps a session open after `quit` for the client to close it (ms). */
const QUIT_LINGER_MS = 10_000;

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
  private readonly hashing: Semaphore;
  private dummyHash: Promise<string> | undefined;
  private readonly throttle: SignInThrottle;
  /** Accounts whose throttled attempts were already logged since their last check. */
  private readonly quiet = new Set<string>();
  readonly signInStats: SignInStats = { attempts: 0, checked: 0, throttled: 0 };

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
    this.hashing = new Semaphore(this.limits.concurrentHashes, this.limits.maxWaitingSignIns);
    this.throttle = new SignInThrottle(options.throttleStore ?? memoryThrottleStore(), options.throttle);
  }

  /** Members signed in now, in sign-in order. */
  get online(): string[] {
    return [...this.members.values()].map((c) => c.user!);
  }

  /** Serves one client over `channel` (already authenticated as a sealwire session). */
  attach(channel: MessageChannel): void {
    const conn: Connection = { channel, state: 'new', user: null };
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
        this.log(`dropping ${this.who(conn)}: ${(e as Error).message}`);
        channel.destroy(e as SealwireError);
        return;
      }
      this.handle(conn, msg);
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
          conn.state = 'closed';
          this.closeAfterLinger(conn);
        } else {
          this.send(conn, { t: 'notice', text: 'sign in first' });
        }
        return;
      case 'authenticating':
        if (msg.t === 'quit') {
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

  private handleMember(conn: Connection, msg: ClientMessage): void {
    const user = conn.user!;
    switch (msg.t) {
      case 'signin':
      case 'signup':
        this.send(conn, { t: 'notice', text: `already signed in as ${user}` });
        return;
      case 'quit':
        this.signOut(conn);
        conn.state = 'closed';
        this.closeAfterLinger(conn);
        return;
      case 'who':
        if (!this.allow(conn)) return;
        this.send(conn, { t: 'online', users: this.online });
        return;
      case 'say': {
        if (!this.checkText(conn, msg.text) || !this.allow(conn, msg.text)) return;
        const out: ServerMessage = { t: 'said', from: user, text: msg.text };
        for (const m of this.members.values()) if (m !== conn) this.send(m, out);
        return;
      }
      case 'msg': {
        if (!this.checkText(conn, msg.text) || !this.allow(conn, msg.text)) return;
        const target = this.members.get(msg.to.toLowerCase());
        if (!target) {
          const known = USER_NAME.test(msg.to) && this.store.find(msg.to) !== undefined;
          this.send(conn, { t: 'notice', text: known ? `${msg.to} is not online; message not delivered` : `no user ${clip(msg.to)}; message not delivered` });
          return;
        }
        this.send(target, { t: 'private', from: user, text: msg.text });
        return;
      }
    }
  }

  private checkText(conn: Connection, text: string): boolean {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.limits.maxMessageBytes) {
      this.send(conn, { t: 'notice', text: `message too long (${bytes} bytes, limit ${this.limits.maxMessageBytes}); not delivered` });
      return false;
    }
    if (text.length === 0 || !isPrintable(text)) {
      this.send(conn, { t: 'notice', text: 'message empty or with control characters; not delivered' });
      return false;
    }
    return true;
  }

  /** Takes one message (and the text's bytes) from the user's rate limits, or says why not. */
  private allow(conn: Connection, text = ''): boolean {
    const key = conn.user!.toLowerCase();
    const now = this.clock();
    const bytes = Buffer.byteLength(text, 'utf8');
    if (!this.rateBytes.has(key, now, bytes)) {
      this.send(conn, {
        t: 'notice',
        text: `rate limit: more than ${this.limits.burstBytes} bytes at once or ${this.limits.bytesPerSecond} per second; message not delivered`,
      });
      return false;
    }
    if (this.rate.take(key, now)) {
      this.rateBytes.take(key, now, bytes);
      return true;
    }
    this.send(conn, {
      t: 'notice',
      text: `rate limit: more than ${this.limits.burst} messages at once or ${this.limits.ratePerSecond} per second; message not delivered`,
    });
    return false;
  }

  private async authenticate(conn: Connection, msg: { t: 'signin' | 'signup'; user: string; password: string }): Promise<void> {
    if (this.roomFull(msg.user)) {
      // Refused before any work (and before a sign-up creates the account); admit() checks again.
      this.refuse(conn, msg.t, this.fullReason());
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
      this.refuse(conn, msg.t, result.reason);
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
    this.refuse(conn, how, throttledReason(retryAfterMs), quiet);
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

  private refuse(conn: Connection, how: 'signin' | 'signup', reason: string, quiet = false): void {
    if (!quiet) this.log(`${how} refused for ${this.who(conn)}: ${reason}`);
    this.send(conn, { t: 'refused', reason });
    conn.state = 'closed';
    conn.channel.close();
  }

  private async signUp(user: string, password: string): Promise<{ ok: true; name: string } | { ok: false; reason: string }> {
    if (!NEW_USER_NAME.test(user)) return { ok: false, reason: "user names are 1-32 letters, digits, '_', '-' or '.', not starting with '-' or '.'" };
    if ([...password].length < MIN_PASSWORD_CHARS) return { ok: false, reason: `passwords need at least ${MIN_PASSWORD_CHARS} characters` };
    if (this.store.find(user)) return { ok: false, reason: `the name ${user} is taken` };
    const hash = await hashPassword(password, this.cost);
    if (!this.store.create(user, hash, Date.now())) return { ok: false, reason: `the name ${user} is taken` };
    return { ok: true, name: user };
  }

  private async signIn(user: string, password: string): Promise<{ ok: true; name: string } | { ok: false; reason: string }> {
    const account = USER_NAME.test(user) ? this.store.find(user) : undefined;
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
      this.send(previous, { t: 'bye', reason: `${name} signed in from another session; this one is closed` });
      previous.channel.close();
      this.members.delete(key);
      this.members.set(key, conn);
    } else {
      this.members.set(key, conn);
      for (const m of this.members.values()) if (m !== conn) this.send(m, { t: 'joined', user: name });
    }
    this.log(`${name} ${how === 'signup' ? 'signed up and ' : ''}signed in from ${this.who(conn)}${previous ? ' (replacing an older session)' : ''}`);
    this.send(conn, { t: 'welcome', user: name, online: this.online });
    this.rate.prune(this.clock());
    this.rateBytes.prune(this.clock());
  }

  private signOut(conn: Connection): void {
    if (conn.state !== 'member' || !conn.user) return;
    const key = conn.user.toLowerCase();
    if (this.members.get(key) !== conn) return;
    this.members.delete(key);
    this.log(`${conn.user} signed out`);
    for (const m of this.members.values()) this.send(m, { t: 'left', user: conn.user });
  }

  private send(conn: Connection, msg: ServerMessage): void {
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
