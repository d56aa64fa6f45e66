/**
 * Acceptance, as a new user tries it: `sealwire chat-server` and `sealwire chat` clients in line
 * mode, as child processes talking over loopback TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { portOf, runCli, startCli, tempDir, type Background } from '../helpers/cli.js';
import { ChatProcess } from './helpers.js';

describe('sealwire chat-server and chat (line mode, TCP)', () => {
  const t = tempDir('sealwire-chat-');
  const home = t.path('home');
  const env = { HOME: home, SEALWIRE_HOME: '' };
  let server: Background;
  let port = 0;
  const clients: ChatProcess[] = [];
  const passwords = { alice: 'alice-secret-pw-1', bob: 'bob-secret-pw-22', carol: 'carol-secret-pw-333' };

  const startServer = async (extra: string[] = []): Promise<void> => {
    server = await startCli(['chat-server', '--tcp', '--key', t.path('server'), '--db', t.path('chat.db'), '--port', '0', ...extra], { env });
    port = portOf(server.firstLine);
  };
  const chat = (user: keyof typeof passwords, extra: string[] = [], how: 'file' | 'env' = 'file', password = passwords[user]): ChatProcess => {
    const pwFile = t.path(`${user}.pw`);
    writeFileSync(pwFile, `${password}\n`);
    const args = [`127.0.0.1:${port}`, '--tcp', '--server-key', t.path('server.pub'), '--user', user, ...extra];
    const p = how === 'file' ? new ChatProcess([...args, '--password-file', pwFile], env) : new ChatProcess(args, { ...env, SEALWIRE_PASSWORD: password });
    clients.push(p);
    return p;
  };

  beforeAll(async () => {
    await runCli(['keygen', '--out', t.path('server')]);
    await startServer();
  });
  afterAll(async () => {
    for (const c of clients) c.kill();
    await server?.stop();
    t.cleanup();
  });

  it('runs the room: sign-up, 100 messages in order, /msg, /who, leave notice, offline notice', async () => {
    const alice = chat('alice', ['--signup']);
    expect(await alice.waitFor(/^!/)).toBe('! signed up and signed in as alice');
    const bob = chat('bob', ['--signup'], 'env');
    expect(await bob.waitFor(/^!/)).toBe('! signed up and signed in as bob');
    const carol = chat('carol', ['--signup']);
    await carol.waitFor(/^! signed up/);
    await alice.waitFor(/^\* carol joined$/);
    expect(alice.lines.slice(0, 3)).toEqual(['! signed up and signed in as alice', '* bob joined', '* carol joined']);

    const sent = Array.from({ length: 100 }, (_, i) => `hello ${i} from alice`);
    alice.write(...sent, '/msg bob a secret for bob', '/who');
    expect(await bob.waitFor(/^\[private\]/)).toBe('[private] alice: a secret for bob');
    expect(await alice.waitFor(/^\* online:/)).toBe('* online: alice, bob, carol');
    await carol.waitFor(/^alice: hello 99 from alice$/);
    expect(bob.lines.filter((l) => l.startsWith('alice: '))).toEqual(sent.map((s) => `alice: ${s}`));
    expect(carol.lines.filter((l) => l.startsWith('alice: '))).toEqual(sent.map((s) => `alice: ${s}`));
    expect(carol.lines.join('\n')).not.toContain('secret');
    expect(alice.lines.join('\n')).not.toContain('secret');

    bob.write('/quit');
    expect(await bob.exited).toBe(0);
    expect(await alice.waitFor(/^\* bob left$/)).toBe('* bob left');
    alice.write('/msg bob are you there?');
    expect(await alice.waitFor(/^! bob/)).toBe('! bob is offline; delivered when bob signs in');
    expect(await alice.end()).toBe(0);
    expect(await carol.waitFor(/^\* alice left$/)).toBe('* alice left');
    expect(await carol.end()).toBe(0);
    for (const c of [alice, bob, carol]) expect(c.stderr.replace(/^sealwire chat: created identity key .*\n/, '')).toBe('');

    // The default identity key was created under $HOME/.sealwire, private.
    const id = `${home}/.sealwire/id_x25519`;
    expect(existsSync(id) && existsSync(`${id}.pub`)).toBe(true);
    expect(statSync(id).mode & 0o777).toBe(0o600);
    // The server logged sessions, never passwords or message texts.
    const log = server.stderr();
    expect(log).toMatch(/alice signed up and signed in/);
    for (const secret of [...Object.values(passwords), 'hello 0', 'a secret for bob']) expect(log).not.toContain(secret);
  }, 60_000);

  it('keeps accounts across a restart, refuses a wrong password, and stores no password in plain', async () => {
    await server.stop();
    const db = readFileSync(t.path('chat.db'));
    for (const pw of Object.values(passwords)) expect(db.includes(Buffer.from(pw))).toBe(false);
    expect(db.includes(Buffer.from('$argon2id$'))).toBe(true);
    await startServer(['--max-message', '40', '--max-members', '1']);

    const alice = chat('alice');
    expect(await alice.waitFor(/^!/)).toBe('! signed in as alice');
    alice.write('x'.repeat(41));
    expect(await alice.waitFor(/too long/)).toBe('! message too long (41 bytes, limit 40); not delivered');
    const bob = chat('bob');
    expect(await bob.exited).toBe(1);
    expect(bob.stderr.trim()).toBe('sealwire chat: sign-in refused: the room is full (at most 1 signed in)');
    expect(await alice.end()).toBe(0);

    const wrong = chat('bob', [], 'env', 'not-bobs-password');
    expect(await wrong.exited).toBe(1);
    expect(wrong.lines).toEqual([]);
    expect(wrong.stderr.trim().split('\n')).toEqual(['sealwire chat: sign-in refused: wrong user name or password']);

    const taken = chat('carol', ['--signup']);
    expect(await taken.exited).toBe(1);
    expect(taken.stderr.trim()).toBe('sealwire chat: sign-up refused: the name carol is taken');
  });

  it('never takes the password from argv, and says how to give one when there is no terminal', async () => {
    const r = await runCli(['chat', `127.0.0.1:${port}`, '--tcp', '--server-key', t.path('server.pub'), '--user', 'alice'], { env: { ...env, SEALWIRE_PASSWORD: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--password-file FILE or set SEALWIRE_PASSWORD/);
    const bad = await runCli(['chat', `127.0.0.1:${port}`, '--tcp', '--user', 'alice', '--password', 'x']);
    expect(bad.code).toBe(2);
    const both = await runCli(['chat-server', '--key', t.path('server'), '--tcp', '--udp']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--tcp and --udp exclude each other/);
  });
});
