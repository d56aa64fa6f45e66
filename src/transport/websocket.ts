/**
 * WebSocket transport (Node side): sealwire sessions whose frames travel in binary WebSocket
 * messages, for browsers (src/browser/session.ts) and for Node clients.
 *
 * The session itself is the TCP one: `ws` turns each WebSocket into a byte `Duplex`
 * (`createWebSocketStream`), and that stream goes through the same `SealwireServer.handleConnection`
 * and `connectTcp` as a socket, so the handshake deadline, the bound on handshakes in progress,
 * bad-input handling, backpressure (a write completes when `ws` has handed the message to the
 * socket) and the record layer are the TCP ones, unchanged. What is added here is what a WebSocket
 * needs (src/browser/websocket-mapping.ts): binary messages only, a message size limit enforced by
 * `ws` before it buffers (`maxPayload`), no compression, and the HTTP upgrade on a path.
 */
import { EventEmitter } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, createWebSocketStream } from 'ws';
import { SealwireError } from '../errors.js';
import { DEFAULT_HOST, type ConnectOptions, type ServerOptions } from '../options.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../record/limits.js';
import { MAX_WEBSOCKET_MESSAGE } from '../browser/websocket-mapping.js';
import { SealwireServer, connectTcp, type SessionListener } from './tcp.js';
import type { SecureSession } from './secure-session.js';

export interface WebSocketServerOptions extends Omit<ServerOptions, 'transport'> {
  /** URL path of the WebSocket endpoint (default `/`); upgrades on other paths are refused. */
  readonly path?: string;
}

/**
 * A sealwire server reached over WebSocket. Events as `SealwireServer`'s: `session`,
 * `handshakeError`, `sessionError`. Either `listen()` (its own HTTP server, which answers plain
 * requests with 426) or `attach()` to an HTTP server that serves other things too.
 */
export class SealwireWebSocketServer extends EventEmitter {
  readonly path: string;
  private readonly sessions: SealwireServer;
  private readonly wss: WebSocketServer;
  private http: http.Server | null = null;

  constructor(options: WebSocketServerOptions, onSession?: SessionListener) {
    super();
    const { path, ...serverOptions } = options;
    this.path = path ?? '/';
    this.sessions = new SealwireServer(serverOptions);
    for (const event of ['session', 'handshakeError', 'sessionError'] as const) {
      this.sessions.on(event, (...args: unknown[]) => this.emit(event, ...args));
    }
    if (onSession) this.on('session', onSession);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WEBSOCKET_MESSAGE, perMessageDeflate: false });
  }

  /** Listens on its own HTTP server (port 0 picks a free port). */
  async listen(port = 0, host: string = DEFAULT_HOST): Promise<AddressInfo> {
    const server = http.createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('sealwire: WebSocket only\n');
    });
    this.attach(server);
    this.http = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new SealwireError('IO', `cannot listen on ${host}:${port}: ${err.message}`, { cause: err })));
      server.listen(port, host, () => resolve(server.address() as AddressInfo));
    });
  }

  address(): AddressInfo | null {
    const a = this.http?.address();
    return a && typeof a === 'object' ? a : null;
  }

  /** Takes the WebSocket upgrades for `this.path` of an HTTP server (others are refused with 404). */
  attach(server: http.Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
  }

  /** Sessions currently open (handshaking or established). */
  get connections(): number {
    return this.sessions.connections;
  }

  /** Runs one HTTP upgrade request: a session if it is for our path, else a 404 answer. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {}); // a reset during the upgrade ends this connection only
    const path = (req.url ?? '/').split('?')[0];
    if (path !== this.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = messageStream(ws, req.socket.remoteAddress, req.socket.remotePort);
      this.sessions.handleConnection(stream);
    });
  }

  /** Ends every session (with its close record) and stops listening, if it listens. */
  async close(): Promise<void> {
    const server = this.http;
    this.http = null;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.sessions.close();
    this.wss.close();
  }
}

/**
 * Connects to a sealwire WebSocket server (`ws://` or `wss://` URL) and resolves once the
 * handshake has verified the server. Options as `connect`'s; `host`/`port` come from the URL
 * (they name the server in known_hosts).
 */
export async function connectWebSocket(url: string, options: Omit<ConnectOptions, 'host' | 'port' | 'socket' | 'transport'> = {}): Promise<SecureSession> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SealwireError('INVALID_ARGUMENT', `connectWebSocket: not a URL: ${JSON.stringify(url).slice(0, 100)}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new SealwireError('INVALID_ARGUMENT', `connectWebSocket: a ws:// or wss:// URL is required, got ${parsed.protocol}`);
  }
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'wss:' ? 443 : 80;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const ws = new WebSocket(url, {
    maxPayload: MAX_WEBSOCKET_MESSAGE,
    perMessageDeflate: false,
    handshakeTimeout: options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      ws.off('error', onError);
      resolve();
    });
    const onError = (err: Error): void => reject(new SealwireError('IO', `WebSocket to ${parsed.host}: ${err.message}`, { cause: err }));
    ws.once('error', onError);
  });
  return connectTcp({ ...options, host, port, socket: messageStream(ws, host, port) });
}

/**
 * The byte stream of a WebSocket's binary messages (each write one message), with the peer's
 * address for logs. A text message destroys it: sealwire sends binary messages only.
 */
function messageStream(ws: WebSocket, remoteAddress: string | undefined, remotePort: number | undefined): Duplex {
  let stream: Duplex | undefined = undefined;
  // Registered before createWebSocketStream's own listener, so a text message never reaches the core.
  ws.on('message', (_data, isBinary) => {
    if (!isBinary) stream?.destroy(new SealwireError('BAD_RECORD', 'a text WebSocket message: sealwire sends binary messages only'));
  });
  stream = createWebSocketStream(ws, { allowHalfOpen: true });
  return Object.assign(stream, { remoteAddress, remotePort });
}
