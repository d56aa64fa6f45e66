/**
 * `sealwire chat HOST:PORT --user NAME [--server-key FILE|SHA256:…] [--key PATH] [--suite S]
 *  [--tcp] [--password-file FILE] [--signup] [--timestamps] [--no-reconnect]`
 *
 * Signs up (`--signup`) or in, then chats. The password comes from `--password-file`, the
 * `SEALWIRE_PASSWORD` environment variable, or a prompt on the terminal; never from argv. Without
 * `--key` the client uses (creating it on first use) `~/.sealwire/id_<type>`.
 *
 * With a terminal on stdin and stdout it runs a small terminal UI (readline: messages scroll above
 * the input line). Otherwise it runs in line mode: each stdin line is a message or a command, each
 * event one stdout line in the fixed format of chat/render.ts. `/quit` and stdin EOF sign out and
 * exit 0; a refused sign-in is one line on stderr and exit 1. SIGTERM, SIGHUP (a closed terminal)
 * and SIGINT sign out too, so the others see the user leave at once.
 *
 * A server seen for the first time (trust on first use) is named with its fingerprint and where it
 * is recorded before the password leaves; on a terminal the user confirms first. A lost session is
 * re-established (chat/reconnect.ts) unless `--no-reconnect`; the client exits 0 only after the
 * server confirmed the sign-out, never when the session was lost.
 */
import type { Command } from 'commander';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import readline from 'node:readline';
import { loadKeyPair, saveKeyPair } from '../../keys/files.js';
import { generateKeyPairAsync, type KeyPair } from '../../keys/key.js';
import { sealwireHome } from '../../keys/home.js';
import { DEFAULT_SUITE, getSuite } from '../../suites/index.js';
import type { SuiteName } from '../../session/handshake.js';
import { defaultKnownHostsPath } from '../../keys/home.js';
import { SealwireError } from '../../errors.js';
import { DEFAULT_CHAT_TRANSPORT, connectChat, type ChatTransport, type ServerIdentity } from '../../chat/net.js';
import { ChatRefusedError, type ChatEvent, type Outgoing } from '../../chat/client.js';
import { ReconnectingChat } from '../../chat/reconnect.js';
import { ServerRotation, formatAddress } from '../../chat/server-list.js';
import { HELP, formatLine, isoStamp, parseInput, prompt, tuiLine, tuiOwnLine, type InputCommand } from '../../chat/render.js';
import { parseHostPort, parseSuite } from '../args.js';
import { UsageError } from '../errors.js';
import { explainConnectFailure } from '../connect-hints.js';

/** Environment variable read for the password when no --password-file is given. */
export const PASSWORD_ENV = 'SEALWIRE_PASSWORD';
const MAX_PASSWORD_FILE = 4096;

interface ChatCliOptions {
  user: string;
  serverKey?: string;
  key?: string;
  suite: string;
  tcp?: boolean;
  udp?: boolean;
  passwordFile?: string;
  signup?: boolean;
  knownHosts?: string;
  timestamps?: boolean;
  reconnect: boolean;
}

/** Handshake timeout of a redial after a lost session (ms): a server still down costs little. */
const REDIAL_HANDSHAKE_TIMEOUT_MS = 3000;

export function register(program: Command, run: (fn: () => Promise<number>) => void): void {
  program
    .command('chat')
    .description('join a secure chat room (line mode without a terminal; /help lists commands)')
    .argument('<host:port>', 'chat server address; several, comma-separated (servers of one room): one is picked at random, the next is tried when one fails')
    .requiredOption('--user <name>', 'account name')
    .option('--server-key <file|fingerprint>', "the server's public key file or SHA256: fingerprint (default: known_hosts, trust on first use)")
    .option('--key <path>', 'this client\'s private key (default: ~/.sealwire/id_<type>, created on first use)')
    .option('--suite <suite>', 'protocol suite', DEFAULT_SUITE)
    .option('--tcp', 'connect over TCP (default: UDP)')
    .option('--udp', 'connect over UDP (the default)')
    .option('--password-file <file>', `read the password from the first line of FILE (else $${PASSWORD_ENV}, else a prompt)`)
    .option('--signup', 'create the account, then sign in')
    .option('--known-hosts <file>', 'known_hosts file for trust on first use')
    .option('--timestamps', 'line mode: start each line with an ISO 8601 time (UTC)')
    .option('--no-reconnect', 'exit when the session is lost instead of reconnecting')
    .action((target: string, opts: ChatCliOptions) => run(() => chat(target, opts)));
}

