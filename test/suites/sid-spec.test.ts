/**
 * A second `sid` client written from docs/PROTOCOLS.md alone, with node:crypto only (none of
 * sealwire's helpers), run against sealwire's sid server: the handshake (binding, transcript hash,
 * per-direction keys, Confirm), records both ways (AAD = type ‖ cid ‖ seq, not the frame header),
 * and the key turnover. If the spec and the bytes drift apart, this fails.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  constants,
  createCipheriv,
  createDecipheriv,
    privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { sidSuite } from '../../src/suites/sid/index.js';
import { systemRng } from '../../src/crypto/random.js';
import type { KeyPair } from '../../src/keys/key.js';
import type { Established, HandshakeMessage } from '../../src/session/handshake.js';
import { testKey } from '../helpers/fixtures.js';
import { hkdf, sha256, u64 } from './spec-primitives.js';

// --- The spec's building blocks, from PROTOCOLS.md --------------------------------------------

const oaep = (key: KeyObject, label: string) => ({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label) });

/** Hybrid(K, m) = RSA-OAEP(K, k) ‖ AES-256-GCM(k, iv = 12 zero bytes, aad = context, m) ‖ tag (16). */
function hybridSeal(key: KeyObject, m: Buffer, context: string): Buffer {
  const k = randomBytes(32);
  const c = createCipheriv('aes-256-gcm', k, Buffer.alloc(12));
  c.setAAD(Buffer.from(context));
  const body = Buffer.concat([c.update(m), c.final()]);
  return Buffer.concat([publicEncrypt(oaep(key, context), k), body, c.getAuthTag()]);
}

function hybridOpen(key: KeyObject, sealed: Buffer, context: string, modulusBytes: number): Buffer {
  const k = privateDecrypt(oaep(key, context), sealed.subarray(0, modulusBytes));
  const d = createDecipheriv('aes-256-gcm', k, Buffer.alloc(12));
  d.setAAD(Buffer.from(context));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(modulusBytes, sealed.length - 16)), d.final()]);
}

/** n(type, dir, seq) = type ‖ dir ‖ 0x0000 ‖ seq (u64). */
const nonce = (type: number, dir: number, seq: bigint): Buffer => Buffer.concat([Buffer.of(type, dir, 0, 0), u64(seq)]);
const C = 0x43;
const S = 0x53;

