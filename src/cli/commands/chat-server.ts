/**
 * `sealwire chat-server --key PATH [--suite S] [--tcp] [--host H] [--port P] [--db FILE] [--web PORT] [limits]`
 *
 * The first stdout line is `listening on HOST:PORT`; with `--web`, the second is
 * `web on http://HOST:PORT/` (the web chat page and its WebSocket endpoint, chat/web/server.ts). Accounts live in an SQLite file (created on
 * first run); the server keeps no message bodies. One line per event on stderr: sign-ins, sign-outs,
 * failures; never a message text or a password.
 */
import { hostPort, serveUntilSignal } from '../serving.js';
import { listenWebChat, type WebChatListener } from '../../chat/web/server.js';
import type { Command } from 'commander';
import { loadKeyPair } from '../../keys/files.js';
import { DEFAULT_SUITE } from '../../suites/index.js';
import { openAccountStore } from '../../chat/store.js';
import { DEFAULT_CHAT_TRANSPORT, listenChat } from '../../chat/net.js';
import { DEFAULT_LIMITS } from '../../chat/limits.js';
import { parsePort, parsePositiveInt, parseSuite } from '../args.js';
import { UsageError } from '../errors.js';

interface ChatServerCliOptions {
  key: string;
  suite: string;
  tcp?: boolean;
  udp?: boolean;
  host: string;
  port: string;
  db: string;
  maxMessage: string;
  rate: string;
  burst: string;
  maxMembers: string;
  web?: string;
}

export function register(program: Command, run: (fn: () => Promise<number>) => void): void {
  program
    .command('chat-server')
    .description('run a secure chat room: accounts, presence, public and private messages')
    .requiredOption('--key <path>', 'server private key file')
    .option('--suite <suite>', 'protocol suite', DEFAULT_SUITE)
    .option('--tcp', 'serve over TCP (default: UDP)')
    .option('--udp', 'serve over UDP (the default)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free port)', '0')
    .option('--db <file>', 'SQLite account database (created on first run)', 'sealwire-chat.db')
    .option('--max-message <bytes>', 'largest message text in UTF-8 bytes', String(DEFAULT_LIMITS.maxMessageBytes))
    .option('--rate <n>', 'messages per second a user may send, sustained', String(DEFAULT_LIMITS.ratePerSecond))
    .option('--burst <n>', 'messages a user may send at once', String(DEFAULT_LIMITS.burst))
    .option('--max-members <n>', 'most users signed in at once', String(DEFAULT_LIMITS.maxMembers))
    .option('--web <port>', 'also serve the web chat (page and WebSocket) over HTTP on this port (0 picks a free one); needs an X25519 key')
    .action((opts: ChatServerCliOptions) => run(() => chatServer(opts)));
}

async function chatServer(opts: ChatServerCliOptions): Promise<number> {
  const port = parsePort(opts.port);
  const suite = parseSuite(opts.suite);
  const limits = {
    maxMessageBytes: parsePositiveInt(opts.maxMessage, '--max-message'),
    ratePerSecond: parsePositiveInt(opts.rate, '--rate'),
    burst: parsePositiveInt(opts.burst, '--burst'),
    maxMembers: parsePositiveInt(opts.maxMembers, '--max-members'),
  };
  if (opts.tcp && opts.udp) throw new UsageError('--tcp and --udp exclude each other');
  const transport = opts.tcp ? 'tcp' : opts.udp ? 'udp' : DEFAULT_CHAT_TRANSPORT;
  const webPort = opts.web === undefined ? undefined : parsePort(opts.web, '--web');
  const key = loadKeyPair(opts.key);
  if (webPort !== undefined && key.type !== 'x25519') throw new UsageError('--web needs an X25519 server key (the browser speaks the box suite)');
  const store = openAccountStore(opts.db);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  let listener;
  try {
    listener = await listenChat({ server: { key, suite }, transport, host: opts.host, port, store, limits, log });
  } catch (e) {
    store.close();
    throw e;
  }
  let web: WebChatListener | undefined;
  if (webPort !== undefined) {
    try {
      web = await listenWebChat({ chat: listener.chat, key, host: opts.host, port: webPort, log });
    } catch (e) {
      await listener.close();
      store.close();
      throw e;
    }
  }
  // (serveUntilSignal prints the listening line first; the summary follows on stderr.)
  const chatListener = listener;
  const serving = serveUntilSignal(listener.host, listener.port, async () => {
    await chatListener.close();
    await web?.close();
  }, log);
  if (web) process.stdout.write(`web on http://${hostPort(web.host, web.port)}/\n`);
  log(`chat server: ${transport.toUpperCase()}, suite ${suite}, accounts in ${opts.db}`);
  await serving;
  store.close();
  return 0;
}
