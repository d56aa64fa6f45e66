/**
 * The web chat's server side: one HTTP port that serves the page (index.html, chat.js,
 * style.css from the browser build, dist/browser/) and the room's WebSocket endpoint (`/ws`).
 *
 * WebSocket sessions are `box` sessions (transport/websocket.ts) that join the same `ChatServer`
 * as the TCP and UDP members, through the same `streamChannel` as a TCP session: browser and
 * terminal members share one room. Any client key may connect (`anyClient`): members prove who
 * they are with their password, inside the session, as terminal members do.
 *
 * The page carries the server's public key (a meta tag) and pins it: whoever serves the page
 * decides which key the page trusts, so the page must come from a trusted origin (localhost, or
 * HTTPS); docs/BROWSER.md says more. The page's responses forbid framing, inline scripts and any
 * origin but this one (Content-Security-Policy), and are never cached, so a page always pins the
 * key of the server that served it.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SealwireError } from '../../errors.js';
import type { KeyPair } from '../../keys/key.js';
import { SealwireWebSocketServer } from '../../transport/websocket.js';
import { streamChannel } from '../channel.js';
import type { ChatServer } from '../server.js';

/** The URL path of the room's WebSocket, beside the page (the page opens `ws` relative to itself). */
export const WEB_SOCKET_PATH = '/ws';

export interface WebChatOptions {
  readonly chat: ChatServer;
  /** The server's X25519 key pair (the browser speaks the `box` suite). */
  readonly key: KeyPair;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly log?: (line: string) => void;
  readonly handshakeTimeout?: number;
  /** Where the browser build is (default: dist/browser of this package). */
  readonly assetsDir?: string;
}

export interface WebChatListener {
  readonly host: string;
  readonly port: number;
  /** Open WebSocket sessions. */
  readonly connections: number;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
};

/** dist/browser of this package: the first ancestor folder of this module with a package.json. */
export function defaultAssetsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dir, 'dist', 'browser');
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Serves the web chat. Throws `IO` when the browser build is missing or the port is taken. */
export async function listenWebChat(options: WebChatOptions): Promise<WebChatListener> {
  if (options.key.type !== 'x25519') {
    throw new SealwireError('BAD_KEY', 'the web chat needs an X25519 server key (the browser speaks the box suite)');
  }
  const dir = options.assetsDir ?? defaultAssetsDir();
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch {
      throw new SealwireError('IO', `the web client is not built (${join(dir, name)} is missing): run npm run build`);
    }
  };
  const page = read('index.html')
    .toString('utf8')
    .replace('{{SERVER_KEY}}', () => escapeHtml(options.key.publicKey.toString()))
    .replace('{{FINGERPRINT}}', () => escapeHtml(options.key.publicKey.fingerprint));
  const files: Record<string, { type: string; body: Buffer }> = {
    '/': { type: 'text/html; charset=utf-8', body: Buffer.from(page, 'utf8') },
    '/chat.js': { type: 'text/javascript; charset=utf-8', body: read('chat.js') },
    '/style.css': { type: 'text/css; charset=utf-8', body: read('style.css') },
  };
  const log = options.log ?? (() => {});

  const ws = new SealwireWebSocketServer(
    { key: options.key, suite: 'box', anyClient: true, path: WEB_SOCKET_PATH, handshakeTimeout: options.handshakeTimeout },
    (session) => options.chat.attach(streamChannel(session, options.chat.limits.maxBufferedBytes)),
  );
  ws.on('handshakeError', (err: SealwireError) => log(`web: handshake failed: ${err.message} [${err.code}]`));

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const file = files[path === '/index.html' ? '/' : path];
    if (path === '/favicon.ico') {
      res.writeHead(204, SECURITY_HEADERS).end();
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', ...SECURITY_HEADERS }).end();
    } else if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end('not found\n');
    } else {
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, ...SECURITY_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  ws.attach(server);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new SealwireError('IO', `web: cannot listen on ${host}:${options.port ?? 0}: ${err.message}`, { cause: err })));
    server.listen(options.port ?? 0, host, () => resolve());
  });
  server.on('error', (err) => log(`web: ${err.message}`));
  const addr = server.address() as { address: string; port: number };
  return {
    host: addr.address,
    port: addr.port,
    get connections() {
      return ws.connections;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await ws.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
