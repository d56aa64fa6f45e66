import { describeConformance } from './conformance.js';
import { describeTcpConformance } from './conformance-tcp.js';
import { PAYLOAD, sampleRsaBits } from './rsa-sampling.js';
import { MessageType } from '../../src/suites/secsess/messages.js';

/** SPKI DER of an RSA key: the modulus starts 33 bytes in and the exponent takes the last 5. */
const SPKI_MODULUS = { start: PAYLOAD + 33, end: -5 };

describeConformance('secsess', {
  recordFlipMessage: Buffer.from('bits'),
  flipTimeoutMs: 120_000,
  sampleBits: sampleRsaBits((frame) => {
    if (frame[4] === MessageType.KEY_REPLY) return [SPKI_MODULUS];
    if (frame[4] === MessageType.KEY_EXCHANGE) return [{ start: PAYLOAD, end: frame.length }];
    return [];
  }),
});
describeTcpConformance('secsess');
