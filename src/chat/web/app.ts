/**
 * The web chat page's script (bundled into dist/browser/chat.js by scripts/build-browser.mjs).
 *
 * The page opens a `box` session over a WebSocket at its own origin (`ws` beside the page), with
 * the server key it was served with pinned (the `sealwire-server-key` meta tag), and then speaks
 * the chat protocol of the terminal client inside it: one chat frame (type 0x01, as
 * chat/channel.ts frames it over TCP) per JSON message (chat/protocol.ts). Passwords go to the
 * server inside the session; Argon2 runs there.
 *
 * Every text from the network reaches the page through `textContent`, never as HTML. A session
 * that fails its integrity checks (an altered record, a wrong server key) is shown as broken and
 * is not retried on its own; one that is merely cut (network, server restart) reconnects with
 * backoff and signs in again with the credentials kept in memory (never in storage).
 */
import { connectWebSocket, type BrowserSession } from '../../browser/session.js';
import type { SealwireError } from '../../errors.js';
import { StreamDeframer, encodeFrame } from '../../record/frame.js';
import { USER_NAME, decodeServerMessage, encodeMessage, type ClientMessage } from '../protocol.js';
import { HELP, mentions, parseInput } from '../render.js';

/** The chat's frame type inside a session (chat/channel.ts). */
const CHAT_FRAME = 0x01;
/** Errors that mean the session was tampered with or the server is not the pinned one: no auto-retry. */
const INTEGRITY = new Set(['BAD_RECORD', 'HANDSHAKE_FAILED', 'UNKNOWN_PEER', 'TOO_LARGE', 'LIMIT', 'BAD_KEY']);
const MAX_LINES = 2000;
const RECONNECT_MAX_MS = 30_000;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  status: $<HTMLParagraphElement>('status'),
  fingerprint: $<HTMLElement>('fingerprint'),
  verified: $<HTMLSpanElement>('verified'),
  reconnect: $<HTMLButtonElement>('reconnect'),
  signin: $<HTMLFormElement>('signin'),
  user: $<HTMLInputElement>('user'),
  password: $<HTMLInputElement>('password'),
  signup: $<HTMLButtonElement>('signup-button'),
  signinError: $<HTMLParagraphElement>('signin-error'),
  room: $<HTMLElement>('room'),
  messages: $<HTMLOListElement>('messages'),
  composer: $<HTMLFormElement>('composer'),
  line: $<HTMLInputElement>('line'),
};

const serverKey = document.querySelector<HTMLMetaElement>('meta[name="sealwire-server-key"]')?.content ?? '';
const wsUrl = new URL('ws', location.href);
wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';

interface Credentials {
  user: string;
  password: string;
  signup: boolean;
}

let session: BrowserSession | null = null;
let credentials: Credentials | null = null;
let me = '';
let signedIn = false;
let quitting = false;
let retryMs = 1000;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

function setStatus(text: string, kind: '' | 'ok' | 'broken' = ''): void {
  ui.status.textContent = text;
  ui.status.className = kind;
}

/** Appends one line to the room: each part is text (never HTML), with an optional class. */
function addLine(cls: string, parts: readonly (string | { text: string; cls?: string; tag?: 'span' | 'time' })[]): void {
  const li = document.createElement('li');
  li.className = cls;
  for (const p of parts) {
    if (typeof p === 'string') {
      li.append(document.createTextNode(p));
    } else {
      const el = document.createElement(p.tag ?? 'span');
      if (p.cls) el.className = p.cls;
      el.textContent = p.text;
      li.append(el);
    }
  }
  const atBottom = ui.messages.scrollTop + ui.messages.clientHeight >= ui.messages.scrollHeight - 4;
  ui.messages.append(li);
  while (ui.messages.childElementCount > MAX_LINES) ui.messages.firstElementChild?.remove();
  if (atBottom) ui.messages.scrollTop = ui.messages.scrollHeight;
}

const notice = (text: string): void => addLine('notice', [`! ${text}`]);

function send(message: ClientMessage): void {
  if (!session) {
    notice('not connected; message not sent');
    return;
  }
  session.send(encodeFrame(CHAT_FRAME, encodeMessage(message))).catch((e: SealwireError) => notice(`not sent: ${e.message}`));
}

async function connect(): Promise<void> {
  clearTimeout(retryTimer);
  ui.reconnect.hidden = true;
  setStatus('connecting…');
  let s: BrowserSession;
  try {
    s = await connectWebSocket(wsUrl.href, { serverKey });
  } catch (e) {
    onClosed(e as SealwireError);
    return;
  }
  session = s;
  retryMs = 1000;
  ui.fingerprint.textContent = s.fingerprint;
  ui.verified.textContent = '✓ verified';
  setStatus(`secure session: the server proved it holds key ${s.fingerprint}`, 'ok');
  const deframer = new StreamDeframer();
  s.on('data', (data) => {
    try {
      deframer.push(data);
      for (let f = deframer.next(); f; f = deframer.next()) {
        if (f.type === CHAT_FRAME) handle(f.payload);
      }
    } catch (e) {
      notice(`unreadable message from the server: ${(e as Error).message}`);
    }
  });
  s.on('close', (error) => {
    if (session === s) onClosed(error);
  });
  if (credentials) sendCredentials(credentials);
}

