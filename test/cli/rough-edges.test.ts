/**
 * The rough edges a new user hits (issue 12): a busy port, an address not on this host or a name
 * that does not resolve is one stderr line and exit 1 (and chat-server creates no database);
 * flags that would be ignored are refused; "file exists" hints at --force; a group-readable key is
 * called that; usage errors name the subcommand; a failed chat connect says what most likely
 * happened and which flag fixes it; a first-use server is named before the password leaves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { portOf, runCli, startCli, tempDir, type Background } from '../helpers/cli.js';
import { explainConnectFailure } from '../../src/cli/connect-hints.js';
import { SealwireError } from '../../src/errors.js';

describe('sealwire: listen failures, refused flags, usage errors', () => {
  const t = tempDir('sealwire-edges-');
  let busy: net.Server;
  let busyPort = 0;
  beforeAll(async () => {
    await runCli(['keygen', '--out', t.path('server')]);
    busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve));
    t.cleanup();
  });

  const oneLine = (stderr: string): string => {
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    return lines[0]!;
  };

  it('serve and chat-server --tcp on a busy port: one line, exit 1, no database', async () => {
    const serve = await runCli(['serve', '--any-client', '--key', t.path('server'), '--port', String(busyPort)]);
    expect(serve.code).toBe(1);
    expect(oneLine(serve.stderr)).toMatch(new RegExp(`^sealwire serve: cannot listen on 127\\.0\\.0\\.1:${busyPort}: .*EADDRINUSE.* \\[IO\\]$`));
    const chat = await runCli(['chat-server', '--tcp', '--key', t.path('server'), '--port', String(busyPort), '--db', t.path('busy.db')]);
    expect(chat.code).toBe(1);
    expect(oneLine(chat.stderr)).toMatch(/^sealwire chat-server: cannot listen on .*EADDRINUSE/);
    expect(existsSync(t.path('busy.db'))).toBe(false);
  });

  it('an address not on this host and a name that does not resolve: one line, exit 1', async () => {
    const notHere = await runCli(['serve', '--any-client', '--key', t.path('server'), '--host', '192.0.2.1', '--port', '0']);
    expect(notHere.code).toBe(1);
    expect(oneLine(notHere.stderr)).toMatch(/^sealwire serve: cannot listen on 192\.0\.2\.1:0: .*EADDRNOTAVAIL/);
    const unknown = await runCli(['chat-server', '--tcp', '--key', t.path('server'), '--host', 'no-such-host.invalid', '--db', t.path('unknown.db')]);
    expect(unknown.code).toBe(1);
    expect(oneLine(unknown.stderr)).toMatch(/^sealwire chat-server: cannot listen on no-such-host\.invalid:0: .*(ENOTFOUND|EAI_AGAIN)/);
    expect(existsSync(t.path('unknown.db'))).toBe(false);
  });

  it('refuses flags that would be ignored or cannot work, naming the subcommand', async () => {
    const bits = await runCli(['keygen', '--type', 'x25519', '--bits', '4096', '--out', t.path('x')]);
    expect(bits.code).toBe(2);
    expect(oneLine(bits.stderr)).toBe('sealwire keygen: --bits is for RSA keys only (x25519 keys have a fixed size) (see --help)');
    const linger = await runCli(['connect', '127.0.0.1:1', '--linger', '3']);
    expect(linger.code).toBe(2);
    expect(oneLine(linger.stderr)).toMatch(/^sealwire connect: --linger applies to --udp only/);
    const big = await runCli(['chat-server', '--key', t.path('server'), '--max-message', '100000']);
    expect(big.code).toBe(2);
    expect(oneLine(big.stderr)).toBe("sealwire chat-server: --max-message must be at most 8000 (the chat protocol's limit), got '100000' (see --help)");
    const history = await runCli(['chat-server', '--key', t.path('server'), '--history', 'lots']);
    expect(history.code).toBe(2);
    const unknown = await runCli(['chat', '127.0.0.1:1', '--user', 'a', '--frobnicate']);
    expect(unknown.code).toBe(2);
    expect(oneLine(unknown.stderr)).toBe("sealwire chat: unknown option '--frobnicate'");
    const missing = await runCli(['serve']);
    expect(missing.code).toBe(2);
    expect(oneLine(missing.stderr)).toMatch(/^sealwire serve: required option '--key <path>' not specified/);
  });

  it('"file exists" hints at --force; a group-readable key is called group-readable', async () => {
    const again = await runCli(['keygen', '--out', t.path('server')]);
    expect(again.code).toBe(1);
    expect(oneLine(again.stderr)).toMatch(/file exists .*; use --force to replace it \[IO\]$/);
    await runCli(['keygen', '--out', t.path('group')]);
    chmodSync(t.path('group'), 0o640);
    const group = await runCli(['serve', '--any-client', '--key', t.path('group')]);
    expect(group.code).toBe(1);
    expect(oneLine(group.stderr)).toMatch(/private key file is readable by its group \(mode 0640\)/);
    chmodSync(t.path('group'), 0o604);
    const others = await runCli(['serve', '--any-client', '--key', t.path('group')]);
    expect(oneLine(others.stderr)).toMatch(/private key file is readable by others \(mode 0604\)/);
  });
});

describe('chat: failed connects explained, first-use server named before the password', () => {
  const ctx = { target: 'h:1', suite: 'box' as const, serverKey: 'server.pub' };
  it('names the likely cause and the flag', () => {
    const udp = explainConnectFailure(new SealwireError('TIMEOUT', 'handshake did not finish in time (waiting for Cookie)'), { ...ctx, transport: 'udp' }) as SealwireError;
    expect(udp.code).toBe('TIMEOUT');
    expect(udp.message).toMatch(/^no answer over UDP from h:1: the server most likely runs over TCP \(add --tcp\), or it uses another suite than box \(--suite.*--server-key server\.pub/);
    const tcp = explainConnectFailure(new SealwireError('IO', 'connection error (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:1'), { ...ctx, transport: 'tcp' }) as SealwireError;
    expect(tcp.message).toMatch(/^nothing accepts TCP connections at h:1: if the server runs over UDP \(its default\), drop --tcp/);
    const closed = explainConnectFailure(new SealwireError('HANDSHAKE_FAILED', 'the peer closed the connection during the handshake, while we waited'), { ...ctx, transport: 'tcp' }) as SealwireError;
    expect(closed.message).toMatch(/^the server at h:1 ended the handshake: it uses another suite than box \(--suite/);
    const rsa = explainConnectFailure(
      new SealwireError('BAD_KEY', "suite 'box' needs x25519 keys, but the server key is rsa (make one with: sealwire keygen --type x25519 --out FILE)"),
      { ...ctx, transport: 'tcp' },
    ) as SealwireError;
    expect(rsa.message).toMatch(/runs an RSA suite \(add --suite sid/);
    expect(rsa.message).not.toMatch(/keygen/);
    const connectTcp = explainConnectFailure(new SealwireError('IO', 'connect ECONNREFUSED 127.0.0.1:1'), { ...ctx, transport: 'tcp', defaultTransport: 'tcp' }) as SealwireError;
    expect(connectTcp.message).toMatch(/^nothing accepts TCP connections at h:1: if the server runs over UDP, add --udp;/);
    const connectUdp = explainConnectFailure(new SealwireError('TIMEOUT', 'handshake did not finish in time'), { ...ctx, transport: 'udp', defaultTransport: 'tcp' }) as SealwireError;
    expect(connectUdp.message).toMatch(/most likely runs over TCP \(drop --udp\)/);
    const other = new SealwireError('UNKNOWN_PEER', 'changed key');
    expect(explainConnectFailure(other, { ...ctx, transport: 'tcp' })).toBe(other);
  });

  const t = tempDir('sealwire-chat-hints-');
  const env = { HOME: t.path('home'), SEALWIRE_HOME: '', SEALWIRE_PASSWORD: 'alice-password-1' };
  let server: Background;
  let port = 0;
  beforeAll(async () => {
    await runCli(['keygen', '--out', t.path('server')]);
    server = await startCli(['chat-server', '--tcp', '--key', t.path('server'), '--db', t.path('chat.db')], { env });
    port = portOf(server.firstLine);
  });
  afterAll(async () => {
    await server?.stop();
    t.cleanup();
  });

  it('a first-use server is named with its fingerprint and known_hosts file; a TCP client of nothing is told about --tcp', async () => {
    const fp = (await runCli(['fingerprint', t.path('server.pub')])).stdout.toString().trim();
    const first = await runCli(['chat', `127.0.0.1:${port}`, '--tcp', '--user', 'alice', '--signup'], { env, input: '/quit\n' });
    expect(first.stderr).toContain(`sealwire chat: first connection to 127.0.0.1:${port}: trusting server key ${fp} and recording it in ${t.path('home')}/.sealwire/known_hosts`);
    expect(first.code).toBe(0);
    const known = await runCli(['chat', `127.0.0.1:${port}`, '--tcp', '--user', 'alice'], { env, input: '/quit\n' });
    expect(known.code).toBe(0);
    expect(known.stderr).not.toContain('first connection');

    const closedPort = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const refused = await runCli(['chat', `127.0.0.1:${closedPort}`, '--tcp', '--user', 'alice', '--server-key', t.path('server.pub')], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^sealwire chat: nothing accepts TCP connections at 127\.0\.0\.1:\d+: if the chat server runs over UDP \(its default\), drop --tcp.* \[IO\]$/);
  }, 60_000);
});
