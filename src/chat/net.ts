/**
 * Wires the chat to sealwire's public session API: `listenChat` runs a `ChatServer` behind
 * `createServer`, `connectChat` dials with `connect` and signs in. TCP sessions become chat
 * channels through `streamChannel`, UDP sessions through `reliableChannel`.
 */
import { createServer, connect, type SealwireServer, type UdpServer, type UdpOptions } from '../index.js';
import type { ConnectOptions, ServerOptions } from '../options.js';
import type { SealwireError } from '../errors.js';
import type { ServerTrust } from '../transport/secure-session.js';
import { ChatServer, type ChatServerOptions } from './server.js';
import { escapeText } from '../text/escape.js';
import { ChatClient, type Credentials } from './client.js';
import type { AccountStore, ChatDatabase } from './store.js';
import { reliableChannel, streamChannel, type MessageChannel, type ReliableChannelOptions } from './channel.js';
import { DEFAULT_LIMITS } from './limits.js';

export type ChatTransport = 'tcp' | 'udp';
/** The chat's transport unless told otherwise: UDP, with the chat's own reliability layer. */
export const DEFAULT_CHAT_TRANSPORT: ChatTransport = 'udp';

export interface ChatListenOptions extends Omit<ChatServerOptions, 'store'> {
  /** The accounts (with `messages` for history and offline messages); or give `openDatabase`. */
  readonly store?: AccountStore;
  /**
   * Opens the database once the server listens (so a server that cannot listen creates none); the
   * listener closes it. Sessions that arrive meanwhile wait.
   */
  readonly openDatabase?: () => ChatDatabase | Promise<ChatDatabase>;
  readonly server: Omit<ServerOptions, 'transport'>;
  readonly transport?: ChatTransport;
  readonly host?: string;
  readonly port?: number;
  /** Options of the reliability layer on UDP (tests shorten the timers). */
  readonly reliable?: ReliableChannelOptions;
  /** UDP session options (idle timeout, keepalive). */
  readonly udp?: UdpOptions;
}

export interface ChatListener {
  readonly chat: ChatServer;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts a chat server; resolves once it listens. Rejects with `IO` (one line: the address and
 * the system's reason) when it cannot listen: port in use, address not on this host, unknown name.
 */
export async function listenChat(options: ChatListenOptions): Promise<ChatListener> {
  if (!options.store && !options.openDatabase) throw new TypeError('listenChat: give store or openDatabase');
  // Handshake errors carry peer-influenced text: escaped like the chat server's own lines.
  const log = (line: string): void => options.log?.(escapeText(line));
  const maxBuffered = { ...DEFAULT_LIMITS, ...options.limits }.maxBufferedBytes;
  const onHandshakeError = (err: SealwireError): void => log(`handshake failed: ${err.message} [${err.code}]`);
  // Chat users authenticate by password, not by key: the chat accepts any client key unless its
  // caller names a client policy (docs/CHAT.md).
  const serverOptions = { anyClient: true, ...options.server };
  let chat: ChatServer | null = null;
  const early: MessageChannel[] = [];
  const attach = (channel: MessageChannel): void => (chat ? chat.attach(channel) : void early.push(channel));
  let server: SealwireServer | UdpServer;
  if ((options.transport ?? DEFAULT_CHAT_TRANSPORT) === 'udp') {
    const udp = createServer({ ...serverOptions, ...options.udp, transport: 'udp' }, (session) => attach(reliableChannel(session, { maxBufferedBytes: maxBuffered, ...options.reliable })));
    udp.on('handshakeError', onHandshakeError);
    server = udp;
  } else {
    const tcp = createServer({ ...serverOptions, transport: 'tcp' }, (session) => attach(streamChannel(session, maxBuffered)));
    tcp.on('handshakeError', onHandshakeError);
    server = tcp;
  }
  // Listen errors reject listen(); this listener only keeps them from also being thrown as an
  // unhandled 'error' event. After listen, errors (accept failures such as EMFILE) are logged.
  let listening = false;
  server.on('error', (err: SealwireError) => {
    if (listening) log(`server: ${err.message} [${err.code}]`);
  });
  const addr = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  listening = true;
  let database: ChatDatabase | null = null;
  if (options.openDatabase) {
    try {
      database = await options.openDatabase();
    } catch (e) {
      await server.close();
      throw e;
    }
  }
  const store = database?.accounts ?? options.store!;
  const running = new ChatServer({
    ...options,
    store,
    messages: database?.messages ?? options.messages,
    throttleStore: database?.throttle ?? options.throttleStore,
    rateStore: database?.rate ?? options.rateStore,
    cluster: database?.cluster ?? options.cluster,
  });
  chat = running;
  for (const channel of early.splice(0)) running.attach(channel);
  return {
    chat: running,
    host: addr.address,
    port: addr.port,
    close: async () => {
      await running.close();
      await server.close();
      await database?.close();
    },
  };
}

/** How the server's key was trusted, told before the password leaves. */
export interface ServerIdentity {
  readonly trust: ServerTrust | undefined;
  readonly fingerprint: string | null;
}

export interface ChatConnectOptions extends Omit<ConnectOptions, 'transport'> {
  readonly transport?: ChatTransport;
  readonly reliable?: ReliableChannelOptions;
  readonly udp?: UdpOptions;
  /**
   * Called once the server is authenticated and before the credentials are sent: a rejection
   * (e.g. the user declines a server seen for the first time) closes the session unsent.
   */
  readonly beforeSignIn?: (server: ServerIdentity) => void | Promise<void>;
}

/** Connects, then signs up or in. Rejects with `ChatRefusedError` when the server refuses. */
export async function connectChat(options: ChatConnectOptions, credentials: Credentials): Promise<ChatClient> {
  const { transport, reliable, udp, beforeSignIn, ...rest } = options;
  let channel: MessageChannel;
  let identity: ServerIdentity;
  if ((transport ?? DEFAULT_CHAT_TRANSPORT) === 'udp') {
    const session = await connect({ ...rest, ...udp, transport: 'udp' });
    identity = { trust: session.trust, fingerprint: session.fingerprint };
    channel = reliableChannel(session, reliable);
  } else {
    const session = await connect({ ...rest, transport: 'tcp' });
    identity = { trust: session.trust, fingerprint: session.fingerprint };
    channel = streamChannel(session);
  }
  if (beforeSignIn) {
    try {
      await beforeSignIn(identity);
    } catch (e) {
      channel.destroy();
      throw e;
    }
  }
  return ChatClient.signIn(channel, credentials);
}
