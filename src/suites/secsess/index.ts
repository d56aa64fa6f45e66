/** The `secsess` suite (seed 001): RSA key transport to the server, AES-CBC + HMAC records. */
import type { Suite } from '../../session/handshake.js';
import { SecsessClientHandshake } from './client.js';
import { SecsessServerHandshake } from './server.js';
import { MessageType } from './messages.js';

export const secsessSuite: Suite = {
  name: 'secsess',
  keyType: 'rsa',
  clientKeys: 'none',
  summary: 'seed 001: RSA-OAEP key transport, AES-256-CBC + HMAC-SHA256 records with rising nonces; server authenticated, client anonymous, no forward secrecy',
  messageNames: {
    [MessageType.KEY_EXCHANGE]: 'KeyExchange',
    [MessageType.CONFIRM]: 'Confirm',
    [MessageType.KEY_QUERY]: 'KeyQuery',
    [MessageType.KEY_REPLY]: 'KeyReply',
  },
  client: (config) => new SecsessClientHandshake(config),
  server: (config) => new SecsessServerHandshake(config),
};
