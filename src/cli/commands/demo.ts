/**
 * `sealwire demo [--suite S]`: throwaway keys, a server and a client on loopback, and what crosses
 * the wire: the handshake messages, the fingerprints each side verified, a record's ciphertext
 * next to its plaintext, and the close records. Exits 0 by itself.
 *
 * The demo taps the raw TCP sockets on both ends to show the bytes; it uses the same public
 * server and client code as everything else.
 */
import type { Command } from 'commander';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairAsync } from '../../keys/key.js';
import { loadKeyPair, loadPublicKey, saveKeyPair } from '../../keys/files.js';
import { SealwireServer, connectTcp } from '../../transport/tcp.js';
import { getSuite, DEFAULT_SUITE } from '../../suites/index.js';
import { StreamDeframer } from '../../record/frame.js';
import { ContentType } from '../../record/content-type.js';
import type { Suite } from '../../session/handshake.js';
import { parseSuite } from '../args.js';

const SAMPLE = 'Hello from sealwire! This line is encrypted and authenticated on the wire.';

export function register(program: Command, run: (fn: () => Promise<number>) => void): void {
  program
    .command('demo')
    .description('run a server and a client on loopback with throwaway keys and show the encrypted traffic')
    .option('--suite <suite>', 'protocol suite to show', DEFAULT_SUITE)
    .action((opts: { suite: string }) => run(() => demo(parseSuite(opts.suite))));
}

type Dir = 'client → server' | 'server → client';

/** Names the frames seen on one direction of the wire. */
class WireTap {
  private readonly deframer = new StreamDeframer();
  constructor(
    private readonly dir: Dir,
    private readonly suite: Suite,
    private readonly onFrame: (dir: Dir, name: string, bytes: Buffer) => void,
  ) {}

  feed(chunk: Buffer): void {
    this.deframer.push(Buffer.from(chunk));
    for (let f = this.deframer.next(); f; f = this.deframer.next()) {
      const name =
        f.type === ContentType.DATA ? 'Data record' : f.type === ContentType.CLOSE ? 'Close record' : (this.suite.messageNames[f.type] ?? `message 0x${f.type.toString(16)}`);
      this.onFrame(this.dir, name, Buffer.concat([f.header, f.payload]));
    }
  }
}

const say = (line = ''): boolean => process.stdout.write(line + '\n');
const hex = (b: Buffer, max: number): string =>
  [...b.subarray(0, max)].map((x) => x.toString(16).padStart(2, '0')).join(' ') + (b.length > max ? ' …' : '');

async function demo(suiteName: string): Promise<number> {
  const suite = getSuite(suiteName);
  const dir = mkdtempSync(join(tmpdir(), 'sealwire-demo-'));
  try {
    say(`sealwire demo: suite '${suite.name}' (${suite.summary})`);
    say();
    const bits = suite.keyType === 'rsa' ? { bits: 2048 } : {};
    const serverPath = join(dir, 'server.key');
    const clientPath = join(dir, 'client.key');
    saveKeyPair(await generateKeyPairAsync(suite.keyType, bits), serverPath);
    if (suite.clientKeys === 'required') saveKeyPair(await generateKeyPairAsync(suite.keyType, bits), clientPath);
    const serverKey = loadKeyPair(serverPath);
    const clientKey = suite.clientKeys === 'required' ? loadKeyPair(clientPath) : undefined;
    say(`1. keys (throwaway, in ${dir}; private keys mode 0600)`);
    say(`   server  ${serverKey.type.padEnd(6)}  ${serverKey.publicKey.fingerprint}`);
    say(clientKey ? `   client  ${clientKey.type.padEnd(6)}  ${clientKey.publicKey.fingerprint}` : '   client  (anonymous in this suite: only the server has a key)');
    say();

    const frames: { dir: Dir; name: string; bytes: Buffer }[] = [];
    const onFrame = (d: Dir, name: string, bytes: Buffer): void => {
      frames.push({ dir: d, name, bytes });
      if (name !== 'Data record') say(`   ${d}  ${name.padEnd(13)} ${String(bytes.length).padStart(5)} bytes`);
    };

    const server = new SealwireServer({ key: serverKey, suite: suite.name, authorizedKeys: clientKey ? [clientKey.publicKey] : undefined }, (session) => session.pipe(session));
    const listener = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      const tap = new WireTap('client → server', suite, onFrame);
      socket.on('data', (c: Buffer) => tap.feed(c));
      server.handleConnection(socket);
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as net.AddressInfo;
    say(`2. server listening on 127.0.0.1:${port}, echoing what it receives`);
    say();
    say('3. handshake (what crosses the wire)');

    const serverSession = new Promise<string>((resolve) => server.once('session', (s) => resolve(s.fingerprint ?? 'anonymous client')));
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
    const tap = new WireTap('server → client', suite, onFrame);
    socket.on('data', (c: Buffer) => tap.feed(c));
    const session = await connectTcp({ socket, suite: suite.name, key: clientKey, serverKey: loadPublicKey(`${serverPath}.pub`) });
    const serverSide = await serverSession;
    say(`   secure: the client verified the server's key ${session.fingerprint}`);
    say(`           the server ${serverSide === 'anonymous client' ? 'accepted an anonymous client' : `verified the client's key ${serverSide}`}`);
    say();

    const echoed: Buffer[] = [];
    session.on('data', (c: Buffer) => echoed.push(c));
    const closed = new Promise<void>((resolve, reject) => {
      session.once('close', resolve);
      session.once('error', reject);
    });
    const sent = frames.length;
    say('4. traffic');
    await new Promise<void>((resolve) => session.write(SAMPLE, () => resolve()));
    await waitFor(() => Buffer.concat(echoed).length >= Buffer.byteLength(SAMPLE));
    const record = frames.slice(sent).find((f) => f.name === 'Data record' && f.dir === 'client → server');
    say(`   plaintext   "${SAMPLE}" (${Buffer.byteLength(SAMPLE)} bytes)`);
    if (record) say(`   on the wire ${hex(record.bytes, 40)} (${record.bytes.length} bytes: length, type 0x10, then the sealed record)`);
    const back = Buffer.concat(echoed).toString();
    say(`   echoed back "${back}" ${back === SAMPLE ? '(matches)' : '(MISMATCH)'}`);
    say();
    say('5. close (each side sends an authenticated close record; a cut connection would be reported as truncated)');
    session.end();
    await closed;
    await server.close();
    listener.close();
    say('   session closed cleanly; session keys wiped');
    return back === SAMPLE ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('demo: timed out waiting for the echo');
    await new Promise((r) => setTimeout(r, 5));
  }
}
