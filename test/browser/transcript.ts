/**
 * A box session with seeded randomness and fixed keys, as hex frames: handshake, data both ways,
 * close. test/browser/box-on-browser-backend.test.ts runs it on both crypto backends.
 */
import { boxSuite } from '../../src/suites/box/index.js';
import { KeyPair } from '../../src/keys/key.js';
import * as box from '../../src/crypto/box.js';
import * as web from '../../src/browser/crypto/box.js';
import { SessionPipe } from '../helpers/pipe.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';

export function transcript(): { backend: string; frames: string[] } {
  const serverKey = KeyPair.fromX25519Secret(Buffer.alloc(32, 0x53));
  const clientKey = KeyPair.fromX25519Secret(Buffer.alloc(32, 0x43));
  const p = new SessionPipe(
    boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng: seededRngForTestingOnly('client') }),
    boxSuite.server({ key: serverKey, authorize: () => true, rng: seededRngForTestingOnly('server') }),
  ).run();
  for (let i = 0; i < 3; i++) {
    p.client.send(Buffer.from(`client record ${i}`));
    p.server.send(Buffer.alloc(1000 * i + 1, i));
    p.flush();
  }
  p.client.end();
  p.server.end();
  p.flush();
  const frames = [...p.wire.client.map((f) => `C ${f.toString('hex')}`), ...p.wire.server.map((f) => `S ${f.toString('hex')}`)];
  // Which implementation ran: under the test's mock, src/crypto/box.js is the browser module.
  return { backend: box.secretboxSeal === web.secretboxSeal ? 'noble' : 'sodium', frames };
}
