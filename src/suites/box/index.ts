/** The `box` suite (seed 003): NaCl boxes, ephemeral keys on both sides, mutual authentication. */
import type { Suite } from '../../session/handshake.js';
import { BoxClientHandshake } from './client.js';
import { BoxServerHandshake } from './server.js';
import { MessageType } from './messages.js';
import { LongTermKeys } from './long-term.js';
import { BoxStatelessServer } from './stateless.js';

export const boxSuite: Suite = {
  name: 'box',
  keyType: 'x25519',
  clientKeys: 'required',
  summary: 'seed 003: NaCl boxes (X25519, XSalsa20-Poly1305), ephemeral keys on both sides, mutual authentication, forward secrecy',
  messageNames: {
    [MessageType.HELLO]: 'Hello',
    [MessageType.COOKIE]: 'Cookie',
    [MessageType.VOUCH]: 'Vouch',
    [MessageType.READY]: 'Ready',
    [MessageType.KEY_QUERY]: 'KeyQuery',
    [MessageType.KEY_REPLY]: 'KeyReply',
  },
  client: (config) => new BoxClientHandshake(config),
  server: (config) => new BoxServerHandshake(config),
  // One cache of long-term keys per server (long-term.ts), wiped when the server closes.
  openServer: (key) => {
    const cache = new LongTermKeys('server', key);
    return { resources: cache, close: () => cache.wipe() };
  },
  // Over UDP the server answers Hellos without keeping state (stateless.ts).
  datagram: { stateless: (config) => new BoxStatelessServer(config) },
};
