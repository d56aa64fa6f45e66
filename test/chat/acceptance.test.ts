/**
 * Issue 12's acceptance, tried as a new user would: `sealwire chat-server` and `sealwire chat` in
 * line mode as child processes on loopback, over UDP and over TCP. A 20,000-character line gets a
 * notice and the session goes on; a later member sees the room's recent past as `[history]` lines;
 * `/msg` to an offline member arrives at their next sign-in; a server restart is survived with
 * `! reconnected`; SIGTERM on a client signs it out at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { portOf, runCli, startCli, tempDir, type Background } from '../helpers/cli.js';
import { ChatProcess } from './helpers.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /;

describe.each(['udp', 'tcp'] as const)('chat acceptance over %s (line mode)', (transport) => {
  const t = tempDir(`sealwire-chat-acc-${transport}-`);
  const env = { HOME: t.path('home'), SEALWIRE_HOME: '' };
  const flag = transport === 'tcp' ? ['--tcp'] : [];
  let server: Background | undefined;
  let port = 0;
  const clients: ChatProcess[] = [];

  const startServer = async (p = 0): Promise<void> => {
    server = await startCli(['chat-server', ...flag, '--key', t.path('server'), '--db', t.path('chat.db'), '--port', String(p)], { env });
    port = portOf(server.firstLine);
  };
  const chat = (user: string, extra: string[] = []): ChatProcess => {
    const pwFile = t.path(`${user}.pw`);
    writeFileSync(pwFile, `${user}-password-123\n`);
    const p = new ChatProcess([`127.0.0.1:${port}`, ...flag, '--server-key', t.path('server.pub'), '--user', user, '--password-file', pwFile, ...extra], env, 90_000);
    clients.push(p);
    return p;
  };
  const signUp = async (user: string): Promise<void> => {
    const p = chat(user, ['--signup']);
    await p.waitFor(/^! signed up and signed in as /);
    p.write('/quit');
    expect(await p.exited).toBe(0);
  };

  beforeAll(async () => {
    await runCli(['keygen', '--out', t.path('server')]);
    await startServer();
    for (const u of ['alice', 'bob', 'carol', 'dave']) await signUp(u);
  }, 90_000);
  afterAll(async () => {
    for (const c of clients) c.kill();
    await server?.stop();
    t.cleanup();
  });

  it('refuses a 20,000-character line with a notice and goes on; history, /me, offline /msg; SIGTERM signs out', async () => {
    const alice = chat('alice');
    await alice.waitFor(/^! signed in as alice$/);
    const bob = chat('bob');
    await bob.waitFor(/^! signed in as bob$/);
    await alice.waitFor(/^\* bob joined$/);

    alice.write('x'.repeat(20_000), 'after the long line', '/me waves', 'tab\there', '/msg dave see you later');
    expect(await alice.waitFor(/too long/)).toBe('! message too long (20000 bytes, limit 8000); not sent');
    expect(await bob.waitFor(/^alice: after/)).toBe('alice: after the long line');
    expect(await bob.waitFor(/^\* alice waves$/)).toBe('* alice waves');
    expect(await bob.waitFor(/^alice: tab/)).toBe('alice: tab     here');
    expect(await alice.waitFor(/^! dave/)).toBe('! dave is offline; delivered when dave signs in');
    expect(bob.lines.join('\n')).not.toContain('xxxxxxxx');

    // A later member sees the recent past first, as [history] lines, then live traffic.
    const carol = chat('carol', ['--timestamps']);
    await carol.waitFor(/\[history\] alice: tab/);
    alice.write('live after carol');
    await carol.waitFor(/ alice: live after carol$/);
    for (const line of carol.lines) expect(line).toMatch(ISO);
    const bare = carol.lines.map((l) => l.replace(ISO, ''));
    expect(bare.slice(0, 4)).toEqual(['! signed in as carol', '[history] alice: after the long line', '[history] * alice waves', '[history] alice: tab     here']);
    expect(bare.indexOf('alice: live after carol')).toBeGreaterThan(3);

    // The private message waited for dave's next sign-in, and arrives once.
    const dave = chat('dave');
    expect(await dave.waitFor(/^\[private\]/)).toBe('[private] alice: see you later');

    // SIGTERM on a client signs it out: the others see it leave at once, not after a timeout.
    const before = Date.now();
    bob.signal('SIGTERM');
    await alice.waitFor(/^\* bob left$/);
    expect(Date.now() - before).toBeLessThan(5000);
    expect(await bob.exited).toBe(0);
    for (const c of [alice, carol, dave]) c.write('/quit');
    for (const c of [alice, carol, dave]) expect(await c.exited).toBe(0);
    expect(dave.lines.filter((l) => l.startsWith('[private]'))).toEqual(['[private] alice: see you later']);
  }, 90_000);

  it('survives a server restart: both clients print ! reconnected and a message typed after it arrives', async () => {
    const alice = chat('alice');
    const bob = chat('bob');
    await alice.waitFor(/^! signed in as alice$/);
    await bob.waitFor(/^! signed in as bob$/);
    const fixed = port;
    await server!.stop();
    await startServer(fixed);
    expect(await alice.waitFor(/^! reconnected$/)).toBe('! reconnected');
    expect(await bob.waitFor(/^! reconnected$/)).toBe('! reconnected');
    alice.write('after the restart');
    expect(await bob.waitFor(/^alice: after the restart$/)).toBe('alice: after the restart');
    bob.write('/quit');
    expect(await bob.exited).toBe(0);
    expect(await alice.end()).toBe(0);
    expect(alice.stderr).toBe('');
  }, 90_000);

  it('exits 1 with one line when the server stays away (--no-reconnect: at once)', async () => {
    const alice = chat('alice', ['--no-reconnect']);
    await alice.waitFor(/^! signed in as alice$/);
    await server!.stop();
    expect(await alice.exited).toBe(1);
    expect(alice.lines.at(-1)).toMatch(/^! disconnected: |^! the server closed the session$/);
    await startServer(port);
    expect(existsSync(t.path('chat.db'))).toBe(true);
  }, 60_000);
});
