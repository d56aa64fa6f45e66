/**
 * What the chat client shows and how it reads what the user types, as pure functions (tested as
 * units; the CLI only moves their results to and from the terminal).
 *
 * Line mode (no TTY) prints one event per line, in a fixed format scripts rely on:
 *
 *     alice: hello            public message
 *     * alice waves           action (/me waves)
 *     [private] alice: hi     private message (also one that waited while we were offline)
 *     [history] alice: hello  the room's recent past, shown at sign-in before live lines
 *     [history] * alice waves
 *     * bob joined            * bob left            * online: alice, bob
 *     ! <notice or error>
 *
 * With `--timestamps` each line starts with an ISO 8601 time and a space (`isoStamp`).
 *
 * The terminal UI adds a time stamp (HH:MM:SS), colour, and highlights lines that mention the user
 * (`@name`). Every text from the network is passed through `sanitize`, so no peer can put escape
 * sequences on another user's terminal; a tab is shown as spaces.
 */
import { MAX_TEXT_BYTES, sanitize, USER_NAME } from './protocol.js';
import type { ChatEvent, Outgoing } from './client.js';

/** Tab stops of a message text (a tab is kept on the wire and shown as spaces). */
const TAB_STOP = 8;

/** A message text for the screen: tabs expanded to spaces, control characters escaped. */
export function showText(text: string): string {
  if (!text.includes('\t')) return sanitize(text);
  let col = 0;
  let out = '';
  for (const ch of text) {
    if (ch === '\t') {
      const n = TAB_STOP - (col % TAB_STOP);
      out += ' '.repeat(n);
      col += n;
    } else {
      out += ch;
      col++;
    }
  }
  return sanitize(out);
}

/** `2026-01-31T12:34:56Z`: the line-mode time stamp (UTC, ISO 8601, whole seconds). */
export function isoStamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Our own message as the chat shows it once the server has it. */
function ownText(m: Outgoing, me: string): string {
  switch (m.kind) {
    case 'say':
      return `${sanitize(me)}: ${showText(m.text)}`;
    case 'me':
      return `* ${sanitize(me)} ${showText(m.text)}`;
    case 'msg':
      return `[private to ${sanitize(m.to)}] ${showText(m.text)}`;
  }
}

export function formatLine(e: ChatEvent): string {
  switch (e.kind) {
    case 'public':
      return `${sanitize(e.from)}: ${showText(e.text)}`;
    case 'emote':
      return `* ${sanitize(e.from)} ${showText(e.text)}`;
    case 'private':
      return `[private] ${sanitize(e.from)}: ${showText(e.text)}`;
    case 'history':
      return e.action === 'me' ? `[history] * ${sanitize(e.from)} ${showText(e.text)}` : `[history] ${sanitize(e.from)}: ${showText(e.text)}`;

    case 'joined':
      return `* ${sanitize(e.user)} joined`;
    case 'left':
      return `* ${sanitize(e.user)} left`;
    case 'online':
      return `* online: ${e.users.map(sanitize).join(', ')}`;
    case 'notice':
      return `! ${sanitize(e.text)}`;
  }
}

export type InputCommand =
  | { kind: 'none' }
  | { kind: 'say'; text: string }
  | { kind: 'me'; text: string }
  | { kind: 'msg'; to: string; text: string }
  | { kind: 'who' }
  /** `/passwd` alone (the UI asks for both passwords) or `/passwd OLD NEW`. */
  | { kind: 'passwd'; old?: string; new?: string }
  | { kind: 'quit' }
  | { kind: 'help' }
  | { kind: 'local'; text: string };

export const HELP =
  'commands: /who, /msg NAME TEXT, /me ACTION, /passwd, /quit, /help; other lines are public messages (@name mentions a user, //text sends /text)';

/**
 * Parses one typed line. A message over the protocol's limit (`MAX_TEXT_BYTES`) is refused here,
 * before it leaves, as a `local` notice.
 */
export function parseInput(line: string): InputCommand {
  const cmd = parseCommand(line);
  if (cmd.kind === 'say' || cmd.kind === 'me' || cmd.kind === 'msg') {
    const bytes = Buffer.byteLength(cmd.text, 'utf8');
    if (bytes > MAX_TEXT_BYTES) return { kind: 'local', text: `message too long (${bytes} bytes, limit ${MAX_TEXT_BYTES}); not sent` };
  }
  return cmd;
}

