/**
 * Secrets. (1) Forward secrecy of `box`, shown on a session recorded off a real TCP connection:
 * an attacker holding both long-term secret keys tries every key they give with every public
 * value on the wire, and opens nothing; the ephemeral secret (the positive control) opens it.
 * (2) No key material or plaintext in any error message or log line: the CLI's stdout/stderr in
 * failing and succeeding runs, and in-process error messages, grepped for the secret keys (hex,
 * base64, base64url) and for the plaintext.
 */
import { afterAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer, generateKeyPair, loadKeyPair, memoryPair, SealwireError, type KeyPair } from '../../src/index.js';
import { boxKeys, secretboxOpen, x25519KeyPairFromSeed } from '../../src/crypto/box.js';
import { ContentType } from '../../src/record/content-type.js';
import { StreamDeframer } from '../../src/record/frame.js';
import { Direction, MessageType, cookieNonce, counterNonce, parseCookie, parseCookiePlain, type DirectionByte } from '../../src/suites/box/messages.js';
import { BoxChachaRecordCipher, recordKey } from '../../src/suites/box/records.js';
import type { BoxCipherName } from '../../src/crypto/record-aead.js';
import { availableSuites } from '../../src/suites/index.js';
import { runCli, startCli, tempDir, portOf } from '../helpers/cli.js';
import { collect } from '../helpers/streams.js';
import { fixture } from './lib/targets.js';

function frames(bytes: Buffer): { type: number; header: Buffer; payload: Buffer }[] {
  const d = new StreamDeframer();
  d.push(bytes);
  const out: { type: number; header: Buffer; payload: Buffer }[] = [];
  for (let f = d.next(); f; f = d.next()) out.push({ type: f.type, header: Buffer.from(f.header), payload: Buffer.from(f.payload) });
  return out;
}

/** Opens a recorded Data frame under a candidate session direction key, in either record cipher. */
function openRecord(cipher: BoxCipherName, f: { header: Buffer; payload: Buffer }, key: Buffer, dir: DirectionByte, seq: bigint): Uint8Array | null {
  if (cipher === 'xsalsa20-poly1305') return secretboxOpen(f.payload, counterNonce(ContentType.DATA, dir, seq), key);
  // ChaCha20-Poly1305 records are keyed from the session key with the Offer (0x01) and Choice (0x01).
  return new BoxChachaRecordCipher(recordKey(key, 0x01, 0x01), dir).open(ContentType.DATA, seq, f.header, f.payload);
}

