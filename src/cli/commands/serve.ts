/**
 * `sealwire serve --key PATH [--host H] [--port P] [--echo] [--authorized-keys FILE] [--suite S] [--udp]`
 *
 * The first stdout line is `listening on HOST:PORT`. With `--echo` each session's data goes back
 * to its sender; without it, received data goes to stdout. Session events go to stderr, one line
 * each, with the peer's fingerprint; never data or keys.
 */
import { listenOrFail, logLine, serveUntilSignal } from '../serving.js';
import type { Command } from 'commander';
import { loadKeyPair } from '../../keys/files.js';
import { loadAuthorizedKeys } from '../../keys/authorized-keys.js';
import { SealwireServer, type ConnectionInfo } from '../../transport/tcp.js';
import type { SecureSession } from '../../transport/secure-session.js';
import { SealwireError } from '../../errors.js';
import { DEFAULT_SUITE } from '../../suites/index.js';
import { parsePort, parsePositiveInt, parseSuite } from '../args.js';
import { serveUdp } from './udp.js';

interface ServeOptions {
  key: string;
  host: string;
  port: string;
  echo?: boolean;
  authorizedKeys?: string;
  suite: string;
  handshakeTimeout: string;
  udp?: boolean;
}

const who = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string =>
  `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;

export function register(program: Command, run: (fn: () => Promise<number>) => void): void {
  program
    .command('serve')
    .description('accept encrypted sessions; print what clients send, or echo it back')
    .requiredOption('--key <path>', 'server private key file')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free port)', '0')
    .option('--echo', 'send each session its own data back')
    .option('--authorized-keys <file>', 'accept only clients whose keys are listed in FILE')
    .option('--suite <suite>', 'protocol suite', DEFAULT_SUITE)
    .option('--handshake-timeout <ms>', 'drop handshakes that take longer (milliseconds)', '10000')
    .option('--udp', 'serve over UDP: each received message is one line (with --echo, sent back)')
    .action((opts: ServeOptions) => run(() => serve(opts)));
}

async function serve(opts: ServeOptions): Promise<number> {
  const port = parsePort(opts.port);
  const suite = parseSuite(opts.suite);
  const handshakeTimeout = parsePositiveInt(opts.handshakeTimeout, '--handshake-timeout');
  if (opts.udp) {
    return serveUdp({ key: opts.key, host: opts.host, port, echo: opts.echo === true, authorizedKeys: opts.authorizedKeys, suite, handshakeTimeout });
  }
  const key = loadKeyPair(opts.key);
  const authorizedKeys = opts.authorizedKeys ? loadAuthorizedKeys(opts.authorizedKeys) : undefined;
  const server = new SealwireServer({ key, suite, authorizedKeys, handshakeTimeout });
  server.on('session', (session: SecureSession) => {
    logLine(`session from ${who(session)}: ${suite}, client ${session.fingerprint ?? 'anonymous'}`);
    if (opts.echo) {
      session.pipe(session);
    } else {
      session.on('data', (chunk: Buffer) => process.stdout.write(chunk));
      // The client half-closed: nothing more is coming, so end our side too.
      session.on('end', () => session.end());
    }
    session.on('close', () => logLine(`session from ${who(session)} closed`));
  });
  server.on('handshakeError', (err: SealwireError, info: ConnectionInfo) => {
    logLine(`handshake from ${who(info)} failed: ${err.message} [${err.code}]`);
  });
  server.on('sessionError', (err: SealwireError, session: SecureSession) => {
    logLine(`session from ${who(session)} failed: ${err.message} [${err.code}]`);
  });
  const addr = await listenOrFail(server, port, opts.host);
  // After listen, errors are accept failures (EMFILE...): reported, never fatal.
  server.on('error', (err: SealwireError) => logLine(`server: ${err.message} [${err.code}]`));
  await serveUntilSignal(addr.address, addr.port, () => server.close(), logLine);
  return 0;
}
