/**
/**
 * `sealwire chat-server --key PATH [--suite S] [--tcp] [--host H] [--port P] [--db FILE|URL]
 *  [--history N] [--web PORT] [limits]`
 *
 * The first stdout line is `listening on HOST:PORT`; with `--web`, the second is
 * `web on http://HOST:PORT/` (the web chat page and its WebSocket endpoint, chat/web/server.ts).
 * Accounts, the room's last `--history N` messages and private messages waiting for offline members
 * live in an SQLite file, created on the first run once the server listens (a server that cannot
 * listen creates none, and says why in one line, exit 1). With `--db postgres://…` (or
 * `$DATABASE_URL`) they live in PostgreSQL instead, shared with every chat server on that database
 * (chat/pg/). One line per event on stderr: sign-ins, sign-outs, failures; never a message text or
 * a password.
 */
import { hostPort, logLine, serveUntilSignal } from '../serving.js';
import { listenWebChat, type WebChatListener } from '../../chat/web/server.js';
import type { Command } from 'commander';
import { loadKeyPair } from '../../keys/files.js';
import { DEFAULT_SUITE } from '../../suites/index.js';
import { openChatDatabase } from '../../chat/store.js';
import { DEFAULT_HISTORY_KEEP } from '../../chat/server.js';
import { MAX_TEXT_BYTES } from '../../chat/protocol.js';
import { DEFAULT_CHAT_TRANSPORT, listenChat } from '../../chat/net.js';
import { DEFAULT_LIMITS } from '../../chat/limits.js';
import { parsePort, parsePositiveInt, parseSuite } from '../args.js';
import { UsageError } from '../errors.js';
import { isDatabaseUrl, redactUrl } from '../../chat/pg/url.js';
import { openPgChatDatabase } from '../../chat/pg/database.js';

interface ChatServerCliOptions {
  key: string;
  suite: string;
  tcp?: boolean;
  udp?: boolean;
  host: string;
  port: string;
  db?: string;
  maxMessage: string;
  rate: string;
  burst: string;
  maxMembers: string;
  history: string;
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
    .option('--db <file|url>', 'SQLite database file (created on first run), or postgres://user:password@host:port/db to share one room among several chat servers (default: $DATABASE_URL, else sealwire-chat.db)')
    .option('--max-message <bytes>', `largest message text in UTF-8 bytes (at most ${MAX_TEXT_BYTES}, the protocol's limit)`, String(DEFAULT_LIMITS.maxMessageBytes))
    .option('--rate <n>', 'messages per second a user may send, sustained', String(DEFAULT_LIMITS.ratePerSecond))
    .option('--burst <n>', 'messages a user may send at once', String(DEFAULT_LIMITS.burst))
    .option('--max-members <n>', 'most users signed in at once', String(DEFAULT_LIMITS.maxMembers))
    .option('--history <n>', 'messages of the room kept in the database and shown (the last 50) at sign-in; 0 keeps none', String(DEFAULT_HISTORY_KEEP))
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
  if (limits.maxMessageBytes > MAX_TEXT_BYTES) {
    throw new UsageError(`--max-message must be at most ${MAX_TEXT_BYTES} (the chat protocol's limit), got '${opts.maxMessage}'`);
  }
  if (!/^\d+$/.test(opts.history)) throw new UsageError(`--history must be a number of messages (0 keeps none), got '${opts.history}'`);
  const history = Number(opts.history);
  if (opts.tcp && opts.udp) throw new UsageError('--tcp and --udp exclude each other');
  const transport = opts.tcp ? 'tcp' : opts.udp ? 'udp' : DEFAULT_CHAT_TRANSPORT;
  const webPort = opts.web === undefined ? undefined : parsePort(opts.web, '--web');
  const key = loadKeyPair(opts.key);
  if (webPort !== undefined && key.type !== 'x25519') throw new UsageError('--web needs an X25519 server key (the browser speaks the box suite)');
  const log = logLine;
  const db = opts.db ?? (process.env['DATABASE_URL'] || 'sealwire-chat.db');
  const shared = isDatabaseUrl(db);
  const shown = shared ? redactUrl(db) : db;
  // The database is opened once the server listens: a server that cannot listen creates none.
  const listener = await listenChat({
    server: { key, suite },
    transport,
    host: opts.host,
    port,
    openDatabase: () => (shared ? openPgChatDatabase(db, { log }) : openChatDatabase(db)),
    limits,
    history: { keep: history },
    log,
  });
  let web: WebChatListener | undefined;
  if (webPort !== undefined) {
    try {
      web = await listenWebChat({ chat: listener.chat, key, host: opts.host, port: webPort, log });
    } catch (e) {
      await listener.close();
      throw e;
    }
  }
  // (serveUntilSignal prints the listening line first; the web line and the summary follow.)
  const serving = serveUntilSignal(listener.host, listener.port, async () => {
    await listener.close();
    await web?.close();
  }, log);
  if (web) process.stdout.write(`web on http://${hostPort(web.host, web.port)}/\n`);
  log(`chat server: ${transport.toUpperCase()}, suite ${suite}, accounts and the last ${history} messages in ${shown}`);
  await serving;
  return 0;
}
