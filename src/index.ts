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

export { SealwireError, isSealwireError, ErrorCodes, type ErrorCode } from './errors.js';
export { PublicKey, KeyPair, generateKeyPair, generateKeyPairAsync, fingerprintOf, MIN_RSA_BITS, DEFAULT_RSA_BITS, type KeyType } from './keys/key.js';
export { loadKey, loadKeyPair, loadPublicKey, saveKeyPair, parseKey, publicKeyText } from './keys/files.js';
export { loadAuthorizedKeys, parseAuthorizedKeys, authorizeKeys } from './keys/authorized-keys.js';
export { KnownHosts } from './keys/known-hosts.js';
export { SecureSession, type ServerTrust } from './transport/secure-session.js';
export { SealwireServer, type SessionListener, type ConnectionInfo } from './transport/tcp.js';
export { memoryPair, type ChunkTamper } from './transport/memory.js';
export { availableSuites, DEFAULT_SUITE } from './suites/index.js';
export { SUITE_NAMES, type SuiteName } from './session/handshake.js';
export type { ServerOptions, ConnectOptions, CommonOptions } from './options.js';

/** Creates a server; `onSession` is called with each session once the handshake has verified the client. */
export function createServer(options: ServerOptions, onSession?: SessionListener): SealwireServer {
  if (options?.transport === 'udp') {
    throw new SealwireError('INVALID_ARGUMENT', "transport 'udp' is not available in this build");
  }
  return new SealwireServer(options, onSession);
}

/** Connects to a server and resolves with the session once the handshake has verified the server. */
export async function connect(options: ConnectOptions): Promise<SecureSession> {
  if (options?.transport === 'udp') {
    throw new SealwireError('INVALID_ARGUMENT', "transport 'udp' is not available in this build");
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
