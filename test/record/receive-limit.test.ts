/**
 * The record size limit holds on receive as on send: a record whose plaintext is over
 * MAX_PLAINTEXT (65,536 bytes) is refused with TOO_LARGE by every suite's stream direction and by
 * the datagram receiver, even though it authenticates and its frame fits MAX_FRAME_BODY. A record of
 * exactly the limit, and an empty one, open.
 */
import { describe, expect, it } from 'vitest';
import { availableSuites } from '../../src/suites/index.js';
import { ReceiveDirection, SendDirection } from '../../src/record/direction.js';
import { DatagramReceiver, DatagramSender, DatagramType } from '../../src/record/datagram.js';
import { ContentType } from '../../src/record/content-type.js';
import { FRAME_HEADER_SIZE, MAX_FRAME_BODY, MAX_PLAINTEXT } from '../../src/record/limits.js';
import { frameHeader } from '../../src/record/frame.js';
import type { Established, Handshake, HandshakeMessage } from '../../src/session/handshake.js';
import { thrown } from '../helpers/errors.js';
import { fixtureFor, testKey } from '../helpers/fixtures.js';
import { RecyclingKeyPoolForTestingOnly } from '../../src/keys/rsa-pool.js';
import type { SuiteName } from '../../src/session/handshake.js';

/** cbcmac takes its per-session key from a pool: a pre-made one here, as its conformance tests do. */
async function fixture(name: SuiteName): ReturnType<typeof fixtureFor> {
  if (name !== 'cbcmac') return fixtureFor(name);
  const sessionKey = await testKey('rsa', 10);
  return fixtureFor(name, { openServer: () => ({ resources: new RecyclingKeyPoolForTestingOnly([sessionKey]), close: () => {} }) });
}

/** Runs a client and a server handshake against each other in memory; both sides' keys. */
function establish(client: Handshake, server: Handshake): { client: Established; server: Established } {
  const got: { client?: Established; server?: Established } = {};
  let flight: { to: Handshake; messages: readonly HandshakeMessage[] }[] = [{ to: server, messages: client.start().send }];
  for (let round = 0; round < 16 && flight.length; round++) {
    const next: typeof flight = [];
    for (const { to, messages } of flight) {
      for (const m of messages) {
        const step = to.receive(m);
        if (step.established) got[to.role] = step.established;
        if (step.send.length) next.push({ to: to === server ? client : server, messages: step.send });
      }
    }
    flight = next;
  }
  if (!got.client || !got.server) throw new Error('handshake did not complete');
  return { client: got.client, server: got.server };
}


describe.each(availableSuites())('suite %s: the 65,536-byte record limit on receive', (name) => {
  it('over a stream: refuses 65,537 plaintext bytes, opens 65,536 and 0', async () => {
    const fx = await fixture(name);
    try {
      const { client, server } = establish(fx.client(), fx.server());
      const send = new SendDirection(client.send);
      const receive = new ReceiveDirection(server.receive);
      const record = (n: number): { header: Buffer; body: Buffer } => {
        const header = frameHeader(ContentType.DATA, send.sealedLength(n));
        const whole = Buffer.concat(send.seal(ContentType.DATA, header, Buffer.alloc(n, 0x61)));
        expect(whole.length - 4).toBeLessThanOrEqual(MAX_FRAME_BODY); // the frame itself is accepted
        return { header, body: whole.subarray(FRAME_HEADER_SIZE) };
      };
      const ok = record(MAX_PLAINTEXT);
      expect(receive.open(ContentType.DATA, ok.header, ok.body).length).toBe(MAX_PLAINTEXT);
      const empty = record(0);
      expect(receive.open(ContentType.DATA, empty.header, empty.body).length).toBe(0);
      const big = record(MAX_PLAINTEXT + 1);
      expect(thrown(() => receive.open(ContentType.DATA, big.header, big.body)).code).toBe('TOO_LARGE');
    } finally {
      fx.close();
    }
  });
});

describe('datagrams: the same limit', () => {
  it.each(['box', 'sid'] as const)('%s: a DATA record over 65,536 plaintext bytes is refused, and leaves the window where it was', async (name) => {
    const fx = await fixture(name);
    try {
      const cid = Buffer.alloc(8, 5);
      const { client, server } = establish(fx.client(), fx.server());
      const mode = fx.suite.datagram?.recordHeader ?? 'layer';
      const sender = new DatagramSender(client.send, cid, mode);
      const receiver = new DatagramReceiver(server.receive, mode);
      const big = sender.seal(DatagramType.DATA, Buffer.alloc(MAX_PLAINTEXT + 1, 0x62));
      expect(thrown(() => receiver.open(big)).code).toBe('TOO_LARGE');
      const ok = sender.seal(DatagramType.DATA, Buffer.alloc(1200, 0x63));
      expect(receiver.open(ok).length).toBe(1200);
      // The refused record's sequence number was never marked as seen: it is refused again for size.
      expect(thrown(() => receiver.open(big)).code).toBe('TOO_LARGE');
    } finally {
      fx.close();
    }
  });
});