function onClosed(error: SealwireError | null): void {
  session = null;
  signedIn = false;
  ui.verified.textContent = '';
  if (quitting) {
    setStatus('signed out');
    return;
  }
  if (error && INTEGRITY.has(error.code)) {
    // Never retried on its own: an attacker who alters traffic would otherwise get endless tries.
    setStatus(`session broken: ${error.message} [${error.code}]. Nothing more from this session is shown.`, 'broken');
    ui.reconnect.hidden = false;
    return;
  }
  const secs = Math.round(retryMs / 1000);
  setStatus(`connection lost${error ? ` (${error.message})` : ''}; reconnecting in ${secs} s…`);
  ui.reconnect.hidden = false;
  retryTimer = setTimeout(() => void connect(), retryMs);
  retryMs = Math.min(retryMs * 2, RECONNECT_MAX_MS);
}

function sendCredentials(c: Credentials): void {
  send({ t: c.signup ? 'signup' : 'signin', user: c.user, password: c.password });
}

/** One message from the server. Types this page does not know are ignored (a newer server). */
function handle(bytes: Uint8Array): void {
  let m: Record<string, unknown> & { t: string };
  try {
    m = decodeServerMessage(bytes) as unknown as Record<string, unknown> & { t: string };
  } catch {
    return;
  }
  const str = (k: string): string => (typeof m[k] === 'string' ? (m[k] as string) : '');
  const list = (k: string): string[] => (Array.isArray(m[k]) ? (m[k] as string[]) : []);
  switch (m.t) {
    case 'welcome': {
      const first = !signedIn;
      signedIn = true;
      me = str('user');
      // Signed up once: later reconnects sign in.
      if (credentials) credentials.signup = false;
      ui.signin.hidden = true;
      ui.room.hidden = false;
      ui.signinError.textContent = '';
      if (first) notice(`signed in as ${me}; online: ${list('online').join(', ')}`);
      setStatus(`signed in as ${me} · secure session with ${session?.fingerprint ?? ''}`, 'ok');
      ui.line.focus();
      break;
    }
    case 'refused':
      ui.signinError.textContent = `refused: ${str('reason')}`;
      credentials = null;
      ui.signin.hidden = false;
      ui.room.hidden = true;
      break;
    case 'said':
      addLine(mentions(str('text'), me) ? 'public mention' : 'public', [{ text: str('from'), cls: 'from' }, `: ${str('text')}`]);
      break;
    case 'emote':
      addLine('public', [`* `, { text: str('from'), cls: 'from' }, ` ${str('text')}`]);
      break;
    case 'private':
      addLine('private', ['[private] ', { text: str('from'), cls: 'from' }, `: ${str('text')}`]);
      break;
    case 'history': {
      const at = new Date(str('at'));
      const time = Number.isNaN(at.getTime()) ? '' : at.toLocaleString();
      const who = str('kind') === 'me' ? [`* `, { text: str('from'), cls: 'from' }, ` ${str('text')}`] : [{ text: str('from'), cls: 'from' }, `: ${str('text')}`];
      addLine('history', [{ text: time, tag: 'time' }, ...who]);
      break;
    }
    case 'joined':
      addLine('event', [`* ${str('user')} joined`]);
      break;
    case 'left':
      addLine('event', [`* ${str('user')} left`]);
      break;
    case 'online':
      addLine('event', [`* online: ${list('users').join(', ')}`]);
      break;
    case 'notice':
      notice(str('text'));
      break;
    case 'unsent':
      notice(`not sent: ${str('reason')}`);
      break;
    case 'bye':
      notice(`the server ended the session: ${str('reason')}`);
      if (/another session/.test(str('reason'))) quitting = true;
      break;
    default:
      break; // 'sent' and anything newer: nothing to show
  }
}

function submitCredentials(signup: boolean): void {
  const user = ui.user.value.trim();
  const password = ui.password.value;
  if (!USER_NAME.test(user)) {
    ui.signinError.textContent = 'user names are 1-32 letters, digits, _ - or .';
    return;
  }
  if (password.length === 0) {
    ui.signinError.textContent = 'enter a password';
    return;
  }
  credentials = { user, password, signup };
  quitting = false;
  ui.password.value = '';
  ui.signinError.textContent = signup ? 'signing up…' : 'signing in…';
  if (session) sendCredentials(credentials);
  else void connect();
}

ui.signin.addEventListener('submit', (e) => {
  e.preventDefault();
  submitCredentials(false);
});
ui.signup.addEventListener('click', () => submitCredentials(true));
ui.reconnect.addEventListener('click', () => void connect());
ui.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.line.value;
  ui.line.value = '';
  const cmd = parseInput(text) as { kind: string; text?: string; to?: string };
  switch (cmd.kind) {
    case 'none':
      return;
    case 'say':
      send({ t: 'say', text: cmd.text! });
      addLine(mentions(cmd.text!, me) ? 'public own mention' : 'public own', [{ text: me, cls: 'from' }, `: ${cmd.text!}`]);
      return;
    case 'msg':
      send({ t: 'msg', to: cmd.to!, text: cmd.text! });
      addLine('private own', ['[private to ', { text: cmd.to!, cls: 'from' }, `] ${cmd.text!}`]);
      return;
    case 'who':
      send({ t: 'who' });
      return;
    case 'quit':
      quitting = true;
      send({ t: 'quit' });
      session?.close();
      credentials = null;
      ui.room.hidden = true;
      ui.signin.hidden = false;
      return;
    case 'help':
      notice(HELP);
      return;
    case 'local':
      notice(cmd.text ?? '');
      return;
    default:
      notice(`/${cmd.kind} is not available in the web client`);
  }
});

if (!serverKey) setStatus('this page has no server key: it was not served by sealwire chat-server --web', 'broken');
else void connect();
