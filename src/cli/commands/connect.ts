/**
 * `sealwire connect HOST:PORT [--server-key FILE|SHA256:…] [--key PATH] [--suite S] [--box-cipher C] [--udp [--linger S]]`
 *
 * Like `nc`: stdin goes to the server, what the server sends goes to stdout. At stdin EOF the
 * client half-closes (close record) and exits 0 once the server has closed its side cleanly.
 * Only authenticated plaintext ever reaches stdout; any failure is one line on stderr and exit 1.
 */
import type { Command } from 'commander';
import { loadKeyPair } from '../../keys/files.js';
import { connectTcp } from '../../transport/tcp.js';
import type { SecureSession } from '../../transport/secure-session.js';
import { DEFAULT_SUITE } from '../../suites/index.js';
import { defaultKnownHostsPath } from '../../keys/home.js';
import { parseBoxCipher, parseHostPort, parsePositiveInt, parseSeconds, parseSuite } from '../args.js';
import { connectUdpCommand } from './udp.js';
import { UsageError, reportError } from '../errors.js';
import { explainConnectFailure } from '../connect-hints.js';

interface ConnectCliOptions {
  serverKey?: string;
  key?: string;
  suite: string;
  knownHosts?: string;
  handshakeTimeout: string;
  udp?: boolean;
  linger?: string;
  boxCipher?: string;
}

export function register(program: Command, run: (fn: () => Promise<number>) => void): void {
  program
    .command('connect')
    .description('open an encrypted session: stdin to the server, the server to stdout (like nc)')
    .argument('<host:port>', 'server address')
    .option('--server-key <file|fingerprint>', "the server's public key file, or its SHA256: fingerprint (default: known_hosts, trust on first use)")
    .option('--key <path>', 'this client\'s private key (default: a throwaway key)')
    .option('--suite <suite>', 'protocol suite', DEFAULT_SUITE)
    .option('--box-cipher <cipher>', 'box: the only record cipher to accept, chacha20-poly1305 or xsalsa20-poly1305 (default: negotiated)')
    .option('--known-hosts <file>', 'known_hosts file for trust on first use', undefined)
    .option('--handshake-timeout <ms>', 'give up if the handshake takes longer (milliseconds)', '10000')
    .option('--udp', 'connect over UDP: each stdin line is one message, each received message one line')
    .option('--linger <seconds>', 'with --udp: after stdin ends, wait until the session is quiet this long, then close (default 1)')
    .action((target: string, opts: ConnectCliOptions) => run(() => connectCommand(target, opts)));
}

async function connectCommand(target: string, opts: ConnectCliOptions): Promise<number> {
  const { host, port } = parseHostPort(target);
  const suite = parseSuite(opts.suite);
  const handshakeTimeout = parsePositiveInt(opts.handshakeTimeout, '--handshake-timeout');
  if (opts.linger !== undefined && !opts.udp) throw new UsageError('--linger applies to --udp only (over TCP the session ends with its close record)');
  const lingerMs = parseSeconds(opts.linger ?? '1', '--linger') * 1000;
  const boxCipher = parseBoxCipher(opts.boxCipher, suite);
  const context = { target, transport: opts.udp ? ('udp' as const) : ('tcp' as const), suite, serverKey: opts.serverKey, defaultTransport: 'tcp' as const };
  if (opts.udp) {
    try {
      return await connectUdpCommand({ host, port, target, suite, key: opts.key, serverKey: opts.serverKey, knownHosts: opts.knownHosts, handshakeTimeout, lingerMs, boxCipher });
    } catch (e) {
      throw explainConnectFailure(e, context);
    }
  }
  const key = opts.key ? loadKeyPair(opts.key) : undefined;
  let session: SecureSession;
  try {
    session = await connectTcp({
      host,
      port,
      suite,
      key,
      serverKey: opts.serverKey,
      knownHosts: opts.knownHosts,
      handshakeTimeout,
      boxCipher,
    });
  } catch (e) {
    throw explainConnectFailure(e, context);
  }
  session.on('warning', (e: unknown) => reportError(e, 'connect'));
  if (session.trust === 'first-use') {
    process.stderr.write(
      `sealwire connect: first connection to ${target}: trusting server key ${session.fingerprint} and recording it in ${opts.knownHosts ?? defaultKnownHostsPath()}\n`,
    );
  }
  return pump(session);
}

/** stdin → session → stdout until both directions have closed. Resolves with the exit code. */
function pump(session: SecureSession): Promise<number> {
  return new Promise((resolve) => {
    let failed = false;
    session.on('error', (e) => {
      failed = true;
      reportError(e, 'connect');
    });
    session.on('data', (chunk: Buffer) => {
      if (!process.stdout.write(chunk)) {
        session.pause();
        process.stdout.once('drain', () => session.resume());
      }
    });
    session.on('end', () => {
      // The server closed its side: nothing more will come. Stop reading stdin and close ours.
      process.stdin.unpipe(session);
      process.stdin.pause();
      if (!session.writableEnded) session.end();
    });
    session.on('close', () => resolve(failed ? 1 : 0));
    process.stdin.pipe(session);
  });
}
