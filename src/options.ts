/**
 * Public options of `createServer` and `connect`, and their resolution into what the sans-I/O
 * handshakes take: the suite, key pairs of the right type, how the client trusts the server
 * (pinned key, fingerprint, known_hosts), and the server's `authorize` decision. Shared by every
 * transport, so TCP and UDP check options the same way and say the same things when they are wrong.
 */
import { SealwireError } from './errors.js';
import { systemRng, type Rng } from './crypto/random.js';
import { KeyPair, MIN_RSA_BITS, PublicKey, generateKeyPair, generateKeyPairAsync } from './keys/key.js';
import { loadPublicKey } from './keys/files.js';
import { authorizeKeys, loadAuthorizedKeys } from './keys/authorized-keys.js';
import { KnownHosts, hostPortKey } from './keys/known-hosts.js';
import { defaultKnownHostsPath } from './keys/home.js';
import { getSuite } from './suites/index.js';
import type { ServerIdentity, Suite, SuiteName } from './session/handshake.js';
import type { ServerTrust } from './transport/secure-session.js';
import { BOX_CIPHER_NAMES, type BoxCipherName } from './crypto/record-aead.js';

export interface CommonOptions {
  /** The suite (default `'box'`). Both ends must use the same one. */
  suite?: SuiteName;
  /** Milliseconds a handshake may take before it is dropped (default 10 000). */
  handshakeTimeout?: number;
  /** Randomness source; tests pass a seeded one. Default: the OS CSPRNG. */
  rng?: Rng;
  /**
   * `box` only: the one record cipher this side accepts. Default: negotiated, ChaCha20-Poly1305
   * when both sides have it, else seed 003's XSalsa20-Poly1305 (docs/PROTOCOLS.md).
   */
  boxCipher?: BoxCipherName;
}

export interface ServerOptions extends CommonOptions {
  /** The server's long-term key pair (X25519 for `box`, RSA for the other suites). */
  key: KeyPair;
  /**
   * Called with each authenticated client key; return false to refuse the client. Combined with
   * `authorizedKeys` when both are given (both must accept).
   */
  authorize?: (peerKey: PublicKey) => boolean;
  /** Client keys allowed to connect: a list, or the path of an authorized_keys file. */
  authorizedKeys?: readonly PublicKey[] | string;
  /**
   * Accept any client key (the client still proves it holds the key it names). For a suite that
   * authenticates clients (box, sid, ccm), one of `authorizedKeys`, `authorize` or `anyClient: true`
   * is required: `createServer` throws `INVALID_ARGUMENT` without one. Beside a list or callback,
   * `anyClient` widens nothing: they still decide.
   */
  anyClient?: boolean;
  /** `'tcp'` (default) or `'udp'`. */
  transport?: 'tcp' | 'udp';
  /**
   * Most handshakes in progress at once (default 512). At the bound a new connection is accepted
   * and the oldest handshake in progress is dropped (`LIMIT`), so a flood of half-open handshakes
   * cannot lock out legitimate clients.
   */
  maxHandshakes?: number;
  /**
   * Test seam: replaces the suite's per-server resources (cbcmac's pool of per-session RSA keys),
   * so tests can run many handshakes without generating keys. Never set outside tests.
   */
  openServerForTestingOnly?: (key: KeyPair) => { resources: unknown; close(): void };
  /**
   * Milliseconds `close()` lets each session flush its close record before dropping it with
   * `TIMEOUT` (default 5 000): a peer that stops reading cannot keep the server from closing.
   */
  lingerTimeout?: number;
}

export interface ConnectOptions extends CommonOptions {
  host?: string;
  port?: number;
  /** This client's long-term key pair (suites that authenticate clients). Default: a throwaway key. */
  key?: KeyPair;
  /**
   * The server's public key as `loadKey` returns it, the path of a key file, or a `SHA256:…`
   * fingerprint. Without it the client uses known_hosts (trust on first use).
   */
  serverKey?: PublicKey | KeyPair | string;
  /** known_hosts file used when no `serverKey` is given (default `~/.sealwire/known_hosts`); false to refuse unknown servers. */
  knownHosts?: string | false;
  /** `'tcp'` (default) or `'udp'`. */
  transport?: 'tcp' | 'udp';
  /** Run over an existing connected stream (e.g. one end of `memoryPair()`) instead of dialing. */
  socket?: import('node:stream').Duplex;
}

export const DEFAULT_HOST = '127.0.0.1';

/** The suite, and a server key of the type it needs. */
export function resolveServer(options: ServerOptions): { suite: Suite; key: KeyPair; authorize: (k: PublicKey) => boolean; rng: Rng; boxCipher: BoxCipherName | undefined } {
  if (!options || typeof options !== 'object') throw new SealwireError('INVALID_ARGUMENT', 'createServer: options are required');
  const suite = getSuite(options.suite);
  if (!(options.key instanceof KeyPair)) {
    throw new SealwireError('INVALID_ARGUMENT', `createServer: 'key' must be a KeyPair (from generateKeyPair or loadKey of a private key file)`);
  }
  checkKeyType(suite, options.key, 'server');
  checkClientPolicy(suite, options);
  return { suite, key: options.key, authorize: resolveAuthorize(options), rng: options.rng ?? systemRng, boxCipher: resolveBoxCipher(suite, options) };
}

/** `boxCipher`, checked: a known name, and only for `box`. */
export function resolveBoxCipher(suite: Suite, options: CommonOptions): BoxCipherName | undefined {
  const c = options.boxCipher;
  if (c === undefined) return undefined;
  if (!BOX_CIPHER_NAMES.includes(c)) {
    throw new SealwireError('INVALID_ARGUMENT', `boxCipher must be one of ${BOX_CIPHER_NAMES.join(', ')}, got ${JSON.stringify(c)}`);
  }
  if (suite.name !== 'box') throw new SealwireError('INVALID_ARGUMENT', `boxCipher applies to suite 'box' only, not '${suite.name}'`);
  return c;
}

