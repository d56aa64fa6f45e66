/**
 * What the robustness suite attacks: every suite this build provides (`availableSuites()`) over
 * every stream transport, through the public API. A suite or transport merged later is covered
 * without editing the tests: they iterate over `targets()`.
 *
 * Shared by the vitest files (quick form) and the soak runner (long form), so nothing here uses
 * `expect`: failures are thrown as plain `Error`s naming what went wrong.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { connect, createServer, memoryPair, SealwireError, type SealwireServer, type SecureSession } from '../../../src/index.js';
import { StreamSession } from '../../../src/session/stream-session.js';
import { availableSuites } from '../../../src/suites/index.js';
import type { SuiteName } from '../../../src/session/handshake.js';
import type { ConnectOptions, ServerOptions } from '../../../src/options.js';
import { fixtureFor, testKey, type SuiteFixture } from '../../helpers/fixtures.js';
import { getSuite } from '../../../src/suites/index.js';
import { RecyclingKeyPoolForTestingOnly } from '../../../src/keys/rsa-pool.js';
import type { KeyPair } from '../../../src/keys/key.js';

export type StreamTransport = 'tcp' | 'memory';
export const STREAM_TRANSPORTS: readonly StreamTransport[] = ['tcp', 'memory'];

export interface Target {
  readonly suite: SuiteName;
  readonly transport: StreamTransport;
}

/** Every (suite, stream transport) pair of this build. */
export function targets(transports: readonly StreamTransport[] = STREAM_TRANSPORTS): Target[] {
  return availableSuites().flatMap((suite) => transports.map((transport) => ({ suite, transport })));
}

let sessionKeys: Promise<KeyPair[]> | undefined;
/**
 * Per-server resources for suites that have them (cbcmac's pool of per-session RSA keys): a
 * recycling pool of two pre-made keys, so thousands of handshakes need no key generation. The
 * real pool (a worker generating keys) has its own tests in test/suites; what is attacked here is
 * the handshake and the transports, which take a key from the pool the same way.
 */
export async function testOpenServer(suite: SuiteName): Promise<((key: KeyPair) => { resources: unknown; close(): void }) | undefined> {
  if (!getSuite(suite).openServer) return undefined;
  sessionKeys ??= Promise.all([testKey('rsa', 10), testKey('rsa', 11)]);
  const keys = await sessionKeys;
  return () => ({ resources: new RecyclingKeyPoolForTestingOnly(keys), close: () => {} });
}

const fixtures = new Map<SuiteName, Promise<SuiteFixture>>();
/** Keys for a suite (cached per process: RSA key generation is slow). */
export function fixture(suite: SuiteName): Promise<SuiteFixture> {
  let f = fixtures.get(suite);
  if (!f) {
    f = testOpenServer(suite).then((openServer) => fixtureFor(suite, { openServer }));
    fixtures.set(suite, f);
  }
  return f;
}

export interface Running {
  readonly server: SealwireServer;
  readonly fx: SuiteFixture;
  /** TCP port (0 for the memory transport). */
  readonly port: number;
  /** Opens a client session (over a new TCP connection or a new memory pair). */
  dial(extra?: Partial<ConnectOptions>): Promise<SecureSession>;
  /** Errors the server reported, by event. */
  readonly handshakeErrors: SealwireError[];
  readonly sessionErrors: SealwireError[];
  close(): Promise<void>;
}

/** Starts a server for `target` (listening on 127.0.0.1 port 0 for TCP). */
export async function startServer(
  target: Target,
  onSession: (s: SecureSession) => void,
  extra: Partial<Omit<ServerOptions, 'transport'>> = {},
): Promise<Running> {
  const fx = await fixture(target.suite);
  const openServerForTestingOnly = await testOpenServer(target.suite);
  const server = createServer({ key: fx.serverKey, suite: target.suite, anyClient: true, ...(openServerForTestingOnly ? { openServerForTestingOnly } : {}), ...extra }, onSession);
  const handshakeErrors: SealwireError[] = [];
  const sessionErrors: SealwireError[] = [];
  server.on('handshakeError', (e: SealwireError) => handshakeErrors.push(e));
  server.on('sessionError', (e: SealwireError) => sessionErrors.push(e));
  const port = target.transport === 'tcp' ? (await server.listen(0, '127.0.0.1')).port : 0;
  const dial = (more: Partial<Omit<ConnectOptions, 'transport'>> = {}): Promise<SecureSession> => {
    const base: Omit<ConnectOptions, 'transport'> = { suite: target.suite, serverKey: fx.serverKey.publicKey, key: fx.clientKey ?? undefined, ...more };
    if (target.transport === 'tcp' || more.socket) return connect({ host: '127.0.0.1', port, ...base });
    const [a, b] = memoryPair();
    server.handleConnection(b);
    return connect({ ...base, socket: a });
  };
  return { server, fx, port, dial, handshakeErrors, sessionErrors, close: () => server.close() };
}

