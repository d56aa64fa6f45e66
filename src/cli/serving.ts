/**
 * What every long-running server command does to listen: `listenOrFail` turns a listen failure
 * (port in use, an address not on this host, a name that does not resolve) into one error line
 * and exit 1, never an unhandled `error` event; once listening, print the `listening on
 * HOST:PORT` line (the first stdout line, scripts wait for it), then run until SIGINT or SIGTERM
 * and close gracefully; and how it writes its log lines (`logLine`).
 */
import { escapeText } from '../text/escape.js';
import type { EventEmitter } from 'node:events';

/**
 * Writes one line to the operator's log (stderr), escaped: a log line may carry a peer's string
 * (an error reason, a name), and no peer may drive the operator's terminal or forge a second line.
 */
export function logLine(line: string): void {
  process.stderr.write(`${escapeText(line)}
`);
}

/**
 * Starts `server` listening. Its `listen()` rejects with the reason (an `IO` error naming the
 * address); meanwhile the same failure, also emitted as an `error` event, is kept from crashing
 * the process as an unhandled one.
 */
export async function listenOrFail<A>(server: EventEmitter & { listen(port: number, host: string): Promise<A> }, port: number, host: string): Promise<A> {
  const ignore = (): void => {};
  server.on('error', ignore);
  try {
    return await server.listen(port, host);
  } finally {
    server.off('error', ignore);
  }
}

/** `HOST:PORT`, with an IPv6 host in brackets. */
export function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** Prints the listening line, then resolves once `close` has finished after a signal. */
export async function serveUntilSignal(address: string, port: number, close: () => Promise<void>, log: (line: string) => void): Promise<void> {
  process.stdout.write(`listening on ${hostPort(address, port)}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      log('shutting down');
      void close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
