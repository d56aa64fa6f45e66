import { describeConformance } from './conformance.js';
import { describeTcpConformance } from './conformance-tcp.js';
import { PAYLOAD, sampleRsaBits } from './rsa-sampling.js';
import { MessageType } from '../../src/suites/ccm/messages.js';

/** SPKI DER of a 2048-bit RSA key: the modulus starts 33 bytes in, the exponent takes the last 5. */
const SPKI_MODULUS_OFFSET = 33;
const SPKI_SIZE = 294;

describeConformance('ccm', {
  recordFlipMessage: Buffer.from('bits'),
  flipTimeoutMs: 120_000,
  sampleBits: sampleRsaBits((frame) => {
    switch (frame[4]) {
      case MessageType.KEY_REPLY:
        return [{ start: PAYLOAD + SPKI_MODULUS_OFFSET, end: -5 }];
      case MessageType.CLIENT_KEY_EXCHANGE: {
        const key = PAYLOAD + 2; // after the u16 length
        return [
          { start: key + SPKI_MODULUS_OFFSET, end: key + SPKI_SIZE - 5 },
          { start: key + SPKI_SIZE, end: frame.length },
        ];
      }
      case MessageType.SERVER_KEY_EXCHANGE:
        return [{ start: PAYLOAD, end: frame.length }];
      default:
        return [];
    }
  }),
});
describeTcpConformance('ccm');
