/**
 * What every long-running server command does once it listens: print the `listening on
 * HOST:PORT` line (the first stdout line, scripts wait for it), then run until SIGINT or SIGTERM
 * and close gracefully.
 */

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
