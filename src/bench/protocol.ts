/**
 * What the benchmark's client side asks of its server host (a child process, or the same process
 * in tests), and what comes back. Plain JSON-serialisable objects: they cross a process boundary
 * over Node's IPC channel.
 */
import type { SuiteName } from '../session/handshake.js';
import { BOX_CIPHER_NAMES, type BoxCipherName } from '../crypto/record-aead.js';

/** A TCP implementation under test: the two baselines, or a sealwire suite by name. */
export type TcpImpl = 'net' | 'tls' | (string & {});
/** A UDP implementation under test: plaintext `dgram`, or a sealwire suite by name. */
export type UdpImpl = 'dgram' | (string & {});

/**
 * What a TCP server does with each connection:
 * - `sink`: counts received bytes and writes one byte back for every `ackEvery` bytes;
 * - `echo`: writes everything back (pipe);
 * - `accept`: completes the handshake and reads nothing (handshake figures, idle sessions).
 */
export type TcpMode = 'sink' | 'echo' | 'accept';

/** Keys and certificates for the servers, made once by the client side and shipped as text. */
export interface ServerMaterial {
  /** node:tls: PKCS#8 PEM private key and its self-signed certificate. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** sealwire: the server's private key file text (PKCS#8 PEM). Contains a secret: bench keys only. */
  readonly sealwireKey?: string;
}

export type HostRequest =
  | { readonly cmd: 'startTcp'; readonly impl: TcpImpl; readonly mode: TcpMode; readonly ackEvery?: number; readonly material: ServerMaterial }
  | { readonly cmd: 'startUdp'; readonly impl: UdpImpl; readonly material: ServerMaterial }
  | { readonly cmd: 'stop'; readonly id: number }
  | { readonly cmd: 'counters'; readonly id: number }
  | { readonly cmd: 'memory' }
  | { readonly cmd: 'cpu' }
  | { readonly cmd: 'exit' };

export interface Started {
  readonly id: number;
  readonly port: number;
}

export interface Counters {
  /** Sessions (connections) established and not yet closed. */
  readonly live: number;
  /** Sessions established since start. */
  readonly sessions: number;
  /** Messages received (UDP). */
  readonly messages: number;
  /** Bytes received (TCP sink). */
  readonly bytes: number;
}

export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  /** True when a full GC ran before the sample (the host runs with --expose-gc). */
  readonly gc: boolean;
}

/** `process.cpuUsage()` of the server process, microseconds. */
export interface CpuSample {
  readonly user: number;
  readonly system: number;
}

export type HostReply = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly error: string };

/**
 * A sealwire implementation of the bench: a suite name, or `box:<cipher>` for `box` with its record
 * cipher forced (`boxCipher`), so one run can set the negotiated default beside seed 003's cipher.
 */
export function sealwireImpl(impl: string): { suite: SuiteName; boxCipher?: BoxCipherName } {
  const [suite, cipher] = impl.split(':') as [SuiteName, BoxCipherName | undefined];
  return cipher ? { suite, boxCipher: cipher } : { suite };
}

/** Whether `impl` names a suite of this build or a `box:<cipher>` variant. */
export function isSealwireImpl(impl: string, suites: readonly string[]): boolean {
  const { suite, boxCipher } = sealwireImpl(impl);
  return suites.includes(suite) && (boxCipher === undefined || (suite === 'box' && BOX_CIPHER_NAMES.includes(boxCipher)));
}
