/**
 * The contract between a suite's handshake and the session that drives it.
 *
 * A handshake is a pure state machine: it takes one message at a time and returns the messages to
 * send. It never touches a socket, a timer or the clock; randomness comes from the `Rng` it was
 * built with. Only when it has verified the peer does it return `established`, carrying the record
 * ciphers: a session cannot carry traffic before that, because it has no keys before that.
 *
 * Messages are (type, payload) pairs, not frames, so that the same state machines serve the
 * stream transport (which frames them with a length) and the datagram transport.
 */
import type { RecordCipher } from '../record/cipher.js';
import type { KeyPair, KeyType, PublicKey } from '../keys/key.js';
import type { Rng } from '../crypto/random.js';
import type { BoxCipherName } from '../crypto/record-aead.js';

export interface HandshakeMessage {
  /** 0x00–0x0f; the suite's own numbering (seed 000 uses 0x00–0x04). */
  readonly type: number;
  readonly payload: Uint8Array;
}

export interface Established {
  /** Protects what this side sends. */
  readonly send: RecordCipher;
  /** Opens what the peer sends. */
  readonly receive: RecordCipher;
  /**
   * The peer's long-term key as verified by the handshake: the server's key on a client, the
   * client's key on a server (null where the suite leaves clients anonymous).
   */
  readonly peerPublicKey: PublicKey | null;
}

export interface HandshakeStep {
  /** Messages to send, in order. */
  readonly send: readonly HandshakeMessage[];
  /** Set once, when the peer is verified and keys are ready. */
  readonly established?: Established;
  /** Application data that travelled inside the handshake (cbcmac's first flight). */
  readonly data?: readonly Uint8Array[];
}

export interface Handshake {
  readonly role: 'client' | 'server';
  /** The first flight: the client's opening messages (a server that speaks first sends here too). */
  start(): HandshakeStep;
  /** Processes one message. Throws a `SealwireError` (usually `HANDSHAKE_FAILED`) on any failure. */
  receive(message: HandshakeMessage): HandshakeStep;
  /**
   * What the handshake waits for now, for error messages, e.g. "the server's Cookie (check that
   * the pinned server key is this server's)". Says what the operator can check; never secrets.
   */
  readonly awaiting: string;
  /** Wipes ephemeral secrets. Called when the handshake ends, whichever way it ends. */
  wipe(): void;
}

/** How a client knows the server's key. */
export type ServerIdentity =
  /** Known beforehand (a key file): the handshake uses it from the first message. */
  | { readonly kind: 'pinned'; readonly key: PublicKey }
  /**
   * Learned from the server during the handshake (fingerprint pinning, known_hosts): `verify`
   * throws `UNKNOWN_PEER` to refuse the key the server presents.
   */
  | { readonly kind: 'learn'; readonly verify: (offered: PublicKey) => void };

export interface ClientConfig {
  /** The client's long-term key pair, for suites that authenticate clients. */
  readonly key: KeyPair | null;
  readonly server: ServerIdentity;
  readonly rng: Rng;
  /**
   * Datagram transports: the session's connection id (8 bytes, sent in clear in every datagram).
   * A suite must bind it into the authenticated part of its first message so that a copy of the
   * handshake under another id is refused. Absent on streams.
   */
  readonly connectionId?: Uint8Array;
  /** `box`: the one record cipher to accept; absent: every one this build has (crypto/record-aead.ts). */
  readonly boxCipher?: BoxCipherName;
}

export interface ServerConfig {
  readonly key: KeyPair;
  /** Decides whether an authenticated client key may connect (suites with client keys). */
  readonly authorize: (peer: PublicKey) => boolean;
  readonly rng: Rng;
  /** What `Suite.openServer` returned for this server, if the suite has one. */
  readonly resources?: unknown;
  /** Datagram transports: the connection id this handshake's datagrams carry (see ClientConfig). */
  readonly connectionId?: Uint8Array;
  /** What `Suite.prepareSession` resolved to for this connection, if the suite has one. */
  readonly session?: unknown;
  /** `box`: the one record cipher to accept; absent: every one this build has (crypto/record-aead.ts). */
  readonly boxCipher?: BoxCipherName;
}

export type SuiteName = 'box' | 'sid' | 'secsess' | 'ccm' | 'cbcmac';
export const SUITE_NAMES: readonly SuiteName[] = ['box', 'sid', 'secsess', 'ccm', 'cbcmac'];

export interface Suite {
  readonly name: SuiteName;
  /** Type of the server's long-term key (and of client keys where clients have them). */
  readonly keyType: KeyType;
  /** Whether clients authenticate with a key pair of their own. */
  readonly clientKeys: 'required' | 'none';
  /** One line on what the suite is (for `--help`, the demo and logs). */
  readonly summary: string;
  /** Names of the suite's handshake message types, for the demo and for traces. */
  readonly messageNames: Readonly<Record<number, string>>;
  client(config: ClientConfig): Handshake;
  server(config: ServerConfig): Handshake;
  /** How the suite runs over datagrams (transport/udp); absent: the defaults of record/datagram.ts. */
  readonly datagram?: DatagramProfile;
  /**
   * Per-server resources shared by its handshakes (cbcmac's pool of per-session RSA keys).
   * Returns the value passed as `ServerConfig.resources`, and how to release it.
   */
  openServer?(key: KeyPair): { resources: unknown; close(): void };
  /**
   * Per-connection work a server does before its handshake can start, off the event loop (cbcmac:
   * a fresh RSA key from the pool). Resolves at once while resources are ready; the transport
   * waits for it (bounded by the handshake timeout) and passes the value as `ServerConfig.session`.
   */
  prepareSession?(resources: unknown): Promise<unknown>;
}

/** What a suite changes in the generic datagram layer (record/datagram.ts). */
export interface DatagramProfile {
  /**
   * `'layer'` (default): the datagram layer writes `type ‖ cid ‖ seq` and hands it to the
   * `RecordCipher` as the header. `'cipher'`: the layer writes only the type byte and the cipher
   * writes `cid ‖ seq` itself (a suite whose record format is its seed's, such as `sid`).
   */
  readonly recordHeader?: 'layer' | 'cipher';
  /**
   * The client pads its handshake datagrams to this many bytes (record/datagram.ts, `PADDED`), for
   * suites whose server answers can be larger than the client's messages (sid: an RSA key).
   */
  readonly padClientHandshakeTo?: number;
  /** Type of the server's error reply (`type ‖ cid`) to a handshake message that failed; absent: silence. */
  readonly rejectType?: number;
  /** Type of the "handshake again" notice (`type ‖ cid`) for a record with an unknown cid (default 0x1f). */
  readonly handshakeAgainType?: number;
  /**
   * A server that answers the first flight without keeping state (box: the Cookie carries the
   * server's ephemeral state sealed under a rotating key, as CurveCP does), so Hellos cost no memory.
   */
  readonly stateless?: (config: ServerConfig) => StatelessServer;
}

/** See `DatagramProfile.stateless`. Time is passed in (milliseconds, monotonic). */
export interface StatelessServer {
  /**
   * For a message under an unknown connection id: the replies if it is answered without state,
   * `'resume'` if it carries the server's token and needs a session (then call `resume`). Throws
   * on a bad message.
   */
  answer(m: HandshakeMessage, connectionId: Uint8Array, now: number): readonly HandshakeMessage[] | 'resume';
  /** A server handshake rebuilt from the token in `m`, ready to `receive(m)`. Throws on a bad or used token. */
  resume(m: HandshakeMessage, connectionId: Uint8Array, now: number): Handshake;
}
