/**
 * The client half of every benchmark, and the keys and certificates both halves use.
 *
 * Each implementation is reached the way its users reach it: `net.connect`, `tls.connect` (with the
 * self-signed certificate as its only CA, so the certificate is verified as a pinned key would be),
 * and sealwire's own `connect` with a pinned server key and a client key made once per run. Nagle is
 * off everywhere (sealwire turns it off itself).
 */
import net from 'node:net';
import tls from 'node:tls';
import dgram from 'node:dgram';
import type { Duplex } from 'node:stream';
import { connect } from '../index.js';
import { generateKeyPairAsync, type KeyPair, type PublicKey } from '../keys/key.js';
import { privateKeyPem } from '../keys/files.js';
import { getSuite } from '../suites/index.js';
import { sealwireImpl } from './protocol.js';
import { TLS_CIPHER } from './server-side.js';
import type { ServerMaterial, TcpImpl, UdpImpl } from './protocol.js';

export const HOST = '127.0.0.1';

/** Display names of the baselines; suites show as `sealwire <suite>`. */
export function implLabel(impl: string): string {
  switch (impl) {
    case 'net':
      return 'node:net';
    case 'tls':
      return 'node:tls';
    case 'dgram':
      return 'node:dgram';
    default:
      return `sealwire ${impl}`;
  }
}

interface SuiteKeys {
  readonly server: KeyPair;
  readonly serverPem: string;
  readonly client: KeyPair | undefined;
}

/** Keys and certificates for one benchmark run, made once. */
export class Material {
  private constructor(
    readonly tls: { readonly key: string; readonly cert: string },
    private readonly suites: ReadonlyMap<string, SuiteKeys>,
  ) {}

  /**
   * A P-256 self-signed certificate for node:tls (ECDSA with SHA-256, IP address 127.0.0.1), and
   * for each suite a server key and, where the suite authenticates clients, a client key (default
   * sizes: X25519, RSA 3072). RSA keys are made on the thread pool, all at once.
   */
  static async create(suites: readonly string[]): Promise<Material> {
    const { default: selfsigned } = await import('selfsigned');
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'sealwire-bench' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date(Date.now() - 3_600_000),
      notAfterDate: new Date(Date.now() + 2 * 86_400_000),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: HOST }] }],
    });
    const entries = await Promise.all(
      suites.map(async (name): Promise<[string, SuiteKeys]> => {
        const suite = getSuite(sealwireImpl(name).suite);
        const [server, client] = await Promise.all([
          generateKeyPairAsync(suite.keyType),
          suite.clientKeys === 'required' ? generateKeyPairAsync(suite.keyType) : Promise.resolve(undefined),
        ]);
        return [name, { server, serverPem: privateKeyPem(server), client }];
      }),
    );
    return new Material({ key: pems.private, cert: pems.cert }, new Map(entries));
  }

  /** What the server of `impl` needs. */
  forServer(impl: TcpImpl | UdpImpl): ServerMaterial {
    if (impl === 'tls') return { tls: this.tls };
    if (impl === 'net' || impl === 'dgram') return {};
    return { sealwireKey: this.keys(impl).serverPem };
  }

  serverPublicKey(suite: string): PublicKey {
    return this.keys(suite).server.publicKey;
  }

  serverKeyPair(suite: string): KeyPair {
    return this.keys(suite).server;
  }

  clientKey(suite: string): KeyPair | undefined {
    return this.keys(suite).client;
  }

  private keys(suite: string): SuiteKeys {
    const k = this.suites.get(suite);
    if (!k) throw new Error(`no keys made for suite ${suite}`);
    return k;
  }
}

function settle<T extends Duplex>(stream: T, event: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    stream.once('error', onError);
    stream.once(event, () => {
      stream.off('error', onError);
      resolve(stream);
    });
  });
}

/** Connects to `impl`'s server on `port` and resolves once the session can carry data. */
export async function connectTcp(impl: TcpImpl, port: number, material: Material): Promise<Duplex> {
  if (impl === 'net') return settle(net.connect({ port, host: HOST, noDelay: true }), 'connect');
  if (impl === 'tls') {
    const s = await settle(tls.connect({ port, host: HOST, ca: material.tls.cert, minVersion: 'TLSv1.3', ciphers: TLS_CIPHER }), 'secureConnect');
    s.setNoDelay(true);
    return s;
  }
  return connect({ port, host: HOST, ...sealwireImpl(impl), serverKey: material.serverPublicKey(impl), key: material.clientKey(impl) });
}

/** A client that sends 1-datagram messages. */
export interface UdpClient {
  /** Sends `count` copies of `message`; resolves when the transport has taken them. */
  sendBatch(message: Buffer, count: number): Promise<void>;
  close(): Promise<void>;
}

/** The shape of a sealwire UDP session as the UDP transport (branch `udp`) provides it. */
interface UdpSessionLike {
  send(message: Uint8Array): unknown;
  close(): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

/** Connects a UDP client of `impl` to the server on `port`. */
export async function connectUdp(impl: UdpImpl, port: number, material: Material): Promise<UdpClient> {
  if (impl === 'dgram') {
    const socket = dgram.createSocket('udp4');
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.connect(port, HOST, () => resolve()));
    return {
      sendBatch: (message, count) =>
        new Promise<void>((resolve) => {
          for (let i = 0; i < count - 1; i++) socket.send(message);
          socket.send(message, () => resolve());
        }),
      close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
    };
  }
  const session = (await connect({
    transport: 'udp',
    port,
    host: HOST,
    ...sealwireImpl(impl),
    serverKey: material.serverPublicKey(impl),
    key: material.clientKey(impl),
  })) as unknown as UdpSessionLike;
  session.on('error', () => {});
  return {
    sendBatch: async (message, count) => {
      let last: unknown;
      for (let i = 0; i < count; i++) last = session.send(message);
      if (last instanceof Promise) await last;
    },
    close: async () => {
      const r = session.close();
      if (r instanceof Promise) await r;
    },
  };
}
