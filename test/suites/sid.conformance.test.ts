import { describeConformance } from './conformance.js';
import { describeTcpConformance } from './conformance-tcp.js';
import { PAYLOAD, sampleRsaBits } from './rsa-sampling.js';
import { MessageType } from '../../src/suites/sid/messages.js';

/** SPKI DER of an RSA key: the modulus starts 33 bytes in and the exponent takes the last 5. */
const SPKI_MODULUS = { start: PAYLOAD + 33, end: -5 };
/**
 * Hybrid boxes (RSA block ‖ AES-GCM body ‖ tag): the RSA block and the GCM body are sampled (every
 * byte once); the 16-byte tag and the frame header are flipped bit by bit.
 */
const HYBRID_BOX = { start: PAYLOAD, end: -16 };

describeConformance('sid', {
  recordFlipMessage: Buffer.from('bits'),
  flipTimeoutMs: 120_000,
  sampleBits: sampleRsaBits((frame) => {
    switch (frame[4]) {
      case MessageType.CLIENT_HELLO:
      case MessageType.SERVER_HELLO:
        return [SPKI_MODULUS];
      case MessageType.CLIENT_IDENTITY:
      case MessageType.SESSION_OFFER:
        return [HYBRID_BOX];
      default:
        return [];
    }
  }),
});
describeTcpConformance('sid');
