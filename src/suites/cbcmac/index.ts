/**
 * The `cbcmac` suite (seed 004): a fresh server RSA key per session, signed by the long-term key
 * the client pins; AES-CBC + HMAC records. Per-session keys come from a pool that a worker thread
 * fills off the event loop (keys/rsa-pool.ts).
 */
import type { Suite } from '../../session/handshake.js';
import { RsaKeyPool, type SessionKeySource } from '../../keys/rsa-pool.js';
import { CbcmacClientHandshake } from './client.js';
import { CbcmacServerHandshake } from './server.js';
import { MessageType } from './messages.js';

/**
 * Per-session keys have the long-term key's size, up to 4096 bits: beyond that, generation takes
 * seconds per key, and a per-session key protects one session only.
 */
const MAX_SESSION_KEY_BITS = 4096;

export const cbcmacSuite: Suite = {
  name: 'cbcmac',
  keyType: 'rsa',
  clientKeys: 'none',
  summary:
    'seed 004: per-session server RSA key signed by the long-term key, AES-256-CBC + HMAC-SHA256 (encrypt-then-MAC) records; server authenticated, client anonymous, forward secrecy',
  messageNames: {
    [MessageType.CLIENT_HELLO]: 'ClientHello',
    [MessageType.SERVER_KEY]: 'ServerKey',
    [MessageType.KEY_EXCHANGE]: 'KeyExchange',
    [MessageType.FINISHED]: 'Finished',
  },
  client: (config) => new CbcmacClientHandshake(config),
  server: (config) => new CbcmacServerHandshake(config),
  openServer: (key) => {
    const pool = new RsaKeyPool({ bits: Math.min(key.publicKey.bits, MAX_SESSION_KEY_BITS) });
    return { resources: pool, close: () => pool.close() };
  },
  prepareSession: (resources) => (resources as SessionKeySource).acquire(),
};
