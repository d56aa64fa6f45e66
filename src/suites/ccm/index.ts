/** The `ccm` suite (seed 002): RSA both ways to agree a secret, AES-128-CCM records. */
import type { Suite } from '../../session/handshake.js';
import { CcmClientHandshake } from './client.js';
import { CcmServerHandshake } from './server.js';
import { MessageType } from './messages.js';

export const ccmSuite: Suite = {
  name: 'ccm',
  keyType: 'rsa',
  clientKeys: 'required',
  summary: 'seed 002: RSA-OAEP both ways to agree a secret bound to a server nonce, AES-128-CCM records; mutual authentication, no forward secrecy',
  messageNames: {
    [MessageType.CLIENT_KEY_EXCHANGE]: 'ClientKeyExch',
    [MessageType.SERVER_KEY_EXCHANGE]: 'ServerKeyExch',
    [MessageType.CLIENT_FINISHED]: 'Finished',
    [MessageType.KEY_QUERY]: 'KeyQuery',
    [MessageType.KEY_REPLY]: 'KeyReply',
  },
  client: (config) => new CcmClientHandshake(config),
  server: (config) => new CcmServerHandshake(config),
};
