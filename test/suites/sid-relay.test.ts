/**
 * `sid`'s unknown-key-share relay (issue 11 §1), performed exactly: client A trusts server E (A
 * pins E's key). E is malicious: it forwards A's ClientHello to the real server S, shows A its own
 * key in place of S's, opens A's ClientIdentity with its own private key, re-seals the same
 * plaintext to S, and forwards S's SessionOffer and A's Confirm unchanged. Before the fix A
 * believed it talked to E while its records landed at S as A's. Now A refuses S's SessionOffer
 * (it names S's key, not the key A saw), and S refuses a forwarded Confirm (its keys come from a
 * transcript that differs on the two legs). Over the in-memory stream pair and over UDP.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sidSuite } from '../../src/suites/sid/index.js';
import { CLIENT_IDENTITY_CONTEXT, MessageType, SESSION_OFFER_CONTEXT, encodeConfirm, parseOfferPlain } from '../../src/suites/sid/messages.js';
import { deriveSidKeys } from '../../src/suites/sid/records.js';
import { sha256 } from '../../src/crypto/hash.js';
import { openHybrid, sealHybrid } from '../../src/crypto/rsa.js';
import { encodeFrame } from '../../src/record/frame.js';
import { encodeHandshakeDatagram, readHandshakeDatagram } from '../../src/record/datagram.js';
import { systemRng } from '../../src/crypto/random.js';
import type { KeyPair } from '../../src/keys/key.js';
import { SessionPipe } from '../helpers/pipe.js';
import { DatagramNet, type InFlight } from '../helpers/datagram-net.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';
import { testKey } from '../helpers/fixtures.js';

let realServer: KeyPair; // S
let evilServer: KeyPair; // E, trusted by A
let clientA: KeyPair;
beforeAll(async () => {
  [realServer, evilServer, clientA] = await Promise.all([testKey('rsa', 0), testKey('rsa', 1), testKey('rsa', 2)]);
});

/** What E does to one handshake message in flight; `null`: pass it on unchanged. */
function relay(from: 'client' | 'server', type: number, payload: Uint8Array): Uint8Array | null {
  if (from === 'server' && type === MessageType.SERVER_HELLO) return evilServer.publicKey.bytes;
  if (from === 'client' && type === MessageType.CLIENT_IDENTITY) {
    const plain = openHybrid(evilServer.privateKey, payload, CLIENT_IDENTITY_CONTEXT);
    expect(plain, 'E can open what A sealed to it').not.toBeNull();
    return sealHybrid(realServer.publicKey.keyObject, plain!, CLIENT_IDENTITY_CONTEXT);
  }
  return null;
}

/** S serves A (A's key is authorized at S). */
const authorizeA = (k: { equals(o: unknown): boolean }): boolean => k.equals(clientA.publicKey);