/**
 * A server of a suite that authenticates clients names its client policy: `authorizedKeys`,
 * `authorize`, or `anyClient: true`. None of them is refused (a server that silently accepts every
 * key proves only that a client holds *some* key). `anyClient` never widens a list or callback
 * given beside it: those still decide. Suites without client keys (secsess, cbcmac) need no policy.
 */
function checkClientPolicy(suite: Suite, options: ServerOptions): void {
  if (options.anyClient !== undefined && typeof options.anyClient !== 'boolean') {
    throw new SealwireError('INVALID_ARGUMENT', `createServer: 'anyClient' must be a boolean`);
  }
  if (options.authorize !== undefined && typeof options.authorize !== 'function') {
    throw new SealwireError('INVALID_ARGUMENT', `createServer: 'authorize' must be a function`);
  }
  const listed = options.authorizedKeys !== undefined || options.authorize !== undefined;
  if (suite.clientKeys === 'required' && !listed && options.anyClient !== true) {
    throw new SealwireError(
      'INVALID_ARGUMENT',
      `createServer: suite '${suite.name}' authenticates clients: choose a client policy with 'authorizedKeys', 'authorize' or 'anyClient: true'`,
    );
  }
}

function resolveAuthorize(options: ServerOptions): (k: PublicKey) => boolean {
  const checks: ((k: PublicKey) => boolean)[] = [];
  if (options.authorizedKeys !== undefined) {
    const list = typeof options.authorizedKeys === 'string' ? loadAuthorizedKeys(options.authorizedKeys) : options.authorizedKeys;
    checks.push(authorizeKeys(list));
  }
  if (options.authorize) checks.push(options.authorize);
  return (k) => checks.every((check) => check(k) === true);
}

/** The client's own key: the given one (checked), or a throwaway one for suites that need it. */
export async function resolveClientKey(suite: Suite, key: KeyPair | undefined): Promise<KeyPair | null> {
  if (key !== undefined) {
    if (!(key instanceof KeyPair)) throw new SealwireError('INVALID_ARGUMENT', `connect: 'key' must be a KeyPair`);
    if (suite.clientKeys === 'none') return null;
    checkKeyType(suite, key, 'client');
    return key;
  }
  if (suite.clientKeys === 'none') return null;
  // A throwaway RSA key takes tens of milliseconds to make: off the event loop, so a client
  // never stalls the other sessions of its process.
  return suite.keyType === 'rsa' ? generateKeyPairAsync('rsa', { bits: MIN_RSA_BITS }) : generateKeyPair(suite.keyType);
}

export interface ResolvedIdentity {
  readonly identity: ServerIdentity;
  readonly trust: ServerTrust;
  /** Called with the server's verified key once the handshake succeeds (records first-use keys). */
  readonly onVerified: (key: PublicKey) => void;
}

/** How the client will trust the server: pinned key, fingerprint, or known_hosts. */
export function resolveServerIdentity(suite: Suite, options: ConnectOptions, host: string, port: number): ResolvedIdentity {
  const noop = (): void => {};
  const given = options.serverKey;
  if (given instanceof PublicKey || given instanceof KeyPair) {
    const key = given instanceof KeyPair ? given.publicKey : given;
    checkKeyType(suite, key, 'server');
    return { identity: { kind: 'pinned', key }, trust: 'pinned', onVerified: noop };
  }
  if (typeof given === 'string') {
    if (given.startsWith('SHA256:')) {
      const verify = (offered: PublicKey): void => {
        if (offered.fingerprint !== given) {
          throw new SealwireError('UNKNOWN_PEER', `server key ${offered.fingerprint} does not match the expected fingerprint ${given}`);
        }
      };
      return { identity: { kind: 'learn', verify }, trust: 'fingerprint', onVerified: noop };
    }
    const key = loadPublicKey(given);
    checkKeyType(suite, key, 'server');
    return { identity: { kind: 'pinned', key }, trust: 'pinned', onVerified: noop };
  }
  if (given !== undefined) throw new SealwireError('INVALID_ARGUMENT', `connect: 'serverKey' must be a PublicKey, a key file path or a SHA256: fingerprint`);
  if (options.knownHosts === false) {
    throw new SealwireError('INVALID_ARGUMENT', 'connect: no serverKey given and known_hosts disabled: refusing to trust an unknown server');
  }
  const knownHosts = KnownHosts.load(options.knownHosts ?? defaultKnownHostsPath());
  const entry = knownHosts.lookup(host, port);
  const verify = (offered: PublicKey): void => {
    if (offered.type !== suite.keyType) {
      throw new SealwireError('UNKNOWN_PEER', `server at ${hostPortKey(host, port)} presented a ${offered.type} key; suite ${suite.name} needs ${suite.keyType}`);
    }
    knownHosts.check(host, port, offered);
  };
  return {
    identity: { kind: 'learn', verify },
    trust: entry ? 'known-host' : 'first-use',
    onVerified: (key) => {
      if (!knownHosts.lookup(host, port)) knownHosts.add(host, port, key);
    },
  };
}

function checkKeyType(suite: Suite, key: KeyPair | PublicKey, whose: 'server' | 'client'): void {
  if (key.type !== suite.keyType) {
    throw new SealwireError(
      'BAD_KEY',
      `suite '${suite.name}' needs ${suite.keyType} keys, but the ${whose} key is ${key.type}` +
        ` (make one with: sealwire keygen --type ${suite.keyType} --out FILE)`,
    );
  }
}
