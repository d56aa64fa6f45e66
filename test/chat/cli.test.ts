/**
 * Acceptance, as a new user tries it: `sealwire chat-server` and `sealwire chat` clients in line
 * mode, as child processes talking over loopback TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { CLI, portOf, runCli, startCli, tempDir, type Background } from '../helpers/cli.js';

/** A `sealwire chat` process in line mode: write lines, wait for output lines, collect the exit. */
class ChatProcess {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private partial = '';
  private waiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [CLI, 'chat', ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
    this.child.stdout!.on('data', (c: Buffer) => {
      this.partial += c.toString();
      const parts = this.partial.split('\n');
      this.partial = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => !(w.re.test(line) && (w.resolve(line), true)));
      }
    });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 25_000);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
  }

  /** Resolves with the first output line (seen or future) that matches. */
  waitFor(re: RegExp): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ re, resolve });
      void this.exited.then(() => reject(new Error(`chat exited before printing ${re}; stdout: ${this.lines.join(' | ')}; stderr: ${this.stderr}`)));
    });
  }

  write(...lines: string[]): void {
    this.child.stdin!.write(lines.map((l) => `${l}\n`).join(''));
  }

  end(): Promise<number | null> {
    this.child.stdin!.end();
    return this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

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
    expect(await alice.waitFor(/^! bob/)).toBe('! bob is not online; message not delivered');
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
  });

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
  });
});
