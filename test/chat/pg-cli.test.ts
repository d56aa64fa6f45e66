/**
 * The CLI on one PostgreSQL: two `sealwire chat-server` processes (one given `--db URL`, one
 * `$DATABASE_URL`), a `sealwire chat A,B` client in line mode, and library clients. The server a
 * member is on is SIGKILLed: the CLI client reconnects to the other server of its list and its next
 * message arrives; a member that does not reconnect is shown as left on the other server within
 * 30 s; no log line carries the database password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { runCli, startCli, tempDir, portOf, type Background } from '../helpers/cli.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { loadKeyPair } from '../../src/keys/files.js';
import { connectChat } from '../../src/chat/net.js';
import type { ChatClient } from '../../src/chat/client.js';
import { ChatProcess, Events } from './helpers.js';

describe('sealwire chat-server --db postgres://… (two servers, SIGKILL of one)', () => {
  const t = tempDir('sealwire-pgcli-');
  const env = { HOME: t.path('home'), SEALWIRE_HOME: '' };
  let db: TestPostgres;
  const servers: Background[] = [];
  const libClients: ChatClient[] = [];
  let alice: ChatProcess | undefined;

  beforeAll(async () => {
    db = await startPostgres();
    await runCli(['keygen', '--out', t.path('room')]);
    servers.push(await startCli(['chat-server', '--tcp', '--key', t.path('room'), '--port', '0', '--db', db.url], { env }));
    servers.push(await startCli(['chat-server', '--tcp', '--key', t.path('room'), '--port', '0'], { env: { ...env, DATABASE_URL: db.url } }));
  }, 90_000);

  afterAll(async () => {
    alice?.kill();
    await Promise.all(libClients.map((c) => c.quit().catch(() => {})));
    for (const s of servers) await s.stop();
    await db?.stop();
    t.cleanup();
  }, 60_000);

  it('a member moves to the next server when hers is killed; the others see the stranded member leave', async () => {
    const ports = servers.map((s) => portOf(s.firstLine));
    const serverKey = loadKeyPair(t.path('room')).publicKey;
    writeFileSync(t.path('alice.pw'), 'alice-secret-pw-1\n');
    alice = new ChatProcess(
      [ports.map((p) => `127.0.0.1:${p}`).join(','), '--tcp', '--server-key', t.path('room.pub'), '--user', 'alice', '--signup', '--password-file', t.path('alice.pw')],
      env,
    );
    expect(await alice.waitFor(/^!/)).toBe('! signed up and signed in as alice');
    const x = servers.findIndex((s) => /alice signed up and signed in/.test(s.stderr()));
    expect(x).toBeGreaterThanOrEqual(0);
    const y = 1 - x;
    const join = async (port: number, user: string): Promise<{ client: ChatClient; events: Events }> => {
      const client = await connectChat({ port, serverKey, transport: 'tcp' }, { user, password: `${user}-secret-pw`, signup: true });
      libClients.push(client);
      return { client, events: new Events(client) };
    };
    await join(ports[x]!, 'carol'); // stays on the server that dies, and does not reconnect
    const bob = await join(ports[y]!, 'bob');
    bob.client.who();
    const who = await bob.events.next((e) => e.kind === 'online');
    expect(who.kind === 'online' && [...who.users].sort()).toEqual(['alice', 'bob', 'carol']);

    const killedAt = Date.now();
    servers[x]!.child.kill('SIGKILL');
    await alice.waitFor(/^! reconnected/);
    alice.write('back on another server');
    const got = await bob.events.next((e) => e.kind === 'public' && e.text === 'back on another server');
    expect(got).toEqual({ kind: 'public', from: 'alice', text: 'back on another server' });
    // alice came back before the sweep: she was never shown as left.
    expect(bob.events.all.filter((e) => e.kind === 'left' && e.user === 'alice')).toEqual([]);
    alice.write('/quit');
    expect(await alice.end()).toBe(0);
    await bob.events.next((e) => e.kind === 'left' && e.user === 'carol');
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    for (const s of servers) {
      expect(s.stderr()).not.toContain(db.password);
    }
    expect(servers[0]!.stderr()).toMatch(/postgres:\/\/sealwire:\*\*\*@127\.0\.0\.1/);
  }, 60_000);
});
