/**
 * What the chat client shows and how it reads what the user types, as pure functions (tested as
 * units; the CLI only moves their results to and from the terminal).
 *
 * Line mode (no TTY) prints one event per line, in a fixed format scripts rely on:
 *
 *     alice: hello            public message
 *     [private] alice: hi     private message
 *     * bob joined            * bob left            * online: alice, bob
 *     ! <notice or error>
 *
 * The terminal UI adds a time stamp, colour, and highlights lines that mention the user
 * (`@name`). Every text from the network is passed through `sanitize`, so no peer can put escape
 * sequences on another user's terminal.
 */
import { sanitize, USER_NAME } from './protocol.js';
import type { ChatEvent } from './client.js';

export function formatLine(e: ChatEvent): string {
  switch (e.kind) {
    case 'public':
      return `${sanitize(e.from)}: ${sanitize(e.text)}`;
    case 'private':
      return `[private] ${sanitize(e.from)}: ${sanitize(e.text)}`;
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
  | { kind: 'msg'; to: string; text: string }
  | { kind: 'who' }
  | { kind: 'quit' }
  | { kind: 'help' }
  | { kind: 'local'; text: string };

export const HELP =
  'commands: /who, /msg NAME TEXT, /quit, /help; other lines are public messages (@name mentions a user, //text sends /text)';

/** Parses one typed line. */
export function parseInput(line: string): InputCommand {
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

/** `HH:MM` of a time, local. */
export function clock(date: Date): string {
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/** One line of the terminal UI for an event: time stamp, colour, and mention highlighting. */
export function tuiLine(e: ChatEvent, me: string, now: Date, style: TuiStyle): string {
  const t = ansi('2', clock(now), style.color);
  switch (e.kind) {
    case 'public': {
      const mentioned = mentions(e.text, me);
      const body = highlightMentions(sanitize(e.text), me, style);
      const line = `${t} ${ansi('1;36', sanitize(e.from), style.color)}: ${body}`;
      return mentioned ? `${line}${style.color ? '' : '  <--'}` : line;
    }
    case 'private':
      return `${t} ${ansi('35', '[private]', style.color)} ${ansi('1;35', sanitize(e.from), style.color)}: ${sanitize(e.text)}`;
    case 'joined':
    case 'left':
    case 'online':
      return `${t} ${ansi('32', formatLine(e), style.color)}`;
    case 'notice':
      return `${t} ${ansi('33', formatLine(e), style.color)}`;
  }
}

/** The user's own message as the terminal UI echoes it (the server does not send it back). */
export function tuiOwnLine(cmd: { kind: 'say'; text: string } | { kind: 'msg'; to: string; text: string }, me: string, now: Date, style: TuiStyle): string {
  const t = ansi('2', clock(now), style.color);
  if (cmd.kind === 'say') return `${t} ${ansi('1', sanitize(me), style.color)}: ${sanitize(cmd.text)}`;
  return `${t} ${ansi('35', `[private to ${sanitize(cmd.to)}]`, style.color)} ${sanitize(cmd.text)}`;
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