describe('robustness: forward secrecy of box', () => {
  it.each(['chacha20-poly1305', 'xsalsa20-poly1305'] as const)('a recorded TCP session (%s records) cannot be decrypted with both long-term secret keys', async (boxCipher) => {
    const serverKey = generateKeyPair('x25519');
    const clientKey = generateKeyPair('x25519');
    const secret = Buffer.from('recorded today, attacked tomorrow with both long-term keys');
    const server = createServer({ key: serverKey, suite: 'box', anyClient: true, boxCipher }, (s) => s.pipe(s));
    const { port } = await server.listen(0, '127.0.0.1');
    // The recording attacker: a TCP relay that keeps every byte each way.
    const up: Buffer[] = [];
    const down: Buffer[] = [];
    const relay = net.createServer({ allowHalfOpen: true }, (c) => {
      const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      c.on('data', (d: Buffer) => (up.push(d), s.write(d)));
      s.on('data', (d: Buffer) => (down.push(d), c.write(d)));
      c.on('end', () => s.end());
      s.on('end', () => c.end());
      c.on('error', () => s.destroy());
      s.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const seeds: Buffer[] = [];
    const session = await connect({
      port: (relay.address() as net.AddressInfo).port,
      serverKey: serverKey.publicKey,
      key: clientKey,
      rng: (n) => {
        const b = randomBytes(n);
        seeds.push(Buffer.from(b)); // the positive control keeps the client's ephemeral seed
        return b;
      },
    });
    const echoed = collect(session);
    session.end(secret);
    expect((await echoed).equals(secret)).toBe(true);
    await server.close();
    relay.close();

    const c2s = frames(Buffer.concat(up));
    const s2c = frames(Buffer.concat(down));
    const ec = c2s.find((f) => f.type === MessageType.HELLO)!.payload.subarray(0, 32);
    // With Ss the attacker opens the Cookie and learns ES.
    const helloKeys = boxKeys('server', serverKey.publicKey.bytes, serverKey.secretKey, ec);
    // The Cookie is Cnonce (22 random bytes) ‖ box(ES ‖ Ctag ‖ Stag) under that nonce.
    const cookie = parseCookie(s2c.find((f) => f.type === MessageType.COOKIE)!.payload);
    const cookiePlain = secretboxOpen(cookie.sealed, cookieNonce(cookie.cNonce), helloKeys.send);
    expect(cookiePlain).not.toBeNull();
    const es = parseCookiePlain(cookiePlain!).serverEphemeral;
    const records = [
      ...c2s.filter((f) => f.type === ContentType.DATA).map((f, i) => ({ f, dir: Direction.CLIENT_TO_SERVER, seq: BigInt(i) })),
      ...s2c.filter((f) => f.type === ContentType.DATA).map((f, i) => ({ f, dir: Direction.SERVER_TO_CLIENT, seq: BigInt(i) })),
    ];
    expect(records.length).toBeGreaterThanOrEqual(2);
    const publics = [serverKey.publicKey.bytes, clientKey.publicKey.bytes, ec, es];
    const candidates: Buffer[] = [];
    for (const pub of publics) {
      for (const [role, kp] of [['client', clientKey], ['server', serverKey]] as [('client' | 'server'), KeyPair][]) {
        const k = boxKeys(role, kp.publicKey.bytes, kp.secretKey, pub);
        candidates.push(k.send, k.receive);
      }
    }
    let attempts = 0;
    for (const r of records) {
      for (const key of candidates) {
        for (const dir of [Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT]) {
          expect(openRecord(boxCipher, r.f, key, dir, r.seq)).toBeNull();
          attempts++;
        }
      }
    }
    expect(attempts).toBeGreaterThanOrEqual(64);
    // Positive control: the client's ephemeral secret (wiped by the session, kept only by this test) opens it.
    const ephemeral = x25519KeyPairFromSeed(seeds[0]!);
    const sessionKeys = boxKeys('client', ephemeral.publicKey, ephemeral.secretKey, es);
    const first = records[0]!;
    expect(Buffer.from(openRecord(boxCipher, first.f, sessionKeys.send, first.dir, first.seq)!).equals(secret)).toBe(true);
  });
});

/** Every form a 32-byte secret or a plaintext could take in a log line. */
function forms(b: Buffer): string[] {
  return [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64').replace(/=+$/, ''), b.toString('base64url')].filter((s) => s.length >= 16);
}
function expectClean(text: string, secrets: Buffer[], where: string): void {
  for (const s of secrets) for (const f of forms(s)) expect(text.includes(f), `${where} contains secret material`).toBe(false);
}

describe('robustness: no key material or plaintext in errors and logs', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('CLI serve/connect output, in success and in every failure, holds no secret key bytes and no plaintext outside the data channel', async () => {
    for (const n of ['server', 'other', 'alice']) expect((await runCli(['keygen', '--out', t.path(n)])).code).toBe(0);
    const secrets = ['server', 'other', 'alice'].map((n) => loadKeyPair(t.path(n)).secretKey);
    const pems = ['server', 'other', 'alice'].map((n) => readFileSync(t.path(n), 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')).join(''));
    const plaintext = `PLAINTEXT-${randomBytes(12).toString('hex')}`;
    const logs: string[] = [];
    const echo = await startCli(['serve', '--echo', '--any-client', '--key', t.path('server'), '--handshake-timeout', '1000']);
    const dataOnly = await startCli(['serve', '--key', t.path('server'), '--authorized-keys', t.path('alice.pub')]);
    try {
      const port = portOf(echo.firstLine);
      const ok = await runCli(['connect', `127.0.0.1:${port}`, '--server-key', t.path('server.pub'), '--key', t.path('alice')], { input: plaintext });
      expect(ok.code).toBe(0);
      expect(ok.stdout.toString()).toBe(plaintext); // the data channel
      logs.push(ok.stderr);
      const wrongKey = await runCli(['connect', `127.0.0.1:${port}`, '--server-key', t.path('other.pub')], { input: plaintext });
      expect(wrongKey.code).toBe(1);
      logs.push(wrongKey.stderr, wrongKey.stdout.toString());
      const unauthorized = await runCli(['connect', `127.0.0.1:${portOf(dataOnly.firstLine)}`, '--server-key', t.path('server.pub'), '--key', t.path('other')], { input: plaintext });
      expect(unauthorized.code).toBe(1);
      logs.push(unauthorized.stderr, unauthorized.stdout.toString());
      // Garbage, a silent client (handshake timeout) and a cut connection against the server.
      for (const bytes of [randomBytes(400), Buffer.alloc(0), Buffer.from([0, 0, 1, 1, 1, 9])]) {
        await new Promise<void>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => (bytes.length ? s.end(bytes) : undefined));
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.resume();
        });
      }
    } finally {
      await echo.stop();
      await dataOnly.stop();
    }
    logs.push(echo.stderr(), echo.stdout(), dataOnly.stderr());
    const all = logs.join('\n');
    expect(all).toMatch(/failed/); // the failures were logged...
    expectClean(all, secrets, 'CLI output');
    for (const pem of pems) expect(all.includes(pem.slice(0, 40))).toBe(false);
    expect(all.includes(plaintext)).toBe(false); // ...and nothing but the data channel carried the plaintext
  }, 60_000);

  it.each(availableSuites())('%s: error messages of failed handshakes and tampered records hold no key bytes or plaintext', async (name) => {
    const fx = await fixture(name);
    const secrets = [fx.serverKey, fx.otherServerKey, fx.clientKey].filter((k): k is KeyPair => !!k && k.type === 'x25519').map((k) => k.secretKey);
    const plaintext = Buffer.from(`PLAINTEXT-${randomBytes(12).toString('hex')}`);
    const errors: SealwireError[] = [];
    const server = createServer({ key: fx.serverKey, suite: name, authorize: () => false }, () => {});
    server.on('handshakeError', (e: SealwireError) => errors.push(e));
    for (const serverKey of [fx.otherServerKey.publicKey, fx.serverKey.publicKey]) {
      const [a, b] = memoryPair({ tamper: (_from, chunk) => [chunk] });
      server.handleConnection(b);
      await connect({ socket: a, suite: name, serverKey, key: fx.clientKey ?? undefined }).then(
        (s) => s.destroy(),
        (e: SealwireError) => errors.push(e),
      );
    }
    // A tampered record after the handshake.
    const open = createServer({ key: fx.serverKey, suite: name, anyClient: true }, (s) => s.on('error', (e: SealwireError) => errors.push(e)));
    let flip = false;
    const [a, b] = memoryPair({
      tamper: (from, chunk) => {
        if (flip && from === 'a') chunk[chunk.length - 1]! ^= 1;
        return [chunk];
      },
    });
    open.handleConnection(b);
    const s = await connect({ socket: a, suite: name, serverKey: fx.serverKey.publicKey, key: fx.clientKey ?? undefined });
    s.on('error', (e: SealwireError) => errors.push(e));
    flip = true;
    s.write(plaintext);
    await new Promise((r) => setTimeout(r, 50));
    s.destroy();
    await Promise.all([server.close(), open.close()]);
    expect(errors.length).toBeGreaterThanOrEqual(3);
    const text = errors.map((e) => `${e.message}\n${e.stack ?? ''}\n${String((e as { cause?: unknown }).cause ?? '')}`).join('\n');
    expectClean(text, [...secrets, plaintext], `${name} error messages`);
    expect(text.includes(plaintext.toString())).toBe(false);
  });
});
