/**
 * `sealwire serve --key PATH [--host H] [--port P] [--echo] [--authorized-keys FILE | --any-client] [--suite S] [--box-cipher C] [--workers N|auto [--balance kernel|round-robin]] [--udp]`
 *
 * With `--workers N` (TCP) the process forks N workers (transport/cluster.ts) that run this same
 * command on one shared port; the primary prints the listening line and closes them on a signal.
 *
 * The first stdout line is `listening on HOST:PORT`. With `--echo` each session's data goes back
 * to its sender; without it, received data goes to stdout. Session events go to stderr, one line
 * each, with the peer's fingerprint; never data or keys.
 *
 * A suite that authenticates clients (box, sid, ccm) needs a client policy: `--authorized-keys FILE`
 * or `--any-client` (which says on stderr that any client key is accepted). Without either, serve
 * exits 2; a suite whose clients are anonymous (secsess, cbcmac) refuses `--authorized-keys`, which
 * could restrict nothing there.
 */
import { listenOrFail, logLine, serveUntilSignal } from '../serving.js';
import type { Command } from 'commander';
import cluster from 'node:cluster';
import { loadKeyPair } from '../../keys/files.js';
import { loadAuthorizedKeys } from '../../keys/authorized-keys.js';
import { SealwireServer, type ConnectionInfo } from '../../transport/tcp.js';
import type { SecureSession } from '../../transport/secure-session.js';
import { SealwireError } from '../../errors.js';
import { DEFAULT_SUITE, getSuite } from '../../suites/index.js';
import type { PublicKey } from '../../keys/key.js';
import type { SuiteName } from '../../session/handshake.js';
import { UsageError } from '../errors.js';
import { parseBalance, parseBoxCipher, parsePort, parsePositiveInt, parseSuite, parseWorkers } from '../args.js';
import { createClusterServer, isClusterWorker, serveClusterWorker } from '../../transport/cluster.js';
import { serveUdp } from './udp.js';

interface ServeOptions {
  key: string;
  host: string;
  port: string;
  echo?: boolean;
  authorizedKeys?: string;
  anyClient?: boolean;
  suite: string;
  handshakeTimeout: string;
  udp?: boolean;
  boxCipher?: string;
  workers: string;
  balance?: string;
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
    .option('--any-client', 'accept any client key (suites that authenticate clients need this or --authorized-keys)')
    .option('--suite <suite>', 'protocol suite', DEFAULT_SUITE)
    .option('--box-cipher <cipher>', 'box: the only record cipher to accept, chacha20-poly1305 or xsalsa20-poly1305 (default: negotiated)')
    .option('--handshake-timeout <ms>', 'drop handshakes that take longer (milliseconds)', '10000')
    .option('--workers <n>', "TCP: worker processes sharing the port, a number or 'auto' (one per core)", '1')
    .option('--balance <how>', "with --workers: 'kernel' (default: each worker accepts) or 'round-robin' (the primary accepts and hands over)")
    .option('--udp', 'serve over UDP: each received message is one line (with --echo, sent back)')
    .action((opts: ServeOptions) => run(() => serve(opts)));
}

async function serve(opts: ServeOptions): Promise<number> {
  const port = parsePort(opts.port);
  const suite = parseSuite(opts.suite);
  const handshakeTimeout = parsePositiveInt(opts.handshakeTimeout, '--handshake-timeout');
  const policy = clientPolicy(suite, opts);
  const boxCipher = parseBoxCipher(opts.boxCipher, suite);
  const workers = parseWorkers(opts.workers);
  if (opts.udp && workers > 1) throw new UsageError('--workers applies to TCP only (UDP serves from one process)');
  const balance = parseBalance(opts.balance, workers);
  if (workers > 1 && !isClusterWorker()) {
    const primary = await createClusterServer({ workers, balance });
    announcePolicy(policy);
    primary.on('workerExit', (id: number, how: number | string) => logLine(`worker ${id} exited (${how})`));
    await serveUntilSignal(primary.address.address, primary.address.port, () => primary.close(), logLine);
    return 0;
  }
  if (opts.udp) {
    return serveUdp({ key: opts.key, host: opts.host, port, echo: opts.echo === true, policy, suite, handshakeTimeout, boxCipher });
  }
  const key = loadKeyPair(opts.key);
  const server = new SealwireServer({ key, suite, ...policy, handshakeTimeout, boxCipher });
  // With --workers, each session line names the worker that serves it.
  const worker = isClusterWorker() ? ` (worker ${cluster.worker!.id})` : '';
  server.on('session', (session: SecureSession) => {
    logLine(`session from ${who(session)}: ${suite}, client ${session.fingerprint ?? 'anonymous'}${worker}`);
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
  if (isClusterWorker()) {
    await serveClusterWorker(server, port, opts.host);
    return 0;
  }
  const addr = await listenOrFail(server, port, opts.host);
  if (!isClusterWorker()) announcePolicy(policy);
  // After listen, errors are accept failures (EMFILE...): reported, never fatal.
  server.on('error', (err: SealwireError) => logLine(`server: ${err.message} [${err.code}]`));
  await serveUntilSignal(addr.address, addr.port, () => server.close(), logLine);
  return 0;
}

/** The server's client policy, as `createServer` takes it. */
export interface ClientPolicy {
  readonly authorizedKeys?: readonly PublicKey[];
  readonly anyClient?: true;
}

/**
 * The client policy from `--authorized-keys` / `--any-client`. Throws `UsageError` (exit 2) when a
 * suite that authenticates clients has neither, when both are given, and when `--authorized-keys`
 * is given to a suite whose clients are anonymous. `announcePolicy` says so once the server listens
 * (a server that fails to start prints its one failure line only).
 */
export function clientPolicy(suite: SuiteName, opts: { authorizedKeys?: string | undefined; anyClient?: boolean | undefined }): ClientPolicy {
  if (opts.authorizedKeys !== undefined && opts.anyClient) throw new UsageError('--authorized-keys and --any-client exclude each other');
  if (getSuite(suite).clientKeys === 'none') {
    if (opts.authorizedKeys !== undefined) throw new UsageError(`suite ${suite} does not authenticate clients: --authorized-keys cannot restrict who connects`);
    return {};
  }
  if (opts.authorizedKeys !== undefined) return { authorizedKeys: loadAuthorizedKeys(opts.authorizedKeys) };
  if (!opts.anyClient) throw new UsageError(`suite ${suite} authenticates clients: give --authorized-keys FILE, or --any-client to accept any client key`);
  return { anyClient: true };
}

/** Says on stderr, once the server listens, that any client key is accepted (`--any-client`). */
export function announcePolicy(policy: ClientPolicy): void {
  if (policy.anyClient) process.stderr.write(`sealwire serve: --any-client: any client key is accepted (clients prove only that they hold some key)\n`);
}