describe('sid relay through a server the client trusts (unknown-key-share)', () => {
  it('over a stream: A refuses S\'s SessionOffer relayed by E, and S delivers no record of A', () => {
    let relayed = 0;
    const a = sidSuite.client({ key: clientA, server: { kind: 'pinned', key: evilServer.publicKey }, rng: systemRng });
    const s = sidSuite.server({ key: realServer, authorize: authorizeA, rng: systemRng });
    const pipe = new SessionPipe(a, s, {
      tamper: (from, frame) => {
        const replaced = relay(from, frame[4]!, frame.subarray(5));
        if (!replaced) return [frame];
        relayed++;
        return [encodeFrame(frame[4]!, replaced)];
      },
    });
    pipe.run();
    // What A sends believing it talks to E (before the fix, S delivered this as A's).
    if (pipe.secure('client')) {
      pipe.client.send(Buffer.from('for E only'));
      pipe.flush();
    }
    // The relay was carried out: E re-sealed A's identity to S.
    expect(relayed).toBe(2);
    expect(pipe.wire.server.some((f) => f[4] === MessageType.SESSION_OFFER)).toBe(true);
    // A refuses: the SessionOffer names S's key, not E's, the key A saw and trusts.
    expect(pipe.secure('client')).toBe(false);
    expect(pipe.errors('client').map((e) => e.message).join('\n')).toMatch(/server key/i);
    // S never reaches a session with A's key: nothing A sends can be delivered.
    expect(pipe.secure('server')).toBe(false);
    expect(pipe.received('server').length).toBe(0);
  });

  /**
   * Runs the relay and returns what A saw and what S saw, as a client that skipped the binding
   * check would use them: S's SessionOffer opened with A's key.
   */
  function relayedViews() {
    const a = sidSuite.client({ key: clientA, server: { kind: 'pinned', key: evilServer.publicKey }, rng: systemRng });
    const s = sidSuite.server({ key: realServer, authorize: authorizeA, rng: systemRng });
    let resealed: Uint8Array | undefined;
    const pipe = new SessionPipe(a, s, {
      tamper: (from, frame) => {
        const replaced = relay(from, frame[4]!, frame.subarray(5));
        if (replaced && frame[4] === MessageType.CLIENT_IDENTITY) resealed = replaced;
        return replaced ? [encodeFrame(frame[4]!, replaced)] : [frame];
      },
    });
    pipe.run();
    const payload = (f: Buffer): Buffer => f.subarray(5);
    const hello = payload(pipe.wire.client[0]!);
    const identityToE = payload(pipe.wire.client[1]!);
    const offerFrame = pipe.wire.server.find((f) => f[4] === MessageType.SESSION_OFFER)!;
    const offer = parseOfferPlain(openHybrid(clientA.privateKey, payload(offerFrame), SESSION_OFFER_CONTEXT)!);
    const viewOfA = sha256(hello, evilServer.publicKey.bytes, identityToE, payload(offerFrame));
    const viewOfS = sha256(hello, realServer.publicKey.bytes, resealed!, payload(offerFrame));
    const confirmUnder = (th: Buffer): Buffer => encodeFrame(MessageType.CONFIRM, encodeConfirm(deriveSidKeys(offer.key, th).c2s, offer.cid, offer.sid));
    return { pipe, viewOfA, viewOfS, confirmUnder };
  }

  it('over a stream: S refuses the Confirm of a client that skipped the check, because the record keys bind the transcript', () => {
    // Control: a Confirm under keys from S's own view of the handshake is accepted...
    const control = relayedViews();
    control.pipe.inject('server', control.confirmUnder(control.viewOfS));
    expect(control.pipe.secure('server')).toBe(true);
    // ...but A's view differs (E's key in 0x01, the box sealed to E in 0x02): its Confirm does not open at S.
    const run = relayedViews();
    run.pipe.inject('server', run.confirmUnder(run.viewOfA));
    expect(run.pipe.secure('server')).toBe(false);
    expect(run.pipe.errors('server')[0]?.code).toBe('HANDSHAKE_FAILED');
    expect(run.pipe.received('server').length).toBe(0);
  });
});

describe('sid relay over UDP', () => {
  it('A never becomes secure through E, and S delivers no record of A', () => {
    const net = new DatagramNet({ suite: sidSuite, config: { key: realServer, authorize: authorizeA, rng: systemRng } });
    let relayed = 0;
    const pad = sidSuite.datagram?.padClientHandshakeTo ?? 0;
    net.hook = (d: InFlight) => {
      const hs = (d.data[0]! & 0x7f) <= 0x0f ? readHandshakeDatagram(d.data, d.from === 'client' ? pad : 0) : null;
      if (!hs) return [d.data];
      const replaced = relay(d.from, hs.type, hs.payload);
      if (!replaced) return [d.data];
      relayed++;
      const cid = d.data.subarray(1, 9);
      return [encodeHandshakeDatagram(hs.type, cid, replaced, d.from === 'client' ? pad : 0)];
    };
    const rng = seededRngForTestingOnly('sid relay udp');
    const connectionId = rng(8);
    const a = sidSuite.client({ key: clientA, server: { kind: 'pinned', key: evilServer.publicKey }, rng: systemRng, connectionId });
    const c = net.addClient(a, connectionId, undefined, { profile: sidSuite.datagram, handshakeTimeoutMs: 3_000 });
    net.runUntil(() => c.events.some((e) => e.type === 'secure' || e.type === 'close'), 5_000);
    if (c.events.some((e) => e.type === 'secure')) {
      net.clientSend(0, 'for E only');
      net.deliver();
    }
    expect(relayed).toBeGreaterThanOrEqual(2);
    expect(c.events.some((e) => e.type === 'secure')).toBe(false);
    // A dropped S's SessionOffer for naming another server key, and gave up at its deadline.
    const dropped = c.events.flatMap((e) => (e.type === 'handshakeDropped' ? [e.error.message] : []));
    expect(dropped.join('\n')).toMatch(/another server key/);
    // Whatever A might send, S holds no established session for A's connection id.
    expect(net.messagesAt(c)).toEqual([]);
    expect(net.serverEvents.some((e) => e.type === 'sessionEvent' && e.event.type === 'secure')).toBe(false);
  });
});
