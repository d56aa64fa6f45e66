/**
 * What every long-running server command does once it listens: print the `listening on
 * HOST:PORT` line (the first stdout line, scripts wait for it), then run until SIGINT or SIGTERM
 * and close gracefully; and how it writes its log lines (`logLine`).
 */
import { escapeText } from '../text/escape.js';

/**
 * Writes one line to the operator's log (stderr), escaped: a log line may carry a peer's string
 * (an error reason, a name), and no peer may drive the operator's terminal or forge a second line.
 */
export function logLine(line: string): void {
  process.stderr.write(`${escapeText(line)}
`);
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
