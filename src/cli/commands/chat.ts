/**
 * `sealwire chat HOST:PORT --user NAME [--server-key FILE|SHA256:…] [--key PATH] [--suite S]
 *  [--tcp] [--password-file FILE] [--signup]`
 *
 * Signs up (`--signup`) or in, then chats. The password comes from `--password-file`, the
 * `SEALWIRE_PASSWORD` environment variable, or a prompt on the terminal; never from argv. Without
 * `--key` the client uses (creating it on first use) `~/.sealwire/id_<type>`.
 *
 * With a terminal on stdin and stdout it runs a small terminal UI (readline: messages scroll above
 * the input line). Otherwise it runs in line mode: each stdin line is a message or a command, each
 * event one stdout line in the fixed format of chat/render.ts. `/quit` and stdin EOF sign out and
 * exit 0; a refused sign-in is one line on stderr and exit 1.
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
import { DEFAULT_CHAT_TRANSPORT, connectChat, type ChatTransport } from '../../chat/net.js';
import type { ChatClient, ChatEvent } from '../../chat/client.js';
import { HELP, formatLine, parseInput, prompt, tuiLine, tuiOwnLine, type InputCommand } from '../../chat/render.js';
import { parseHostPort, parseSuite } from '../args.js';
import { UsageError } from '../errors.js';

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
}

export function register(program: Command, run: (fn: () => Promise<number>) => void): void {
  program
    .command('chat')
    .description('join a secure chat room (line mode without a terminal; /help lists commands)')
    .argument('<host:port>', 'chat server address')
    .requiredOption('--user <name>', 'account name')
    .option('--server-key <file|fingerprint>', "the server's public key file or SHA256: fingerprint (default: known_hosts, trust on first use)")
    .option('--key <path>', 'this client\'s private key (default: ~/.sealwire/id_<type>, created on first use)')
    .option('--suite <suite>', 'protocol suite', DEFAULT_SUITE)
    .option('--tcp', 'connect over TCP (default: UDP)')
    .option('--udp', 'connect over UDP (the default)')
    .option('--password-file <file>', `read the password from the first line of FILE (else $${PASSWORD_ENV}, else a prompt)`)
    .option('--signup', 'create the account, then sign in')
    .option('--known-hosts <file>', 'known_hosts file for trust on first use')
    .action((target: string, opts: ChatCliOptions) => run(() => chat(target, opts)));
}

async function chat(target: string, opts: ChatCliOptions): Promise<number> {
  const { host, port } = parseHostPort(target);
  const suite = parseSuite(opts.suite);
  if (opts.tcp && opts.udp) throw new UsageError('--tcp and --udp exclude each other');
  const transport: ChatTransport = opts.tcp ? 'tcp' : opts.udp ? 'udp' : DEFAULT_CHAT_TRANSPORT;
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const password = await readPassword(opts, process.stdin.isTTY === true);
  const key = await identityKey(suite, opts.key);
  const client = await connectChat(
    { host, port, suite, key, serverKey: opts.serverKey, knownHosts: opts.knownHosts, transport },
    { user: opts.user, password, signup: opts.signup === true },
  );
  return tty ? terminalUi(client) : lineMode(client, opts.signup === true);
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

/** Sends what a typed line asks for; returns a line to show locally, if any. */
function act(client: ChatClient, cmd: InputCommand): string | null {
  switch (cmd.kind) {
    case 'none':
      return null;
    case 'say':
      client.say(cmd.text);
      return null;
    case 'msg':
      client.msg(cmd.to, cmd.text);
      return null;
    case 'who':
      client.who();
      return null;
    case 'help':
      return formatLine({ kind: 'notice', text: HELP });
    case 'local':
      return formatLine({ kind: 'notice', text: cmd.text });
    case 'quit':
      return null;
  }
}

function lineMode(client: ChatClient, signedUp: boolean): Promise<number> {
  return new Promise((resolve) => {
    const out = (line: string): void => void process.stdout.write(`${line}\n`);
    out(formatLine({ kind: 'notice', text: `${signedUp ? 'signed up and signed in' : 'signed in'} as ${client.user}` }));
    client.onEvent((e: ChatEvent) => out(formatLine(e)));
    let quitting = false;
    const rl = readline.createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
    const quit = (): void => {
      if (quitting) return;
      quitting = true;
      rl.close();
      void client.quit();
    };
    rl.on('line', (line) => {
      if (quitting) return;
      const cmd = parseInput(line);
      if (cmd.kind === 'quit') return quit();
      const local = act(client, cmd);
      if (local) out(local);
    });
    rl.on('close', quit);
    client.once('close', (error: Error | null) => {
      rl.close();
      if (quitting && !error) return resolve(0);
      out(formatLine({ kind: 'notice', text: error ? `disconnected: ${error.message}` : 'the server closed the session' }));
      resolve(1);
    });
  });
}

function terminalUi(client: ChatClient): Promise<number> {
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
    client.onEvent((e) => {
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
    rl.on('line', (line) => {
      const cmd = parseInput(line);
      if (cmd.kind === 'quit') return quit();
      // Replace the typed line with its rendering.
      readline.moveCursor(process.stdout, 0, -1);
      readline.clearLine(process.stdout, 0);
      const local = act(client, cmd);
      if (cmd.kind === 'say' || cmd.kind === 'msg') show(tuiOwnLine(cmd, client.user, new Date(), style));
      else if (local) show(tuiLine({ kind: 'notice', text: local.slice(2) }, client.user, new Date(), style));
      else refreshPrompt();
    });
    rl.on('SIGINT', quit);
    rl.on('close', quit);
    client.once('close', (error: Error | null) => {
      rl.close();
      process.stdout.write('\n');
      if (quitting && !error) return resolve(0);
      process.stdout.write(`${formatLine({ kind: 'notice', text: error ? `disconnected: ${error.message}` : 'the server closed the session' })}\n`);
      resolve(1);
    });
  });
}
