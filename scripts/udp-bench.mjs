#!/usr/bin/env node
/**
 * UDP measurements (not a test): run `npm run build` first, then
 *
 *     node --expose-gc scripts/udp-bench.mjs [seconds]
 *
 * 1. Messages per second, 1 KiB each, one client → one server in another process, for plaintext
 *    `dgram` and for a sealwire `box` UDP session. The sender sends bursts as fast as the event
 *    loop allows; the figure is what the receiver got per second (its capacity is the bottleneck).
 * 2. Extra memory of the server process for 10,000 idle `box` UDP sessions (RSS and heap, after
 *    GC). The 10,000 clients are sans-I/O sessions sharing one socket in this process, so only
 *    the server's memory is measured.
 *
 * SESSIONS=n changes the session count; CHILD_PROF=DIR writes a CPU profile of the server process.
 * The figures swing with machine load (both processes share the cores): run it on a quiet machine.
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/src/', import.meta.url);
const sw = await import(new URL('index.js', dist).href);
const { DatagramSession } = await import(new URL('session/datagram-session.js', dist).href);
const { getSuite } = await import(new URL('suites/index.js', dist).href);
const { systemRng } = await import(new URL('crypto/random.js', dist).href);

const role = process.argv[2];
const gc = () => globalThis.gc?.();
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const heapMiB = () => process.memoryUsage().heapUsed / 2 ** 20;

// ---------------------------------------------------------------- server child ----------------
if (role === 'server') {
  const mode = process.argv[3];
  let count = 0;
  let close;
  let port;
  if (mode === 'plain') {
    const s = dgram.createSocket('udp4');
    s.on('message', () => count++);
    await new Promise((r) => s.bind(0, '127.0.0.1', r));
    try { s.setRecvBufferSize(4 * 2 ** 20); } catch {}
    port = s.address().port;
    close = () => s.close();
  } else {
    const key = sw.generateKeyPair('x25519'); // throwaway; only its public key leaves this process
    globalThis.publicKey = Buffer.from(key.publicKey.bytes).toString('hex');
    const server = sw.createServer({ transport: 'udp', key, anyClient: true, maxHandshakes: 20000, maxHandshakesPerAddress: 20000, idleTimeout: 600_000, keepalive: 300_000 }, (session) => {
      session.on('message', () => count++);
    });
    port = (await server.listen(0, '127.0.0.1')).port;
    close = () => server.close();
    server._ref = server;
    globalThis.server = server;
  }
  gc();
  process.send({ port, rss: rssMiB(), heap: heapMiB(), publicKey: globalThis.publicKey });
  process.on('message', (m) => {
    if (m === 'count') process.send({ count });
    if (m === 'reset') { count = 0; process.send({ ok: true }); }
    if (m === 'mem') { gc(); gc(); process.send({ rss: rssMiB(), heap: heapMiB(), sessions: globalThis.server?.connections }); }
    if (m === 'exit') { close(); process.exit(0); }
  });
} else {
  // ---------------------------------------------------------------- driver ----------------------
  const seconds = Number(process.argv[2] ?? 3);
  let serverKey;

  const startServer = (mode) =>
    new Promise((resolve) => {
      const args = ['server', mode];
      const child = fork(fileURLToPath(import.meta.url), args, { execArgv: ['--expose-gc', ...(process.env.CHILD_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.CHILD_PROF] : [])] });
      const ask = (m) => new Promise((r) => { child.once('message', r); child.send(m); });
      child.once('message', (info) => {
        if (info.publicKey) serverKey = { publicKey: sw.PublicKey.fromBytes('x25519', Buffer.from(info.publicKey, 'hex')) };
        resolve({ child, info, ask });
      });
    });

  const blast = async (send, ms) => {
    const end = performance.now() + ms;
    let sent = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 64; i++) { send(); sent++; }
      await new Promise((r) => setImmediate(r));
    }
    return sent;
  };

  const payload = Buffer.alloc(1024, 0x61);

  // 1a. plaintext dgram
  {
    const { child, info, ask } = await startServer('plain');
    const c = dgram.createSocket('udp4');
    await new Promise((r) => c.connect(info.port, '127.0.0.1', r));
    await blast(() => c.send(payload), 300); // warm-up
    await ask('reset');
    const sent = await blast(() => c.send(payload), seconds * 1000);
    await new Promise((r) => setTimeout(r, 200));
    const { count } = await ask('count');
    globalThis.plain = count / seconds;
    console.log(`plaintext dgram: ${(count / seconds).toFixed(0)} msg/s received (sent ${(sent / seconds).toFixed(0)}/s)`);
    c.close();
    child.send('exit');
  }
  // 1b. sealwire box over UDP
  {
    const { child, info, ask } = await startServer('box');
    const s = await sw.connect({ transport: 'udp', port: info.port, serverKey: serverKey.publicKey });
    await blast(() => s.send(payload), 300);
    await ask('reset');
    const sent = await blast(() => s.send(payload), seconds * 1000);
    await new Promise((r) => setTimeout(r, 200));
    const { count } = await ask('count');
    console.log(`sealwire box UDP: ${(count / seconds).toFixed(0)} msg/s received (sent ${(sent / seconds).toFixed(0)}/s) = ${(count / seconds / globalThis.plain).toFixed(2)} x plaintext`);
    s.close();
    child.send('exit');
  }
  // 2. memory for 10,000 idle sessions
  {
    const n = Number(process.env.SESSIONS ?? 10_000);
    const { child, info, ask } = await startServer('box');
    const before = await ask('mem');
    const sock = dgram.createSocket('udp4');
    await new Promise((r) => sock.bind(0, '127.0.0.1', r));
    try { sock.setRecvBufferSize(4 * 2 ** 20); } catch {}
    const suite = getSuite('box');
    const clientKey = sw.generateKeyPair('x25519');
    const sessions = new Map();
    let open = 0;
    const flush = (s) => { for (const d of s.takeOutput()) sock.send(d, info.port, '127.0.0.1'); for (const e of s.takeEvents()) if (e.type === 'secure') open++; };
    sock.on('message', (m) => {
      const s = sessions.get(m.subarray(1, 9).toString('latin1'));
      if (s) { s.receive(m, performance.now()); flush(s); }
    });
    const timer = setInterval(() => { const t = performance.now(); for (const s of sessions.values()) { if (s.nextTimeout() <= t) { s.handleTimeout(t); flush(s); } } }, 50);
    for (let i = 0; i < n; i += 200) {
      for (let j = i; j < Math.min(n, i + 200); j++) {
        const cid = systemRng(8);
        const hs = suite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng: systemRng, connectionId: cid });
        const s = new DatagramSession(hs, { now: performance.now(), connectionId: cid, handshakeTimeoutMs: 60_000, idleTimeoutMs: 600_000, keepaliveMs: 300_000 });
        sessions.set(Buffer.from(cid).toString('latin1'), s);
        s.start(performance.now());
        flush(s);
      }
      while (open < Math.min(n, i + 200) - 5) await new Promise((r) => setTimeout(r, 5));
    }
    while (open < n) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    const after = await ask('mem');
    const perSession = ((after.heap - before.heap) * 1024) / n;
    console.log(
      `${after.sessions} idle box UDP sessions: server RSS +${(after.rss - before.rss).toFixed(1)} MiB (${before.rss.toFixed(1)} → ${after.rss.toFixed(1)}), heap +${(after.heap - before.heap).toFixed(1)} MiB (~${perSession.toFixed(2)} KiB/session)`,
    );
    clearInterval(timer);
    sock.close();
    child.send('exit');
  }
}

