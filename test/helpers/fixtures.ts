/**
 * Keys and handshake factories for testing any suite the same way. RSA keys are 2048 bits (the
 * minimum) to keep tests fast, generated once per test file.
 */
import type { BoxCipherName } from '../../src/crypto/record-aead.js';
import { generateKeyPairAsync, type KeyPair, type KeyType } from '../../src/keys/key.js';
import { getSuite } from '../../src/suites/index.js';
import type { Handshake, ServerIdentity, Suite, SuiteName } from '../../src/session/handshake.js';
import { systemRng, type Rng } from '../../src/crypto/random.js';
import type { PublicKey } from '../../src/keys/key.js';

const keyCache = new Map<string, Promise<KeyPair>>();

/** The `n`-th test key of a type (cached: the same key every call in one process). */
export function testKey(type: KeyType, n: number): Promise<KeyPair> {
  const id = `${type}/${n}`;
  let k = keyCache.get(id);
  if (!k) {
    k = generateKeyPairAsync(type, type === 'rsa' ? { bits: 2048 } : {});
    keyCache.set(id, k);
  }
  return k;
}

export interface ClientOverrides {
  server?: ServerIdentity;
  key?: KeyPair | null;
  rng?: Rng;
}

export interface ServerOverrides {
  key?: KeyPair;
  authorize?: (k: PublicKey) => boolean;
  rng?: Rng;
}

export interface SuiteFixture {
  readonly suite: Suite;
  readonly serverKey: KeyPair;
  /** Another server's key: pinning it must fail. */
  readonly otherServerKey: KeyPair;
  /** The client's key (null for suites with anonymous clients). */
  readonly clientKey: KeyPair | null;
  readonly otherClientKey: KeyPair | null;
  client(o?: ClientOverrides): Handshake;
  server(o?: ServerOverrides): Handshake;
  /** Releases per-server resources (e.g. key pools). */
  close(): void;
}

export interface FixtureOptions {
  /** Replaces `suite.openServer` (e.g. a recycling key pool, so thousands of handshakes need no key generation). */
  openServer?: (key: KeyPair) => { resources: unknown; close(): void };
  /** `box`: the record cipher both ends are forced to (default: negotiated). */
  boxCipher?: BoxCipherName;
}

export async function fixtureFor(name: SuiteName, options: FixtureOptions = {}): Promise<SuiteFixture> {
  const suite = getSuite(name);
  const openServer = options.openServer ?? suite.openServer?.bind(suite);
  const [serverKey, otherServerKey] = await Promise.all([testKey(suite.keyType, 0), testKey(suite.keyType, 1)]);
  const withClientKeys = suite.clientKeys === 'required';
  const clientKey = withClientKeys ? await testKey(suite.keyType, 2) : null;
  const otherClientKey = withClientKeys ? await testKey(suite.keyType, 3) : null;
  const opened = new Map<KeyPair, { resources: unknown; close(): void }>();
  const resourcesFor = (key: KeyPair): unknown => {
    if (!openServer) return undefined;
    let r = opened.get(key);
    if (!r) {
      r = openServer(key);
      opened.set(key, r);
    }
    return r.resources;
  };
  return {
    suite,
    serverKey,
    otherServerKey,
    clientKey,
    otherClientKey,
    client: (o = {}) =>
      suite.client({
        key: o.key === undefined ? clientKey : o.key,
        server: o.server ?? { kind: 'pinned', key: serverKey.publicKey },
        rng: o.rng ?? systemRng,
        boxCipher: options.boxCipher,
      }),
    server: (o = {}) => {
      const key = o.key ?? serverKey;
      return suite.server({ key, authorize: o.authorize ?? (() => true), rng: o.rng ?? systemRng, resources: resourcesFor(key), boxCipher: options.boxCipher });
    },
    close: () => {
      for (const r of opened.values()) r.close();
      opened.clear();
    },
  };
}
