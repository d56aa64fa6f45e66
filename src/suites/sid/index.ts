/**
 * The `sid` suite (seed 000): RSA key exchange 0x00–0x04 binding the client's cid and the
 * server's sid, then 0x10 records under the server-chosen AES key. The handshake state machines
 * exchange (type, payload) messages only, so a datagram transport can drive them as they are
 * (one message per datagram) and use `sealSidRecord` / `openSidRecord` for the records.
 */
import type { Suite } from '../../session/handshake.js';
import { SidClientHandshake } from './client.js';
import { SidServerHandshake } from './server.js';
import { MessageType } from './messages.js';

export const sidSuite: Suite = {
  name: 'sid',
  keyType: 'rsa',
  clientKeys: 'required',
  summary: 'seed 000: RSA-OAEP hybrid key exchange binding client cid and server sid, AES-128-GCM records; mutual authentication, no forward secrecy',
  messageNames: {
    [MessageType.CLIENT_HELLO]: 'ClientHello',
    [MessageType.SERVER_HELLO]: 'ServerHello',
    [MessageType.CLIENT_IDENTITY]: 'ClientIdentity',
    [MessageType.SESSION_OFFER]: 'SessionOffer',
    [MessageType.CONFIRM]: 'Confirm',
    [MessageType.REJECT]: 'Reject',
    [MessageType.HANDSHAKE_AGAIN]: 'HandshakeAgain',
  },
  client: (config) => new SidClientHandshake(config),
  server: (config) => new SidServerHandshake(config),
  // Over UDP (record/datagram.ts): records keep the seed's layout (0x10 ‖ cid ‖ seq ‖ …, written by
  // SidRecordCipher), the error reply is 0x05 and "handshake again" 0x06, both `type ‖ cid`; the
  // client pads its handshake datagrams to 1 200 bytes so that no answer (the server's RSA key,
  // the SessionOffer) is larger than what the server received.
  datagram: { recordHeader: 'cipher', rejectType: MessageType.REJECT, handshakeAgainType: MessageType.HANDSHAKE_AGAIN, padClientHandshakeTo: 1200 },
};

export { sealSidRecord, openSidRecord, SID_RECORD_OVERHEAD, type SidRecordKeys } from './records.js';