async function chat(target: string, opts: ChatCliOptions): Promise<number> {
  const rotation = new ServerRotation(target.split(',').map((t) => parseHostPort(t.trim())));
  const suite = parseSuite(opts.suite);
  if (opts.tcp && opts.udp) throw new UsageError('--tcp and --udp exclude each other');
  const transport: ChatTransport = opts.tcp ? 'tcp' : opts.udp ? 'udp' : DEFAULT_CHAT_TRANSPORT;
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const password = await readPassword(opts, process.stdin.isTTY === true);
  const key = await identityKey(suite, opts.key);
  // Held in memory only, for signing in again after a lost session (and updated by /passwd).
  const credentials = { user: opts.user, password };
  const base = { suite, key, serverKey: opts.serverKey, knownHosts: opts.knownHosts, transport };
  const context = { transport, suite, serverKey: opts.serverKey, defaultTransport: DEFAULT_CHAT_TRANSPORT, what: 'the chat server' };
  let first;
  // Each server of the list once, from the one picked at random; the last failure is reported.
  for (let tried = 1; ; tried++) {
    const server = rotation.current;
    const at = formatAddress(server);
    try {
      first = await connectChat(
        { ...base, ...server, beforeSignIn: (identity) => confirmServer(identity, at, opts.knownHosts, tty) },
        { ...credentials, signup: opts.signup === true },
      );
      break;
    } catch (e) {
      if (tried >= rotation.servers.length || e instanceof ChatRefusedError) throw explainConnectFailure(e, { ...context, target: at });
      process.stderr.write(`sealwire chat: ${at} failed (${e instanceof Error ? e.message : String(e)}); trying ${formatAddress(rotation.advance())}\n`);
    }
  }
  const client = new ReconnectingChat(first, {
    // A redial that fails moves to the next server of the list for the next try.
    dial: async () => {
      try {
        return await connectChat({ ...base, ...rotation.current, handshakeTimeout: REDIAL_HANDSHAKE_TIMEOUT_MS }, credentials);
      } catch (e) {
        if (!(e instanceof ChatRefusedError)) rotation.advance();
        throw e;
      }
    },
    maxAttempts: opts.reconnect ? undefined : 0,
  });
  const setPassword = (pw: string): void => void (credentials.password = pw);
  return tty ? terminalUi(client, setPassword) : lineMode(client, opts.signup === true, opts.timestamps === true, setPassword);
}

/**
 * Before the password leaves: a server trusted on first use is named with its fingerprint and the
 * file that records it; on a terminal the user confirms.
 */
