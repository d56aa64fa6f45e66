/**
 * box over UDP remembers the connection id of every server token used (so a replayed Vouch' cannot
 * rebuild a session), and marks it before the Vouch inside is verified: a peer that asks for
 * Cookies and sends their tokens back with garbage Vouches grows that memory. It is bounded: after
 * half the bound under one token key the key turns over early, and ids that no live key can open
 * are forgotten; replays stay refused and honest handshakes still complete.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/key.js';
import { boxSuite } from '../../src/suites/box/index.js';
import { BoxStatelessServer, TOKEN_SIZE } from '../../src/suites/box/stateless.js';
import type { HandshakeMessage } from '../../src/session/handshake.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';

const serverKey = generateKeyPair('x25519');
const clientKey = generateKeyPair('x25519');

describe('box over UDP: the memory of used server tokens', () => {
  const BOUND = 16;
  const server = new BoxStatelessServer({ key: serverKey, authorize: () => true, rng: seededRngForTestingOnly('tokens server') }, BOUND);
  const rng = seededRngForTestingOnly('tokens client');

  /** Hello → Cookie' → the client's Vouch' (token ‖ Vouch), for a fresh connection id. */
  const vouchFor = (now: number): { cid: Uint8Array; vouch: HandshakeMessage; client: ReturnType<typeof boxSuite.client> } => {
    const cid = rng(8);
    const client = boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng, connectionId: cid });
    const hello = client.start().send[0]!;
    const answer = server.answer(hello, cid, now);
    if (answer === 'resume') throw new Error('a Hello was taken for a Vouch');
    const vouch = client.receive(answer[0]!).send[0]!;
    return { cid, vouch, client };
  };

  it('stays within its bound under a flood of tokens with garbage Vouches, and a replay is still refused', () => {
    const replays: { cid: Uint8Array; vouch: HandshakeMessage }[] = [];
    for (let i = 0; i < 10 * BOUND; i++) {
      const { cid, vouch } = vouchFor(1_000);
      const garbage = Buffer.from(vouch.payload);
      garbage.fill(0x41, TOKEN_SIZE); // a valid token, a Vouch that will never verify
      const handshake = server.resume({ type: vouch.type, payload: garbage }, cid, 1_000);
      expect(() => handshake.receive({ type: vouch.type, payload: garbage })).toThrow();
      expect(server.usedTokens).toBeLessThanOrEqual(BOUND);
      replays.push({ cid, vouch: { type: vouch.type, payload: garbage } });
    }
    // Every replay fails: its id is remembered, or its token key is gone.
    for (const r of replays) expect(() => server.resume(r.vouch, r.cid, 1_000)).toThrow(/used already|no valid server token/);
  });

  it('lets an honest handshake complete right after such a flood', () => {
    const { cid, vouch, client } = vouchFor(2_000);
    const handshake = server.resume(vouch, cid, 2_000);
    const step = handshake.receive(vouch);
    expect(step.established?.peerPublicKey?.equals(clientKey.publicKey)).toBe(true);
    for (const m of step.send) client.receive(m);
    expect(() => server.resume(vouch, cid, 2_000)).toThrow(/used already/);
  });
});
