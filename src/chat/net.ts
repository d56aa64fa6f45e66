/**
 * Wires the chat to sealwire's public session API: `listenChat` runs a `ChatServer` behind
 * `createServer`, `connectChat` dials with `connect` and signs in. TCP sessions become chat
 * channels through `streamChannel`, UDP sessions through `reliableChannel`.
 */
import { createServer, connect } from '../index.js';
import type { ConnectOptions, ServerOptions } from '../options.js';
import type { SecureSession } from '../transport/secure-session.js';
import { SealwireError } from '../errors.js';
import { ChatServer, type ChatServerOptions } from './server.js';
import { ChatClient, type Credentials } from './client.js';
import { reliableChannel, streamChannel, type DatagramSessionLike, type MessageChannel, type ReliableChannelOptions } from './channel.js';

export type ChatTransport = 'tcp' | 'udp';

export interface ChatListenOptions extends ChatServerOptions {
  readonly server: Omit<ServerOptions, 'transport'>;
  readonly transport?: ChatTransport;
  readonly host?: string;
  readonly port?: number;
  /** Options of the reliability layer on UDP (tests shorten the timers). */
  readonly reliable?: ReliableChannelOptions;
}

export interface ChatListener {
  readonly chat: ChatServer;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

interface AnyServer {
  listen(port?: number, host?: string): Promise<{ address: string; port: number; family?: string }>;
  close(): Promise<void>;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

/** Starts a chat server; resolves once it listens. */
export async function listenChat(options: ChatListenOptions): Promise<ChatListener> {
  const chat = new ChatServer(options);
  const transport = options.transport ?? 'tcp';
  const log = options.log ?? (() => {});
  const server = createServer({ ...options.server, transport }, (session) => {
    chat.attach(channelFor(transport, session, options.reliable));
  }) as unknown as AnyServer;
  server.on('handshakeError', (err: SealwireError) => log(`handshake failed: ${err.message} [${err.code}]`));
  const addr = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
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
}

/** Connects, then signs up or in. Rejects with `ChatRefusedError` when the server refuses. */
export async function connectChat(options: ChatConnectOptions, credentials: Credentials): Promise<ChatClient> {
  const transport = options.transport ?? 'tcp';
  const session = await connect({ ...options, transport });
  return ChatClient.signIn(channelFor(transport, session, options.reliable), credentials);
}

function channelFor(transport: ChatTransport, session: unknown, reliable: ReliableChannelOptions | undefined): MessageChannel {
  if (transport === 'udp') return reliableChannel(session as DatagramSessionLike, reliable);
  return streamChannel(session as SecureSession);
}
