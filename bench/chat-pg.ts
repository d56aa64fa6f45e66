/**
 * The figure for docs/DEPLOY.md and BENCHMARKS.md: one chat room on PostgreSQL, messages/s
 * delivered end to end with 1 and with 3 chat servers (same machine, one PostgreSQL started by
 * test/helpers/postgres.ts), and the fan-out latency between servers (p50/p99: from `say` on a
 * client of server A to its arrival at a client of server B, one message every 10 ms).
 *
 *     npx tsc -p tsconfig.json && node dist/bench/chat-pg.js [messagesPerSender]
 *
 * Clients over TCP on loopback (the figure is the servers' and the database's, not UDP loss
 * recovery). Each of 3 senders sends N messages as fast as the rate limit (raised here) allows;
 * delivered = messages received by all members, over the time until the last arrives.
 */
import { generateKeyPair } from '../src/index.js';
import { listenChat, connectChat, type ChatListener } from '../src/chat/net.js';
import type { ChatClient, ChatEvent } from '../src/chat/client.js';
import { openPgChatDatabase } from '../src/chat/pg/database.js';
import { startPostgres } from '../test/helpers/postgres.js';

const N = Number(process.argv[2] ?? 300);
const key = generateKeyPair('x25519');
const cost = { ops: 1, mem: 8192 }; // cheap hashing: sign-ins are not what is measured

async function run(serverCount: number, url: string, tag: string): Promise<{ rate: number; p50: number; p99: number }> {
  const listeners: ChatListener[] = [];
  for (let i = 0; i < serverCount; i++) {
    listeners.push(
      await listenChat({
        server: { key, anyClient: true },
        transport: 'tcp',
        passwordCost: cost,
        limits: { burst: 100_000, ratePerSecond: 100_000, burstBytes: 100_000_000, bytesPerSecond: 100_000_000 },
        history: { keep: 0 },
        openDatabase: () => openPgChatDatabase(url, { pollMs: 1000 }),
      }),
    );
  }
  const members: { client: ChatClient; got: number; times: Map<string, number> }[] = [];
  for (let i = 0; i < 3; i++) {
    const l = listeners[i % serverCount]!;
    const client = await connectChat({ port: l.port, serverKey: key.publicKey, transport: 'tcp' }, { user: `${tag}u${i}`, password: 'bench-password-1', signup: true });
    const m = { client, got: 0, times: new Map<string, number>() };
    client.onEvent((e: ChatEvent) => {
      if (e.kind === 'public') {
        m.got++;
        m.times.set(e.text, performance.now());
      }
    });
    members.push(m);
  }
  await new Promise((r) => setTimeout(r, 500));
  const sentAt = new Map<string, number>();
  const expected = 2 * N; // each member receives the other two senders' messages
  const t0 = performance.now();
  for (let k = 0; k < N; k++) {
    for (let i = 0; i < 3; i++) {
      const text = `${i}:${k}`;
      sentAt.set(text, performance.now());
      members[i]!.client.say(text);
    }
    if (k % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  const deadline = Date.now() + 120_000;
  while (members.some((m) => m.got < expected) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const elapsed = (performance.now() - t0) / 1000;
  const delivered = members.reduce((n, m) => n + m.got, 0);
  if (delivered < 3 * expected) throw new Error(`only ${delivered} of ${3 * expected} delivered`);
  // Fan-out latency, unloaded: sender 0 (server A) sends one message every 10 ms; member 1 (on
  // server B when there are 3 servers) receives it.
  for (let k = 0; k < 200; k++) {
    const text = `p:${k}`;
    sentAt.set(text, performance.now());
    members[0]!.client.say(text);
    await new Promise((r) => setTimeout(r, 10));
  }
  while (![...members[1]!.times.keys()].includes('p:199') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const lat: number[] = [];
  for (const [text, t] of members[1]!.times) if (text.startsWith('p:')) lat.push(t - sentAt.get(text)!);
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  await Promise.all(members.map((m) => m.client.quit().catch(() => {})));
  for (const l of listeners) await l.close();
  return { rate: delivered / elapsed, p50: q(0.5), p99: q(0.99) };
}

const db = await startPostgres();
try {
  const one = await run(1, db.url, 'a');
  const three = await run(3, db.url, 'b');
  const fmt = (r: { rate: number; p50: number; p99: number }): string => `${Math.round(r.rate)} msg/s delivered, fan-out p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`;
  console.log(`chat on PostgreSQL, 3 members x ${N} messages each (TCP, loopback):`);
  console.log(`  1 server : ${fmt(one)}`);
  console.log(`  3 servers: ${fmt(three)}`);
} finally {
  await db.stop();
}