async function confirmServer(server: ServerIdentity, target: string, knownHosts: string | undefined, tty: boolean): Promise<void> {
  if (server.trust !== 'first-use') return;
  process.stderr.write(
    `sealwire chat: first connection to ${target}: trusting server key ${server.fingerprint ?? '(none)'} and recording it in ${knownHosts ?? defaultKnownHostsPath()}\n`,
  );
  if (!tty) return;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const answer = await new Promise<string>((resolve) => {
    rl.question('send the password to this server? [y/N] ', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) {
    throw new SealwireError('UNKNOWN_PEER', `not confirmed: nothing was sent to ${target} (compare the fingerprint with the server's, then try again)`);
  }
}

/** The password: --password-file, then $SEALWIRE_PASSWORD, then a prompt on the terminal. */
async function readPassword(opts: ChatCliOptions, canPrompt: boolean): Promise<string> {
  if (opts.passwordFile) {
    let buf: Buffer;
    try {
      buf = readFileSync(opts.passwordFile);
    } catch (e) {
      throw new UsageError(`cannot read --password-file ${opts.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (buf.length > MAX_PASSWORD_FILE) throw new UsageError(`--password-file ${opts.passwordFile} is larger than ${MAX_PASSWORD_FILE} bytes`);
    const pw = buf.toString('utf8').split(/\r?\n/)[0] ?? '';
    if (pw === '') throw new UsageError(`--password-file ${opts.passwordFile}: the first line is empty`);
    return pw;
  }
  const env = process.env[PASSWORD_ENV];
  if (env) return env;
  if (!canPrompt) throw new UsageError(`no password: give --password-file FILE or set ${PASSWORD_ENV} (there is no terminal to ask)`);
  const pw = await promptHidden(`password for ${opts.user}: `);
  if (pw === '') throw new UsageError('empty password');
  return pw;
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.off('data', onData);
          stdin.setRawMode(false);
          stdin.pause();
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          process.stderr.write('\n');
          process.exit(130);
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The client's identity key: --key, or ~/.sealwire/id_<type>, created (0600) on first use. */
async function identityKey(suiteName: SuiteName, path: string | undefined): Promise<KeyPair | undefined> {
  if (path) return loadKeyPair(path);
  const suite = getSuite(suiteName);
  if (suite.clientKeys === 'none') return undefined;
  const home = sealwireHome();
  const file = join(home, `id_${suite.keyType}`);
  if (existsSync(file)) return loadKeyPair(file);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const pair = await generateKeyPairAsync(suite.keyType);
  saveKeyPair(pair, file, { comment: 'sealwire chat identity' });
  process.stderr.write(`sealwire chat: created identity key ${file} (${pair.publicKey.fingerprint})\n`);
  return pair;
}

/** A `/passwd` waiting for the server's answer: the held password changes once it confirms. */
interface PasswordChange {
  next: string | null;
}

/** Sends what a typed line asks for; returns a line to show locally, if any. */
function act(client: ReconnectingChat, cmd: InputCommand, change: PasswordChange): string | null {
  switch (cmd.kind) {
    case 'none':
      return null;
    case 'say':
      client.say(cmd.text);
      return null;
    case 'me':
      client.me(cmd.text);
      return null;
    case 'msg':
      client.msg(cmd.to, cmd.text);
      return null;
    case 'who':
      client.who();
      return null;
    case 'passwd':
      if (cmd.old === undefined || cmd.new === undefined) return formatLine({ kind: 'notice', text: 'usage: /passwd OLD NEW' });
      change.next = cmd.new;
      client.passwd(cmd.old, cmd.new);
      return null;
    case 'help':
      return formatLine({ kind: 'notice', text: HELP });
    case 'local':
      return formatLine({ kind: 'notice', text: cmd.text });
    case 'quit':
      return null;
  }
}

/** Commits a `/passwd` once the server confirms it (the held password is what a redial sends). */
function watchPassword(e: ChatEvent, change: PasswordChange, setPassword: (pw: string) => void): void {
  if (e.kind !== 'notice' || change.next === null || !e.text.startsWith('password ')) return;
  if (e.text === 'password changed') setPassword(change.next);
  change.next = null;
}

/** Signals that end the chat the way /quit does: signed out, so nobody waits for a ghost. */
const SIGN_OUT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];

/** Signs out on the first such signal; a second one (the sign-out hangs) exits 1 at once. */
function onSignOutSignal(quit: () => void): () => void {
  let signalled = false;
  const handler = (): void => {
    if (signalled) process.exit(1);
    signalled = true;
    quit();
  };
  for (const sig of SIGN_OUT_SIGNALS) process.on(sig, handler);
  return () => {
    for (const sig of SIGN_OUT_SIGNALS) process.off(sig, handler);
  };
}

function lineMode(client: ReconnectingChat, signedUp: boolean, timestamps: boolean, setPassword: (pw: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const out = (line: string, at?: string): void => {
      const stamp = timestamps ? `${at ?? isoStamp(new Date())} ` : '';
      process.stdout.write(`${stamp}${line}\n`);
    };
    const change: PasswordChange = { next: null };
    out(formatLine({ kind: 'notice', text: `${signedUp ? 'signed up and signed in' : 'signed in'} as ${client.user}` }));
    client.onEvent((e: ChatEvent) => {
      watchPassword(e, change, setPassword);
      const at = e.kind === 'history' && !Number.isNaN(Date.parse(e.at)) ? isoStamp(new Date(e.at)) : undefined;
      out(formatLine(e), at);
    });
    let quitting = false;
    const rl = readline.createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
    const quit = (): void => {
      if (quitting) return;
      quitting = true;
      rl.close();
      void client.quit();
    };
    const offSignals = onSignOutSignal(quit);
    rl.on('line', (line) => {
      if (quitting) return;
      const cmd = parseInput(line);
      if (cmd.kind === 'quit') return quit();
      const local = act(client, cmd, change);
      if (local) out(local);
    });
    rl.on('close', quit);
    client.once('close', (error: Error | null) => {
      // Whether the user asked to leave, read before rl.close() (whose 'close' calls quit()):
      // a session that ended any other way is never a clean exit.
      const asked = quitting;
      quitting = true;
      offSignals();
      rl.close();
      if (asked && !error) return resolve(0);
      out(formatLine({ kind: 'notice', text: error ? `disconnected: ${error.message}` : 'the server closed the session' }));
      resolve(1);
    });
  });
}

function terminalUi(client: ReconnectingChat, setPassword: (pw: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const style = { color: !process.env['NO_COLOR'] };
    let online = client.onlineAtSignIn.length;
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true, historySize: 200 });
    const refreshPrompt = (): void => {
      rl.setPrompt(prompt(client.user, online, style));
      rl.prompt(true);
    };
    const show = (line: string): void => {
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
      process.stdout.write(`${line}\n`);
      refreshPrompt();
    };
    show(tuiLine({ kind: 'notice', text: `signed in as ${client.user}; ${HELP}` }, client.user, new Date(), style));
    show(tuiLine({ kind: 'online', users: [...client.onlineAtSignIn] }, client.user, new Date(), style));
    const change: PasswordChange = { next: null };
    client.onEvent((e) => {
      watchPassword(e, change, setPassword);
      if (e.kind === 'joined') online++;
      if (e.kind === 'left') online = Math.max(1, online - 1);
      if (e.kind === 'online') online = e.users.length;
      show(tuiLine(e, client.user, new Date(), style));
    });
    let quitting = false;
    const quit = (): void => {
      if (quitting) return;
      quitting = true;
      rl.close();
      void client.quit();
    };
    const offSignals = onSignOutSignal(quit);
    // Our own message appears once the server has it.
    client.on('sent', (m: Outgoing) => show(tuiOwnLine(m, client.user, new Date(), style)));
    rl.on('line', (line) => {
      const cmd = parseInput(line);
      if (cmd.kind === 'quit') return quit();
      // Remove the typed line: our own message is shown once the server has it (the 'sent' event).
      readline.moveCursor(process.stdout, 0, -1);
      readline.clearLine(process.stdout, 0);
      if (cmd.kind === 'passwd' && cmd.old === undefined) {
        void askPasswords(rl).then((pw) => {
          if (!pw) return show(tuiLine({ kind: 'notice', text: 'password not changed' }, client.user, new Date(), style));
          act(client, { kind: 'passwd', ...pw }, change);
        });
        return;
      }
      const local = act(client, cmd, change);
      if (local) show(tuiLine({ kind: 'notice', text: local.slice(2) }, client.user, new Date(), style));
      else refreshPrompt();
    });
    rl.on('SIGINT', quit);
    rl.on('close', quit);
    client.once('close', (error: Error | null) => {
      // Whether the user asked to leave, read before rl.close() (whose 'close' calls quit()):
      // a session that ended any other way is never a clean exit.
      const asked = quitting;
      quitting = true;
      offSignals();
      rl.close();
      process.stdout.write('\n');
      if (asked && !error) return resolve(0);
      process.stdout.write(`${formatLine({ kind: 'notice', text: error ? `disconnected: ${error.message}` : 'the server closed the session' })}\n`);
      resolve(1);
    });
  });
}

/** Asks for the current and the new password without echoing them (terminal UI `/passwd`). */
async function askPasswords(rl: readline.Interface): Promise<{ old: string; new: string } | null> {
  const hidden = rl as unknown as { _writeToOutput?: (s: string) => void };
  const write = hidden._writeToOutput;
  const ask = (q: string): Promise<string> =>
    new Promise((resolve) => {
      process.stdout.write(q);
      hidden._writeToOutput = () => {}; // typed characters are not echoed
      rl.question('', (answer) => {
        hidden._writeToOutput = write;
        process.stdout.write('\n');
        resolve(answer);
      });
    });
  const old = await ask('current password: ');
  const next = await ask('new password: ');
  if (old === '' || next === '') return null;
  return { old, new: next };
}
