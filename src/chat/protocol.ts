/**
 * Chat protocol messages: what a chat client and server say to each other inside a sealwire
 * session. Each message is one UTF-8 JSON object with a type tag `t`, parsed once at the edge into
 * a typed value: the size is checked before parsing, then every field's type and length, and
 * anything unexpected (unknown type, missing or extra field) is refused with `BAD_RECORD`.
 *
 * Client → server: signup, signin, say, me, msg, who, passwd, quit.
 * Server → client: welcome, refused, said, emote, private, history, sent, unsent, joined, left,
 * online, notice, bye.
 *
 * Every `say`, `me` and `msg` a member sends is answered by exactly one `sent` (accepted: delivered,
 * or stored for an offline recipient) or `unsent` (refused, with the reason), in the order they
 * were sent, so a client can show a message as sent only once the server has it.
 *
 * Reliability (ids, acknowledgements, order) is not here: TCP gives it, and over UDP reliable.ts
 * adds it below this layer.
 */
import { SealwireError } from '../errors.js';
import { escapeText, isSafeText, peerText } from '../text/escape.js';

/** Largest encoded message accepted from the wire (bytes). Texts above the server's (smaller)
 * message-size limit still parse, so the sender gets a clear notice instead of a dropped session. */
export const MAX_WIRE_MESSAGE = 16 * 1024;
/**
 * Largest message text the protocol carries (UTF-8 bytes): JSON at most doubles a text (`\"`,
 * `\t`), so twice this plus the fields still fits in `MAX_WIRE_MESSAGE`. A server's own limit
 * (`--max-message`) may be lower, never higher.
 */
export const MAX_TEXT_BYTES = 8000;
/**
 * Largest message a chat channel carries (bytes). Above `MAX_WIRE_MESSAGE`, so that an oversize
 * message still arrives whole and the server can answer it with a notice instead of dropping the
 * session; anything larger ends the session.
 */
export const MAX_CHANNEL_MESSAGE = 64 * 1024;
/** The reason of the `bye` that ends an older session when its user signs in again (a client that
 * sees it must not reconnect, or the two sessions would take turns). */
export const BYE_REPLACED = 'signed in from another session';
/** User names: 1-32 of letters, digits, `_`, `-`, `.`; unique regardless of case. */
export const USER_NAME = /^[A-Za-z0-9_.-]{1,32}$/;
/**
 * Names accepted for a new account: as USER_NAME, but not starting with `-` or `.`, so no name
 * reads as a command-line option (`-rf`) or a path (`..`) where an operator or a script meets it.
 * Accounts created before this rule keep signing in.
 */
export const NEW_USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

export type ClientMessage =
  | { t: 'signup'; user: string; password: string }
  | { t: 'signin'; user: string; password: string }
  | { t: 'say'; text: string }
  /** An action: `/me waves` is shown as `* alice waves`. */
  | { t: 'me'; text: string }
  | { t: 'msg'; to: string; text: string }
  | { t: 'who' }
  /** Changes this member's password (the old one is checked again). */
  | { t: 'passwd'; old: string; new: string }
  | { t: 'quit' };

export type ServerMessage =
  | { t: 'welcome'; user: string; online: string[] }
  | { t: 'refused'; reason: string }
  | { t: 'said'; from: string; text: string }
  | { t: 'emote'; from: string; text: string }
  | { t: 'private'; from: string; text: string }
  /** One message of the room's recent past, sent after `welcome` and before live traffic.
   * `kind` is `say` or `me`; `at` is the time the server accepted it (ISO 8601, UTC). */
  | { t: 'history'; kind: string; from: string; text: string; at: string }
  /** The oldest unanswered `say` / `me` / `msg` was accepted. */
  | { t: 'sent' }
  /** The oldest unanswered `say` / `me` / `msg` was refused, and why. */
  | { t: 'unsent'; reason: string }
  | { t: 'joined'; user: string }
  | { t: 'left'; user: string }
  | { t: 'online'; users: string[] }
  | { t: 'notice'; text: string }
  /** The server ends this session (signed in elsewhere, shutting down): the client closes. */
  | { t: 'bye'; reason: string };

type Field = 'string' | 'strings';
const CLIENT_FIELDS: Record<ClientMessage['t'], Record<string, Field>> = {
  signup: { user: 'string', password: 'string' },
  signin: { user: 'string', password: 'string' },
  say: { text: 'string' },
  me: { text: 'string' },
  msg: { to: 'string', text: 'string' },
  who: {},
  passwd: { old: 'string', new: 'string' },
  quit: {},
};
const SERVER_FIELDS: Record<ServerMessage['t'], Record<string, Field>> = {
  welcome: { user: 'string', online: 'strings' },
  refused: { reason: 'string' },
  said: { from: 'string', text: 'string' },
  emote: { from: 'string', text: 'string' },
  private: { from: 'string', text: 'string' },
  history: { kind: 'string', from: 'string', text: 'string', at: 'string' },
  sent: {},
  unsent: { reason: 'string' },
  joined: { user: 'string' },
  left: { user: 'string' },
  online: { users: 'strings' },
  notice: { text: 'string' },
  bye: { reason: 'string' },
};

/** Most names in one `online` / `welcome` list. */
const MAX_LIST = 100_000;

export function encodeMessage(message: ClientMessage | ServerMessage): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

export function decodeClientMessage(bytes: Uint8Array): ClientMessage {
  return decode(bytes, CLIENT_FIELDS, 'client') as ClientMessage;
}

export function decodeServerMessage(bytes: Uint8Array): ServerMessage {
  return decode(bytes, SERVER_FIELDS, 'server') as ServerMessage;
}

function decode(bytes: Uint8Array, schema: Record<string, Record<string, Field>>, from: string): Record<string, unknown> {
  if (bytes.length > MAX_WIRE_MESSAGE) {
    throw new SealwireError('TOO_LARGE', `chat message of ${bytes.length} bytes from the ${from} exceeds ${MAX_WIRE_MESSAGE}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new SealwireError('BAD_RECORD', `chat message from the ${from} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SealwireError('BAD_RECORD', `chat message from the ${from} is not an object`);
  }
  const obj = value as Record<string, unknown>;
  const t = obj['t'];
  if (typeof t !== 'string' || !Object.hasOwn(schema, t)) {
    throw new SealwireError('BAD_RECORD', `chat message from the ${from} has unknown type ${typeof t === 'string' ? `'${peerText(t, 40)}'` : typeof t}`);
  }
  const fields = schema[t]!;
  for (const key of Object.keys(obj)) {
    if (key !== 't' && !Object.hasOwn(fields, key)) throw new SealwireError('BAD_RECORD', `chat '${t}' message has unexpected field '${peerText(key, 40)}'`);
  }
  for (const [key, kind] of Object.entries(fields)) {
    const v = obj[key];
    const ok = kind === 'string' ? typeof v === 'string' : Array.isArray(v) && v.length <= MAX_LIST && v.every((s) => typeof s === 'string');
    if (!ok) throw new SealwireError('BAD_RECORD', `chat '${t}' message: field '${key}' must be ${kind === 'string' ? 'a string' : 'a list of strings'}`);
  }
  return obj;
}

/**
 * True for a text that shows as itself on one line: no control character (C0, DEL, C1), no line
 * or paragraph separator, no Unicode format character (bidi overrides and isolates, LRM/RLM,
 * zero-width characters); see text/escape.ts.
 */
export function isPrintable(text: string): boolean {
  return isSafeText(text);
}

/** Escapes control and format characters, so no peer can drive or reorder another user's terminal. */
export function sanitize(text: string): string {
  return escapeText(text);
}
