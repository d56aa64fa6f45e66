/**
 * The UDP transport under load and attack, through the public API on 127.0.0.1:
 * - load: many concurrent sessions, each doing round trips of fixed-size messages through an echo
 *   server, every byte checked. UDP may drop a datagram (a burst can overflow a socket buffer), so
 *   like any application the client sends a message again when its echo is late; each message
 *   carries its round number, so a late echo of an earlier round is recognised (counted as a
 *   duplicate), and anything else that does not match is corruption;
 * - a flood of valid first flights (Hellos) from many source ports that never go on: the server's
 *   half-open state and the process memory stay bounded, a legitimate client still connects;
 * - the amplification rule: no reply to an unauthenticated datagram (Hellos, garbage, truncated
 *   and bit-flipped handshake datagrams) is larger than that datagram, checked on every reply;
 * - garbage datagrams: no state kept, nothing but SealwireErrors reported, sessions unharmed.
 *
 * Shared by the vitest file (quick form) and the soak, so failures are thrown as plain Errors.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { connect, createServer, ErrorCodes, SealwireError, type UdpServer, type UdpServerOptions, type UdpSession } from '../../../src/index.js';
import { DatagramSession } from '../../../src/session/datagram-session.js';
import { availableSuites, getSuite } from '../../../src/suites/index.js';
import type { SuiteName } from '../../../src/session/handshake.js';
import { bounded, fixture, Tally, until } from './targets.js';

/** Suites this build runs over UDP (those with a datagram profile). */
export function udpSuites(): SuiteName[] {
  return availableSuites().filter((s) => getSuite(s).datagram !== undefined);
}

export interface UdpRunning {
  readonly server: UdpServer;
  readonly port: number;
  readonly handshakeErrors: SealwireError[];
  dial(): Promise<UdpSession>;
  close(): Promise<void>;
}

/** An echo server for `suite` over UDP on 127.0.0.1 port 0. */
export async function startUdpServer(suite: SuiteName, extra: Partial<UdpServerOptions> = {}): Promise<UdpRunning> {
  const fx = await fixture(suite);
  const server = createServer({ transport: 'udp', key: fx.serverKey, suite, anyClient: true, ...extra }, (s) => {
    s.on('message', (m: Buffer) => {
      if (!s.closed) s.send(m);
    });
    s.on('error', () => {});
  });
  const handshakeErrors: SealwireError[] = [];
  server.on('handshakeError', (e: SealwireError) => handshakeErrors.push(e));
  server.on('sessionError', () => {});
  const { port } = await server.listen(0, '127.0.0.1');
  const dial = (): Promise<UdpSession> =>
    connect({ transport: 'udp', suite, port, host: '127.0.0.1', serverKey: fx.serverKey.publicKey, key: fx.clientKey ?? undefined, handshakeTimeout: 30_000 });
  return { server, port, handshakeErrors, dial, close: () => server.close() };
}

export interface UdpLoadOptions {
  sessions: number;
  roundTrips: number;
  size: number;
  /** Handshakes started at once (a burst of thousands of Hellos overflows socket buffers). */
  wave?: number;
  boundMs?: number;
}

