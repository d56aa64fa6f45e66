/**
 * Precomputed long-term box keys (NaCl's `beforenm`, which docs/DESIGN.md §3 asks for): the vouch `V`
 * is `Box[EC ‖ Stag](Cs -> S)`, under the key that the client's and the server's *long-term* key
 * pairs give. That key is the same in every session between the same two keys, so computing it
 * (an X25519 scalar multiplication) once per pair instead of once per handshake removes a quarter
 * of each side's handshake cost.
 *
 * The cached keys protect nothing that the long-term secret key, held by the same process for as
 * long, does not already expose; V's nonce is random per session (messages.ts), so reusing the
 * key across sessions is what the design already does. Entries are added only after a V has
 * opened under them (the peer proved it holds the matching secret key), the cache is bounded
 * (oldest entry out first), and `wipe()` overwrites every key it holds.
 */
import { boxKeys, type DirectionKeys } from '../../crypto/box.js';
import { wipe } from '../../crypto/secrets.js';
import type { KeyPair } from '../../keys/key.js';

/** Entries kept per local key pair. */
const MAX_ENTRIES = 1024;

export class LongTermKeys {
  private readonly entries = new Map<string, DirectionKeys>();

  constructor(
    private readonly role: 'client' | 'server',
    private readonly own: KeyPair,
  ) {}

  /** The cached keys for `peer`, or undefined. */
  get(peer: Uint8Array): DirectionKeys | undefined {
    return this.entries.get(Buffer.from(peer.buffer, peer.byteOffset, peer.byteLength).toString('base64'));
  }

  /** Computes the keys for `peer` (not cached yet: call `remember` once they proved right). */
  compute(peer: Uint8Array): DirectionKeys {
    return boxKeys(this.role, this.own.publicKey.bytes, this.own.secretKey, peer);
  }

  /** Caches keys that opened a V. The cache owns them from now on. */
  remember(peer: Uint8Array, keys: DirectionKeys): void {
    const id = Buffer.from(peer.buffer, peer.byteOffset, peer.byteLength).toString('base64');
    if (this.entries.has(id)) {
      wipe(keys.send, keys.receive);
      return;
    }
    if (this.entries.size >= MAX_ENTRIES) {
      const [oldest, old] = this.entries.entries().next().value as [string, DirectionKeys];
      this.entries.delete(oldest);
      wipe(old.send, old.receive);
    }
    this.entries.set(id, keys);
  }

  wipe(): void {
    for (const k of this.entries.values()) wipe(k.send, k.receive);
    this.entries.clear();
  }
}

/** Client-side caches, one per client key pair (a client process usually has one). */
const clientCaches = new WeakMap<KeyPair, LongTermKeys>();

export function clientLongTermKeys(own: KeyPair): LongTermKeys {
  let c = clientCaches.get(own);
  if (!c) {
    c = new LongTermKeys('client', own);
    clientCaches.set(own, c);
  }
  return c;
}
