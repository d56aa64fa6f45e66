import { describeConformance } from './conformance.js';
import { describeTcpConformance } from './conformance-tcp.js';
import { PAYLOAD, sampleRsaBits } from './rsa-sampling.js';
import { MessageType } from '../../src/suites/cbcmac/messages.js';
import { RecyclingKeyPoolForTestingOnly } from '../../src/keys/rsa-pool.js';
import { testKey } from '../helpers/fixtures.js';

/** Offsets in a 2048-bit RSA SubjectPublicKeyInfo: modulus from byte 33, exponent in the last 5. */
const SPKI = 294;
const MODULUS = 33;

// These runs make thousands of handshakes (and 50 at once over TCP): they take per-session keys
// from a few pre-generated ones. The real pool, a worker generating keys, has its own tests in
// cbcmac.test.ts.
const sessionKeys = await Promise.all([testKey('rsa', 10), testKey('rsa', 11)]);
const openServer = (): { resources: unknown; close(): void } => ({ resources: new RecyclingKeyPoolForTestingOnly(sessionKeys), close: () => {} });

describeConformance('cbcmac', {
  recordFlipMessage: Buffer.from('bits'),
  flipTimeoutMs: 120_000,
  openServer,
  sampleBits: sampleRsaBits((frame) => {
    switch (frame[4]) {
      case MessageType.SERVER_KEY: {
        // u16 ‖ S_pub ‖ u16 ‖ E_pub ‖ u16 ‖ signature
        const s = PAYLOAD + 2;
        const e = s + SPKI + 2;
        const sig = e + SPKI + 2;
        return [
          { start: s + MODULUS, end: s + SPKI - 5 },
          { start: e + MODULUS, end: e + SPKI - 5 },
          { start: sig, end: frame.length },
        ];
      }
      case MessageType.KEY_EXCHANGE:
        return [{ start: PAYLOAD, end: PAYLOAD + 256 }];
      default:
        return [];
    }
  }),
});
describeTcpConformance('cbcmac', { server: { openServerForTestingOnly: openServer } });