/** Resolves when `cond()` holds; rejects with `what` after `ms` (a bound, not a timed assertion). */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Rejects with `what` if `p` takes longer than `ms`. */
export function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
    }),
  ]);
}

/** Counts of what a run did, merged across workloads and printed by the soak runner. */
export class Tally {
  sessions = 0;
  handshakes = 0;
  roundTrips = 0;
  bytes = 0;
  readonly errors = new Map<string, number>();
  readonly figures = new Map<string, number>();

  error(e: unknown): void {
    const code = e instanceof SealwireError ? e.code : `non-SealwireError:${e instanceof Error ? e.name : typeof e}`;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** Records the largest value seen for a named measurement (memory, buffered bytes). */
  figure(name: string, value: number): void {
    this.figures.set(name, Math.max(this.figures.get(name) ?? 0, value));
  }

  add(o: Tally): this {
    this.sessions += o.sessions;
    this.handshakes += o.handshakes;
    this.roundTrips += o.roundTrips;
    this.bytes += o.bytes;
    for (const [k, v] of o.errors) this.errors.set(k, (this.errors.get(k) ?? 0) + v);
    for (const [k, v] of o.figures) this.figure(k, v);
    return this;
  }

  summary(): string {
    const errs = [...this.errors].sort().map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
    const figs = [...this.figures].sort().map(([k, v]) => `${k}=${v}`).join(' ');
    return `sessions=${this.sessions} handshakes=${this.handshakes} roundTrips=${this.roundTrips} bytes=${this.bytes} errors: ${errs}${figs ? `\nfigures: ${figs}` : ''}`;
  }
}

/**
 * A raw byte stream to the server of `running` (a TCP socket, or a memory pair end the server
 * handles): the attacker's or the faulty peer's side, with no session on it.
 */
export function rawSocket(target: Target, running: Running): Promise<Duplex> {
  if (target.transport === 'memory') {
    const [a, b] = memoryPair();
    running.server.handleConnection(b);
    a.on('error', () => {});
    return Promise.resolve(a);
  }
  return new Promise((resolve, reject) => {
    const s = net.connect(running.port, '127.0.0.1', () => resolve(s));
    s.on('error', () => {});
    s.once('error', reject);
  });
}

export interface RawClient {
  readonly socket: Duplex;
  readonly core: StreamSession;
  /** Data the client core received (authenticated plaintext). */
  readonly received: Buffer[];
  readonly errors: SealwireError[];
  /** Seals `data` and returns the record bytes without writing them. */
  seal(data: Uint8Array): Buffer;
}

/**
 * Runs the client side of the suite's handshake by hand (the sans-I/O core over a raw socket), so
 * a test can then misbehave at the byte level: send part of a record, FIN without a close record,
 * reset the connection. Resolves once the handshake is done.
 */
export async function rawClient(target: Target, socket: Duplex, fx: SuiteFixture): Promise<RawClient> {
  const core = new StreamSession(fx.client(), { now: 0 });
  const received: Buffer[] = [];
  const errors: SealwireError[] = [];
  const flush = (): void => {
    for (const c of core.takeOutput()) if (!socket.destroyed) socket.write(c);
  };
  return new Promise((resolve, reject) => {
    let secure = false;
    const client: RawClient = {
      socket,
      core,
      received,
      errors,
      seal: (data) => {
        core.send(data);
        return Buffer.concat(core.takeOutput());
      },
    };
    const pump = (): void => {
      flush();
      for (const ev of core.takeEvents()) {
        if (ev.type === 'secure') {
          secure = true;
          resolve(client);
        } else if (ev.type === 'data') received.push(Buffer.from(ev.data));
        else if (ev.type === 'error') {
          errors.push(ev.error);
          if (!secure) reject(ev.error);
        }
      }
    };
    socket.on('data', (d: Buffer) => {
      core.receive(d);
      pump();
    });
    socket.on('end', () => {
      core.receiveEnd();
      pump();
    });
    socket.on('close', () => {
      if (!secure) reject(new Error(`${target.suite}/${target.transport}: connection closed during the raw handshake`));
    });
    core.start();
    pump();
  });
}

/** The client's first flight as bytes, from a fresh client handshake (what a peer sends first). */
export function firstFlight(fx: SuiteFixture): Buffer {
  const core = new StreamSession(fx.client(), { now: 0 });
  core.start();
  return Buffer.concat(core.takeOutput());
}

/** Open TCP handles (sockets and servers) of this process. */
export function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
}
