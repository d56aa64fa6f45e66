/** The `box` suite (seed 003): NaCl boxes, ephemeral keys on both sides, mutual authentication. */
import type { Suite } from '../../session/handshake.js';
import { BoxClientHandshake } from './client.js';
import { BoxServerHandshake } from './server.js';

export const boxSuite: Suite = {
  name: 'box',
  keyType: 'x25519',
  clientKeys: 'required',
  client: (config) => new BoxClientHandshake(config),
  server: (config) => new BoxServerHandshake(config),
};
