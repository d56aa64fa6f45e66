/**
 * The UDP side of `serve --udp` and `connect --udp`: message-oriented, one line per message.
 *
 * `connect --udp` sends each stdin line (without its newline) as one message and prints each
 * message it receives as one line. UDP does not retransmit messages, so it paces what it sends
 * (a burst, then a short pause) so that a loopback echo of a few hundred lines loses nothing. At
 * stdin EOF it waits until the session has been quiet for `--linger` seconds, then closes the
 * session (authenticated CLOSE) and exits 0.
 */
import { logLine, serveUntilSignal } from '../serving.js';
import { loadKeyPair } from '../../keys/files.js';
import { announcePolicy, type ClientPolicy } from './serve.js';
import { UdpServer, connectUdp, type UdpSession } from '../../transport/udp.js';
import type { BoxCipherName } from '../../crypto/record-aead.js';
import type { SealwireError } from '../../errors.js';
import type { SuiteName } from '../../session/handshake.js';
import { defaultKnownHostsPath } from '../../keys/home.js';
import { reportError } from '../errors.js';

/** Messages per burst, and the pause between bursts (milliseconds). */
const BURST = 16;
const PAUSE_MS = 2;

export interface UdpServeOptions {
  key: string;
  host: string;
  port: number;
  echo: boolean;
  /** The client policy (`clientPolicy` in serve.ts). */
  policy: ClientPolicy;
  suite: SuiteName;
  handshakeTimeout: number;
  boxCipher?: BoxCipherName | undefined;
}

const who = (a: { address: string; port: number }): string => `${a.address}:${a.port}`;

export async function serveUdp(opts: UdpServeOptions): Promise<number> {
  const key = loadKeyPair(opts.key);
  const server = new UdpServer({ transport: 'udp', key, suite: opts.suite, ...opts.policy, handshakeTimeout: opts.handshakeTimeout, boxCipher: opts.boxCipher });
  server.on('session', (session: UdpSession) => {
    const from = `${session.remoteAddress}:${session.remotePort}`;
    logLine(`session from ${from} (udp, id ${session.connectionId}): ${opts.suite}, client ${session.fingerprint ?? 'anonymous'}`);
    session.on('message', (m: Buffer) => {
      if (opts.echo) {
        try {
          session.send(m);
        } catch (e) {
          logLine(`session ${session.connectionId}: cannot echo: ${(e as Error).message}`);
        }
      }
      else process.stdout.write(Buffer.concat([m, Buffer.from('\n')]));
    });
    session.on('close', () => process.stderr.write(`session ${session.connectionId} closed${session.error ? `: ${session.error.message} [${session.error.code}]` : ''}\n`));
  });
  server.on('handshakeError', (err: SealwireError, from: { address: string; port: number }) => {
    logLine(`handshake from ${who(from)} failed: ${err.message} [${err.code}]`);
  });
  server.on('sessionError', () => {}); // reported by the session's close line
  const addr = await server.listen(opts.port, opts.host);
  announcePolicy(opts.policy);
  // After listen, errors are socket failures: reported, never fatal.
  server.on('error', (err: SealwireError) => logLine(`server: ${err.message} [${err.code}]`));
  await serveUntilSignal(addr.address, addr.port, () => server.close(), logLine);
  return 0;
}

export interface UdpConnectCliOptions {
  host: string;
  port: number;
  target: string;
  suite: SuiteName;
  key?: string;
  serverKey?: string;
  knownHosts?: string;
  handshakeTimeout: number;
  lingerMs: number;
  boxCipher?: BoxCipherName | undefined;
}

export async function connectUdpCommand(opts: UdpConnectCliOptions): Promise<number> {
  const session = await connectUdp({
    transport: 'udp',
    host: opts.host,
    port: opts.port,
    suite: opts.suite,
    key: opts.key ? loadKeyPair(opts.key) : undefined,
    serverKey: opts.serverKey,
    knownHosts: opts.knownHosts,
    handshakeTimeout: opts.handshakeTimeout,
    boxCipher: opts.boxCipher,
  });
  session.on('warning', (e: unknown) => reportError(e, 'connect'));
  if (session.trust === 'first-use') {
    process.stderr.write(
      `sealwire connect: first connection to ${opts.target}: trusting server key ${session.fingerprint} and recording it in ${opts.knownHosts ?? defaultKnownHostsPath()}\n`,
    );
  }
  return new Promise((resolve) => {
    let failed = false;
    let lastActivity = performance.now();
    const queue: Buffer[] = [];
    let stdinDone = false;
    let sending = false;
    let lingerTimer: NodeJS.Timeout | undefined;

    session.on('error', (e) => {
      failed = true;
      reportError(e, 'connect');
    });
    session.on('message', (m: Buffer) => {
      lastActivity = performance.now();
      process.stdout.write(Buffer.concat([m, Buffer.from('\n')]));
    });
    session.on('close', () => {
      if (lingerTimer) clearTimeout(lingerTimer);
      process.stdin.pause();
      resolve(failed ? 1 : 0);
    });

    const pump = (): void => {
      if (session.closed) return;
      for (let i = 0; i < BURST && queue.length; i++) {
        try {
          session.send(queue.shift()!);
        } catch (e) {
          failed = true;
          reportError(e, 'connect');
          session.close();
          return;
        }
        lastActivity = performance.now();
      }
      if (queue.length) {
        sending = true;
        setTimeout(pump, PAUSE_MS);
        return;
      }
      sending = false;
      if (stdinDone) linger();
    };
    const linger = (): void => {
      if (lingerTimer) clearTimeout(lingerTimer);
      const quietFor = performance.now() - lastActivity;
      if (quietFor >= opts.lingerMs) {
        session.close();
        return;
      }
      lingerTimer = setTimeout(linger, opts.lingerMs - quietFor);
    };

    let partial = Buffer.alloc(0);
    process.stdin.on('data', (chunk: Buffer) => {
      let data = partial.length ? Buffer.concat([partial, chunk]) : chunk;
      for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a)) {
        queue.push(data.subarray(0, nl));
        data = data.subarray(nl + 1);
      }
      partial = Buffer.from(data);
      if (!sending) pump();
    });
    process.stdin.on('end', () => {
      if (partial.length) queue.push(partial);
      stdinDone = true;
      if (!sending) pump();
    });
  });
}
