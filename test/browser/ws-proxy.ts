/**
 * A man in the middle for the web chat tests, on loopback: it serves the page from the real
 * server (HTTP GET passed through) and relays the WebSocket message by message, so a test can
 * drop every connection (`dropAll`) or alter one message in flight (`flipNext`), as an attacker
 * between the page and the server could.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

export interface Flip {
  /** Only a server→client message of exactly this many bytes is altered. */
  readonly length: number;
  /** Byte offset in that message, and the XOR mask applied there. */
  readonly offset: number;
  readonly mask: number;
}

export class WsProxy {
  /** Messages altered so far. */
  flipped = 0;
  private flip: Flip | null = null;
  private readonly pairs = new Set<[WebSocket, WebSocket]>();
  private readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true });

  constructor(private readonly upstream: URL) {
    this.server = http.createServer((req, res) => {
      const up = http.request(new URL(req.url ?? '/', upstream), { method: req.method, headers: { ...req.headers, host: upstream.host } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
    });
    this.server.on('upgrade', (req, socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (client) => {
        const target = new URL(req.url ?? '/', upstream);
        target.protocol = 'ws:';
        const server = new WebSocket(target);
        const pending: RawData[] = [];
        client.on('message', (data) => (server.readyState === WebSocket.OPEN ? server.send(data) : pending.push(data)));
        server.on('open', () => {
          for (const d of pending.splice(0)) server.send(d);
        });
        server.on('message', (data: Buffer) => client.send(this.alter(data)));
        const pair: [WebSocket, WebSocket] = [client, server];
        this.pairs.add(pair);
        const end = (): void => {
          this.pairs.delete(pair);
          client.terminate();
          server.terminate();
        };
        client.on('close', end);
        server.on('close', end);
        client.on('error', end);
        server.on('error', end);
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** Alters the next server→client message that matches `flip`. */
  flipNext(flip: Flip): void {
    this.flip = flip;
  }

  /** Cuts every relayed connection (as a network failure would). */
  dropAll(): void {
    for (const [c, s] of this.pairs) {
      c.terminate();
      s.terminate();
    }
  }

  async close(): Promise<void> {
    this.dropAll();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private alter(data: Buffer): Buffer {
    const f = this.flip;
    if (!f || data.length !== f.length) return data;
    this.flip = null;
    this.flipped++;
    const out = Buffer.from(data);
    out[f.offset]! ^= f.mask;
    return out;
  }
}
