/**
 * Wires the chat to sealwire's public session API: `listenChat` runs a `ChatServer` behind
 * `createServer`, `connectChat` dials with `connect` and signs in. TCP sessions become chat
 * channels through `streamChannel`, UDP sessions through `reliableChannel`.
 */
import { createServer, connect, type SealwireServer, type UdpServer, type UdpOptions } from '../index.js';
import type { ConnectOptions, ServerOptions } from '../options.js';
import type { SealwireError } from '../errors.js';
import { ChatServer, type ChatServerOptions } from './server.js';
import { escapeText } from '../text/escape.js';
import { ChatClient, type Credentials } from './client.js';
import { reliableChannel, streamChannel, type MessageChannel, type ReliableChannelOptions } from './channel.js';

export type ChatTransport = 'tcp' | 'udp';
/** The chat's transport unless told otherwise: UDP, with the chat's own reliability layer. */
export const DEFAULT_CHAT_TRANSPORT: ChatTransport = 'udp';

export interface ChatListenOptions extends ChatServerOptions {
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

/** Starts a chat server; resolves once it listens. */
export async function listenChat(options: ChatListenOptions): Promise<ChatListener> {
  const chat = new ChatServer(options);
  // Handshake errors carry peer-influenced text: escaped like the chat server's own lines.
  const log = (line: string): void => options.log?.(escapeText(line));
  const maxBuffered = chat.limits.maxBufferedBytes;
  const onHandshakeError = (err: SealwireError): void => log(`handshake failed: ${err.message} [${err.code}]`);
  // Chat users authenticate by password, not by key: the chat accepts any client key unless its
  // caller names a client policy (docs/CHAT.md).
  const serverOptions = { anyClient: true, ...options.server };
  let server: SealwireServer | UdpServer;
  if ((options.transport ?? DEFAULT_CHAT_TRANSPORT) === 'udp') {
    const udp = createServer({ ...serverOptions, ...options.udp, transport: 'udp' }, (session) => chat.attach(reliableChannel(session, { maxBufferedBytes: maxBuffered, ...options.reliable })));
    udp.on('handshakeError', onHandshakeError);
    server = udp;
  } else {
    const tcp = createServer({ ...serverOptions, transport: 'tcp' }, (session) => chat.attach(streamChannel(session, maxBuffered)));
    tcp.on('handshakeError', onHandshakeError);
    server = tcp;
  }
  const addr = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  // After listen, server errors (accept failures such as EMFILE) are logged, never fatal.
  server.on('error', (err: SealwireError) => log(`server: ${err.message} [${err.code}]`));
  return {
    chat,
    host: addr.address,
    port: addr.port,
    close: async () => {
      await chat.close();
      await server.close();
    },
  };
}

export interface ChatConnectOptions extends Omit<ConnectOptions, 'transport'> {
  readonly transport?: ChatTransport;
  readonly reliable?: ReliableChannelOptions;
  readonly udp?: UdpOptions;
}

/** Connects, then signs up or in. Rejects with `ChatRefusedError` when the server refuses. */
export async function connectChat(options: ChatConnectOptions, credentials: Credentials): Promise<ChatClient> {
  const { transport, reliable, udp, ...rest } = options;
  let channel: MessageChannel;
  if ((transport ?? DEFAULT_CHAT_TRANSPORT) === 'udp') {
    channel = reliableChannel(await connect({ ...rest, ...udp, transport: 'udp' }), reliable);
  } else {
    channel = streamChannel(await connect({ ...rest, transport: 'tcp' }));
  }
  return ChatClient.signIn(channel, credentials);
}