/** Runs the load; returns the tally and the failures (empty when every round trip was exact). */
export async function runUdpLoad(suite: SuiteName, o: UdpLoadOptions): Promise<{ tally: Tally; failures: string[] }> {
  const tally = new Tally();
  const failures: string[] = [];
  const running = await startUdpServer(suite, { maxHandshakes: 4096, maxHandshakesPerAddress: 4096 });
  const sessions: UdpSession[] = [];
  try {
    const wave = o.wave ?? 100;
    await bounded(
      (async () => {
        while (sessions.length < o.sessions) {
          const n = Math.min(wave, o.sessions - sessions.length);
          sessions.push(...(await Promise.all(Array.from({ length: n }, () => running.dial()))));
          tally.handshakes += n;
        }
      })(),
      o.boundMs ?? 120_000,
      'opening UDP sessions',
    );
    tally.sessions += sessions.length;
    assert.equal(running.server.connections, o.sessions, 'every UDP session is open at once');
    let resent = 0;
    let duplicates = 0;
    const work = sessions.map((s) =>
      udpRoundTrips(s, o.roundTrips, o.size).then((r) => {
        resent += r.resent;
        duplicates += r.duplicates;
        tally.roundTrips += o.roundTrips;
        tally.bytes += 2 * o.roundTrips * o.size;
      }),
    );
    const results = await bounded(Promise.allSettled(work), o.boundMs ?? 120_000, 'UDP round trips');
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        tally.error(r.reason);
        failures.push(`session ${i}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
      }
    });
    tally.figure(`udpResent/${suite}/${o.sessions}`, resent);
    tally.figure(`udpLateEchoes/${suite}/${o.sessions}`, duplicates);
  } finally {
    for (const s of sessions) s.close();
    await running.close();
  }
  for (const e of running.handshakeErrors) {
    tally.error(e);
    failures.push(`server: ${e.code} ${e.message}`);
  }
  return { tally, failures };
}

const RESEND_MS = 1000;

/** `n` round trips of `size` bytes (4-byte round number ‖ random), each echo compared byte for byte. */
function udpRoundTrips(s: UdpSession, n: number, size: number): Promise<{ resent: number; duplicates: number }> {
  return new Promise((resolve, reject) => {
    let round = 0;
    let resent = 0;
    let duplicates = 0;
    let expected = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    const next = (): void => {
      expected = randomBytes(size);
      expected.writeUInt32BE(round, 0);
      s.send(expected);
      clearInterval(timer);
      timer = setInterval(() => {
        resent++;
        s.send(expected);
      }, RESEND_MS);
    };
    const fail = (msg: string): void => {
      clearInterval(timer);
      reject(new Error(msg));
    };
    s.on('message', (m: Buffer) => {
      if (m.length !== size) return fail(`an echo of ${m.length} bytes for a ${size}-byte message`);
      const r = m.readUInt32BE(0);
      if (r < round) {
        duplicates++; // the echo of a message sent again
        return;
      }
      if (r !== round || !m.equals(expected)) return fail(`corrupted echo in round ${round}`);
      if (++round === n) {
        clearInterval(timer);
        resolve({ resent, duplicates });
        return;
      }
      next();
    });
    s.once('close', () => {
      if (round < n) fail(`closed after ${round} of ${n} round trips (${String(s.error?.code ?? 'no error')})`);
    });
    next();
  });
}

// --- raw datagrams ---------------------------------------------------------------------------

interface Probe {
  readonly socket: dgram.Socket;
  /** Sizes of every datagram sent and received on this socket. */
  readonly sent: number[];
  readonly replies: number[];
}

async function probe(): Promise<Probe> {
  const socket = dgram.createSocket('udp4');
  const p: Probe = { socket, sent: [], replies: [] };
  socket.on('message', (m) => p.replies.push(m.length));
  socket.on('error', () => {});
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return p;
}

function sendTo(p: Probe, port: number, d: Uint8Array): Promise<void> {
  p.sent.push(d.length);
  return new Promise((resolve) => p.socket.send(d, port, '127.0.0.1', () => resolve()));
}

/** A fresh client's first flight over UDP for `suite` (under a fresh connection id). */
async function firstDatagrams(suite: SuiteName): Promise<Uint8Array[]> {
  const fx = await fixture(suite);
  const s = getSuite(suite);
  const connectionId = randomBytes(8);
  const core = new DatagramSession(s.client({ key: fx.clientKey, server: { kind: 'pinned', key: fx.serverKey.publicKey }, rng: (n) => randomBytes(n), connectionId }), {
    now: 0,
    connectionId,
    profile: s.datagram,
  });
  core.start(0);
  return core.takeOutput();
}

/**
 * Checks the amplification rule on one probe: every socket sent one unauthenticated datagram, so
 * every reply must be no larger than it (and no more than one reply per datagram sent).
 */
function checkAmplification(p: Probe, what: string, t: Tally): void {
  const largest = Math.max(0, ...p.sent);
  for (const r of p.replies) {
    assert.ok(r <= largest, `${what}: a ${r}-byte reply to a ${largest}-byte unauthenticated datagram`);
    t.figure('udpLargestUnauthenticatedReplyBytes', r);
  }
  const sent = p.sent.reduce((a, b) => a + b, 0);
  const got = p.replies.reduce((a, b) => a + b, 0);
  assert.ok(got <= sent, `${what}: ${got} bytes of replies to ${sent} unauthenticated bytes`);
}

/** Memory bound for the whole test process during a UDP flood. */
export const UDP_FLOOD_MEMORY_BOUND = 128 * 1024 * 1024;

/**
 * `sources` source ports each send `perSource` valid first flights (fresh connection ids) and
 * never go on. The server's half-open state stays under its bound, the amplification rule holds
 * on every reply, process memory grows by less than UDP_FLOOD_MEMORY_BOUND, and a legitimate
 * client still completes a handshake and an echo during the flood.
 */
export async function udpHelloFlood(suite: SuiteName, sources: number, perSource: number, maxHandshakes = 256): Promise<Tally> {
  const t = new Tally();
  // A suite that keeps state for a first flight (sid) holds the flood's handshakes until their
  // deadline (3 s here); the legitimate client is refused while the table is full and gets in by
  // retransmitting. A stateless one (box) holds nothing.
  const running = await startUdpServer(suite, { maxHandshakes, maxHandshakesPerAddress: maxHandshakes, handshakeTimeout: 3000 });
  const probes: Probe[] = [];
  try {
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = 0;
    const sample = (): void => {
      peak = Math.max(peak, running.server.handshakesInProgress);
      assert.ok(running.server.handshakesInProgress <= maxHandshakes, `${running.server.handshakesInProgress} handshakes held (bound ${maxHandshakes})`);
    };
    const sampler = setInterval(sample, 5);
    try {
      for (let i = 0; i < sources; i++) {
        const p = await probe();
        probes.push(p);
        for (let j = 0; j < perSource; j++) for (const d of await firstDatagrams(suite)) await sendTo(p, running.port, d);
        sample();
      }
      // Let the server take in the flood and the replies arrive.
      await new Promise((r) => setTimeout(r, 300));
      sample();
    } finally {
      clearInterval(sampler);
    }
    // A legitimate client connects in the flood's aftermath (a stateful suite's table may be full).
    const session = await bounded(running.dial(), 30_000, 'a legitimate UDP client after the Hello flood');
    const echo = new Promise<Buffer>((r) => session.once('message', r));
    session.send('legit');
    const timer = setInterval(() => session.send('legit'), 500);
    try {
      assert.equal((await bounded(echo, 15_000, 'echo after the flood')).toString(), 'legit');
    } finally {
      clearInterval(timer);
    }
    session.close();
    t.sessions++;
    const grown = process.memoryUsage().rss - before;
    t.figure(`udpFloodRssGrowthBytes/${suite}/${sources * perSource}`, Math.max(0, grown));
    t.figure(`udpFloodHalfOpenHeld/${suite}`, peak);
    assert.ok(grown < UDP_FLOOD_MEMORY_BOUND, `memory grew by ${grown} bytes under a flood of ${sources * perSource} Hellos`);
    let replies = 0;
    for (const p of probes) {
      // Every probe sent only first flights (each its own unauthenticated datagram).
      for (const r of p.replies) assert.ok(r <= Math.max(...p.sent), `a ${r}-byte reply to a Hello of at most ${Math.max(...p.sent)} bytes`);
      checkAmplification(p, `${suite} Hello flood`, t);
      replies += p.replies.length;
    }
    t.figure(`udpFloodReplies/${suite}`, replies);
    t.handshakes += sources * perSource;
    for (const e of running.handshakeErrors) {
      assert.ok(e instanceof SealwireError && ErrorCodes.includes(e.code), `handshake error ${String(e)}`);
      t.error(e);
    }
  } finally {
    for (const p of probes) p.socket.close();
    await running.close();
  }
  return t;
}

/**
 * Garbage and mutated handshake datagrams, each from its own source port: random bytes of every
 * size class, truncations and bit flips of a valid first flight, records for unknown connection
 * ids. Every reply obeys the amplification rule; the server keeps no state for any of it; only
 * SealwireErrors are reported; an established session is unharmed and still echoes.
 */
export async function udpGarbage(suite: SuiteName, count: number): Promise<Tally> {
  const t = new Tally();
  // A short handshake deadline: a bit-flipped first flight may still look like one (a flip in its
  // padding) and hold a half-open slot until then.
  const running = await startUdpServer(suite, { handshakeTimeout: 2000 });
  const probes: Probe[] = [];
  let session: UdpSession | undefined;
  try {
    session = await running.dial();
    const flight = (await firstDatagrams(suite))[0]!;
    for (let i = 0; i < count; i++) {
      const p = await probe();
      probes.push(p);
      let d: Buffer;
      switch (i % 5) {
        case 0:
          d = randomBytes(1 + (i % 1400));
          break;
        case 1:
          d = Buffer.from(flight.subarray(0, i % flight.length));
          break;
        case 2:
          d = Buffer.from(flight);
          d[i % d.length]! ^= 1 << (i % 8);
          break;
        case 3:
          d = Buffer.concat([Buffer.from([flight[0]!]), randomBytes(8), randomBytes(i % 200)]); // a known type, an unknown id
          break;
        default:
          d = Buffer.concat([Buffer.from([0x10 + (i % 4)]), randomBytes(8), randomBytes(16 + (i % 100))]); // "records" for unknown ids
      }
      if (d.length === 0) d = randomBytes(1);
      await sendTo(p, running.port, d);
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const p of probes) checkAmplification(p, `${suite} garbage`, t);
    await until(() => running.server.handshakesInProgress === 0, 20_000, 'no half-open state left by garbage');
    assert.equal(running.server.connections, 1, 'garbage made no session');
    const echo = new Promise<Buffer>((r) => session!.once('message', r));
    session.send('still here');
    const timer = setInterval(() => session!.send('still here'), 500);
    try {
      assert.equal((await bounded(echo, 15_000, 'echo after the garbage')).toString(), 'still here');
    } finally {
      clearInterval(timer);
    }
    t.sessions++;
    for (const e of running.handshakeErrors) {
      assert.ok(e instanceof SealwireError && ErrorCodes.includes(e.code), `handshake error ${String(e)}`);
      t.error(e);
    }
    t.figure(`udpGarbageDatagrams/${suite}`, count);
  } finally {
    session?.close();
    for (const p of probes) p.socket.close();
    await running.close();
  }
  return t;
}
