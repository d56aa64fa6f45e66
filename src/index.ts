/**
 * sealwire: authenticated, encrypted client–server sessions over TCP and UDP.
 *
 *     const server = createServer({ key }, (session) => session.pipe(session));
 *     await server.listen(0, '127.0.0.1');
 *     const session = await connect({ port: server.address()!.port, serverKey: key.publicKey });
 *
 * Every error is a `SealwireError` with a stable `code`.
 */
import { SealwireError } from './errors.js';
import type { ConnectOptions, ServerOptions } from './options.js';
import { SealwireServer, connectTcp, type SessionListener } from './transport/tcp.js';
import type { SecureSession } from './transport/secure-session.js';
import { UdpServer, UdpSession, connectUdp, type UdpConnectOptions, type UdpServerOptions } from './transport/udp.js';

export { SealwireError, isSealwireError, ErrorCodes, type ErrorCode } from './errors.js';
export { PublicKey, KeyPair, generateKeyPair, generateKeyPairAsync, fingerprintOf, MIN_RSA_BITS, DEFAULT_RSA_BITS, type KeyType } from './keys/key.js';
export { loadKey, loadKeyPair, loadPublicKey, saveKeyPair, parseKey, publicKeyText } from './keys/files.js';
export { loadAuthorizedKeys, parseAuthorizedKeys, authorizeKeys } from './keys/authorized-keys.js';
export { KnownHosts } from './keys/known-hosts.js';
export { SecureSession, type ServerTrust } from './transport/secure-session.js';
export { SealwireServer, type SessionListener, type ConnectionInfo } from './transport/tcp.js';
export { memoryPair, type ChunkTamper } from './transport/memory.js';
export { SealwireWebSocketServer, connectWebSocket, type WebSocketServerOptions } from './transport/websocket.js';
export { UdpServer, UdpSession, type UdpServerOptions, type UdpConnectOptions, type UdpOptions } from './transport/udp.js';
export { createClusterServer, serveClusterWorker, isClusterWorker, ClusterServer, type ClusterOptions, type ClusterWorkerServer, type ClusterBalance } from './transport/cluster.js';
export { RECORD_AEADS, BOX_CIPHER_NAMES, type BoxCipherName } from './crypto/record-aead.js';
export {
  createPacketServer,
  packetClient,
  PacketServer,
  type PacketServerOptions,
  type PacketClientOptions,
  type PacketClient,
  type PacketRequestEvent,
} from './transport/udp-packet.js';
export { availableSuites, DEFAULT_SUITE } from './suites/index.js';
export { SUITE_NAMES, type SuiteName } from './session/handshake.js';
export type { ServerOptions, ConnectOptions, CommonOptions } from './options.js';

/**
 * Creates a server; `onSession` is called with each session once the handshake has verified the
 * client. With `transport: 'udp'` the server is a `UdpServer` and sessions are `UdpSession`s
 * (messages: `send(message)`, `'message'` events, `close()`).
 */
export function createServer(options: UdpServerOptions, onSession?: (session: UdpSession) => void): UdpServer;
export function createServer(options: ServerOptions & { transport?: 'tcp' }, onSession?: SessionListener): SealwireServer;
export function createServer(options: ServerOptions | UdpServerOptions, onSession?: SessionListener | ((session: UdpSession) => void)): SealwireServer | UdpServer {
  if (options?.transport === 'udp') return new UdpServer(options as UdpServerOptions, onSession as (session: UdpSession) => void);
  if (options?.transport !== undefined && options.transport !== 'tcp') {
    throw new SealwireError('INVALID_ARGUMENT', `unknown transport '${String(options.transport)}' (tcp or udp)`);
  }
  return new SealwireServer(options, onSession as SessionListener);
}

/** Connects to a server and resolves with the session once the handshake has verified the server. */
export function connect(options: UdpConnectOptions): Promise<UdpSession>;
export function connect(options: ConnectOptions & { transport?: 'tcp' }): Promise<SecureSession>;
export async function connect(options: ConnectOptions | UdpConnectOptions): Promise<SecureSession | UdpSession> {
  if (options?.transport === 'udp') return connectUdp(options as UdpConnectOptions);
  if (options?.transport !== undefined && options.transport !== 'tcp') {
    throw new SealwireError('INVALID_ARGUMENT', `unknown transport '${String(options.transport)}' (tcp or udp)`);
  }
  return connectTcp(options);
}

// The chat room (docs/CHAT.md), built on the API above.
export {
  listenChat,
  connectChat,
  ChatServer,
  ChatClient,
  ChatRefusedError,
  openAccountStore,
  memoryAccountStore,
  type ChatEvent,
  type ChatLimits,
  type ChatListener,
  type ChatTransport,
} from './chat/index.js';