function gcmSeal(key: Buffer, iv: Buffer, aad: Buffer, plain: Buffer): Buffer {
  const c = createCipheriv('aes-128-gcm', key, iv);
  c.setAAD(aad);
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

function gcmOpen(key: Buffer, iv: Buffer, aad: Buffer, sealed: Buffer): Buffer {
  const d = createDecipheriv('aes-128-gcm', key, iv);
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
}

/** A record body: cid (8) ‖ seq (u64) ‖ AES-128-GCM(k, n(type, dir, seq), aad = type ‖ cid ‖ seq, sid ‖ data) ‖ tag. */
function sealRecord(k: Buffer, dir: number, type: number, cid: Buffer, sid: Buffer, seq: bigint, data: Buffer): Buffer {
  return Buffer.concat([cid, u64(seq), gcmSeal(k, nonce(type, dir, seq), Buffer.concat([Buffer.of(type), cid, u64(seq)]), Buffer.concat([sid, data]))]);
}

// --- The run ---------------------------------------------------------------------------------

let serverKey: KeyPair;
let clientKey: KeyPair;
beforeAll(async () => {
  [serverKey, clientKey] = await Promise.all([testKey('rsa', 0), testKey('rsa', 2)]);
});

describe('sid from the spec: a node:crypto client against the sid server', () => {
  it('handshakes, exchanges records both ways under an arbitrary frame header, and follows the key turnover', () => {
    const server = sidSuite.server({ key: serverKey, authorize: () => true, rng: systemRng });
    server.start();
    const one = (m: HandshakeMessage): HandshakeMessage[] => [...server.receive(m).send];
    const cPub = clientKey.publicKey.bytes;

    // 0x00 → 0x01
    const [hello] = one({ type: 0x00, payload: cPub });
    expect(hello!.type).toBe(0x01);
    const sPub = Buffer.from(hello!.payload);
    expect(sPub.equals(serverKey.publicKey.bytes)).toBe(true);

    // 0x02 → 0x03
    const cid = randomBytes(8);
    const challenge = randomBytes(16);
    const p2 = hybridSeal(serverKey.publicKey.keyObject, Buffer.concat([cid, challenge, cPub]), 'sealwire sid ClientIdentity');
    const [offerMsg] = one({ type: 0x02, payload: p2 });
    expect(offerMsg!.type).toBe(0x03);
    const p3 = Buffer.from(offerMsg!.payload);
    const offer = hybridOpen(clientKey.privateKey, p3, 'sealwire sid SessionOffer', 256);
    expect(offer.length).toBe(8 + 16 + 8 + 16 + 1 + 32);
    expect(offer.subarray(0, 8).equals(cid)).toBe(true);
    expect(offer.subarray(8, 24).equals(challenge)).toBe(true);
    const sid = offer.subarray(24, 32);
    const aesKey = offer.subarray(32, 48);
    expect(offer[48]).toBe(0x01);
    expect(offer.subarray(49).equals(sha256(sPub, cPub, cid, challenge))).toBe(true);

    // Keys: HKDF-SHA256(AES_key, salt = th, "sealwire sid v2 record keys", 32) = k_c2s ‖ k_s2c.
    const th = sha256(cPub, sPub, p2, p3);
    const okm = hkdf(aesKey, th, 'sealwire sid v2 record keys', 32);
    const kc2s = okm.subarray(0, 16);
    const ks2c = okm.subarray(16);

    // 0x04: cid ‖ AES-GCM(k_c2s, n(0x04, 'C', 0), aad = 0x04 ‖ cid, sid ‖ "OK") ‖ tag.
    const confirm = Buffer.concat([cid, gcmSeal(kc2s, nonce(0x04, C, 0n), Buffer.concat([Buffer.of(0x04), cid]), Buffer.concat([sid, Buffer.from('OK')]))]);
    expect(confirm.length).toBe(34);
    const step = server.receive({ type: 0x04, payload: confirm });
    expect(step.send).toEqual([]);
    const est: Established = step.established!;
    expect(est.peerPublicKey!.equals(clientKey.publicKey)).toBe(true);

    // Client → server data, sequence 0, under a frame header the AAD does not include.
    const header = randomBytes(5);
    const up = sealRecord(kc2s, C, 0x10, cid, sid, 0n, Buffer.from('from the spec'));
    expect(Buffer.from(est.receive.open(0x10, 0n, header, up)!).toString()).toBe('from the spec');

    // Server → client data, sequence 0.
    const chunks = est.send.seal(0x10, 0n, header, Buffer.from('to the spec'));
    const down = Buffer.concat(chunks.slice(1));
    expect(down.subarray(0, 8).equals(cid)).toBe(true);
    expect(down.readBigUInt64BE(8)).toBe(0n);
    const plain = gcmOpen(ks2c, nonce(0x10, S, 0n), Buffer.concat([Buffer.of(0x10), cid, u64(0n)]), down.subarray(16));
    expect(plain.subarray(0, 8).equals(sid)).toBe(true);
    expect(plain.subarray(8).toString()).toBe('to the spec');

    // Turnover: key′ = HKDF-SHA256(key, no salt, "sealwire sid rekey C" / "… S", 16), per direction.
    const seq = 1n << 22n;
    const kc2s2 = hkdf(kc2s, Buffer.alloc(0), 'sealwire sid rekey C', 16);
    const ks2c2 = hkdf(ks2c, Buffer.alloc(0), 'sealwire sid rekey S', 16);
    const up2 = sealRecord(kc2s2, C, 0x10, cid, sid, seq, Buffer.from('after the turnover'));
    expect(Buffer.from(est.receive.next().open(0x10, seq, header, up2)!).toString()).toBe('after the turnover');
    const down2 = Buffer.concat(est.send.next().seal(0x11, seq, header, Buffer.alloc(0)).slice(1));
    const closePlain = gcmOpen(ks2c2, nonce(0x11, S, seq), Buffer.concat([Buffer.of(0x11), cid, u64(seq)]), down2.subarray(16));
    expect(closePlain.equals(sid)).toBe(true);
  });
});