function parseCommand(line: string): InputCommand {
  const text = line.replace(/\r$/, '');
  if (text.trim() === '') return { kind: 'none' };
  if (text.startsWith('//')) return { kind: 'say', text: text.slice(1) };
  if (!text.startsWith('/')) return { kind: 'say', text };
  const m = /^\/(\S+)\s*(.*)$/.exec(text)!;
  const cmd = m[1]!.toLowerCase();
  const rest = m[2]!;
  switch (cmd) {
    case 'who':
      return { kind: 'who' };
    case 'quit':
    case 'exit':
      return { kind: 'quit' };
    case 'help':
      return { kind: 'help' };
    case 'me':
      return rest.trim() === '' ? { kind: 'local', text: 'usage: /me ACTION' } : { kind: 'me', text: rest };
    case 'passwd': {
      if (rest.trim() === '') return { kind: 'passwd' };
      const pw = /^(\S+)\s+(\S+)$/.exec(rest.trim());
      if (!pw) return { kind: 'local', text: 'usage: /passwd (asks for both passwords) or /passwd OLD NEW' };
      return { kind: 'passwd', old: pw[1]!, new: pw[2]! };
    }
    case 'msg': {
      const mm = /^(\S+)\s+(.*\S.*)$/.exec(rest);
      if (!mm) return { kind: 'local', text: 'usage: /msg NAME TEXT' };
      return { kind: 'msg', to: mm[1]!, text: mm[2]! };
    }
    case 'signin':
    case 'signup':
      return { kind: 'local', text: 'already signed in (sign-in and sign-up happen when chat starts: --user, --signup)' };
    case 'nick':
      return { kind: 'local', text: '/nick is not supported: your name is your account name' };
    default:
      return { kind: 'local', text: `unknown command /${sanitize(cmd)} (try /help)` };
  }
}

/** True when `text` mentions `user` as `@user` (case-insensitive, whole name). */
export function mentions(text: string, user: string): boolean {
  return mentionPattern(user).test(text);
}

function mentionPattern(user: string): RegExp {
  const escaped = USER_NAME.test(user) ? user.replace(/[.]/g, '\\.') : '(?!)';
  return new RegExp(`@${escaped}(?![A-Za-z0-9_.-])`, 'i');
}

export interface TuiStyle {
  /** Emit ANSI colours (false for a terminal that does not want them, e.g. NO_COLOR). */
  readonly color: boolean;
}

const ansi = (code: string, s: string, on: boolean): string => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/** `HH:MM:SS` of a time, local. */
export function clock(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** One line of the terminal UI for an event: time stamp, colour, and mention highlighting. */
export function tuiLine(e: ChatEvent, me: string, now: Date, style: TuiStyle): string {
  const t = ansi('2', clock(now), style.color);
  switch (e.kind) {
    case 'public': {
      const mentioned = mentions(e.text, me);
      const body = highlightMentions(showText(e.text), me, style);
      const line = `${t} ${ansi('1;36', sanitize(e.from), style.color)}: ${body}`;
      return mentioned ? `${line}${style.color ? '' : '  <--'}` : line;
    }
    case 'private':
      return `${t} ${ansi('35', '[private]', style.color)} ${ansi('1;35', sanitize(e.from), style.color)}: ${showText(e.text)}`;
    case 'emote':
      return `${t} ${ansi('36', formatLine(e), style.color)}`;
    case 'history': {
      // The time the server accepted it, not now.
      const at = new Date(e.at);
      const when = Number.isNaN(at.getTime()) ? '--:--:--' : clock(at);
      return `${ansi('2', `${when} ${formatLine(e)}`, style.color)}`;
    }
    case 'joined':
    case 'left':
    case 'online':
      return `${t} ${ansi('32', formatLine(e), style.color)}`;
    case 'notice':
      return `${t} ${ansi('33', formatLine(e), style.color)}`;
  }
}

/**
 * The user's own message as the terminal UI shows it once the server accepted it (`sent`), never
 * before: the server does not send it back, and a refused one is only a notice.
 */
export function tuiOwnLine(cmd: Outgoing, me: string, now: Date, style: TuiStyle): string {
  const t = ansi('2', clock(now), style.color);
  if (cmd.kind === 'say') return `${t} ${ansi('1', sanitize(me), style.color)}: ${showText(cmd.text)}`;
  if (cmd.kind === 'me') return `${t} ${ansi('36', ownText(cmd, me), style.color)}`;
  return `${t} ${ansi('35', `[private to ${sanitize(cmd.to)}]`, style.color)} ${showText(cmd.text)}`;
}

/** Marks each `@me` in an already sanitized text (reverse video), or brackets it without colour. */
export function highlightMentions(text: string, me: string, style: TuiStyle): string {
  const re = new RegExp(mentionPattern(me).source, 'gi');
  return text.replace(re, (m) => (style.color ? `\x1b[1;7m${m}\x1b[0m` : `[${m}]`));
}

/** The input prompt of the terminal UI. */
export function prompt(me: string, online: number, style: TuiStyle): string {
  return `${ansi('2', `[${online} online]`, style.color)} ${sanitize(me)}> `;
}
