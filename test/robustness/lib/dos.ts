/**
 * Denial of service over stream transports: a flood of half-open handshakes (connections that
 * send part of a first flight and then nothing), and a slow sender (one byte a second). The
 * server must keep its memory under a stated bound, keep completing handshakes for legitimate
 * clients during the flood, and cut the slow sender off at the handshake deadline.
 */
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { firstFlight, rawSocket, startServer, Tally, until, bounded, type Target } from './targets.js';

/** Memory bound for the whole test process (attacker sockets included) during a flood. */
export const FLOOD_MEMORY_BOUND = 128 * 1024 * 1024;

export async function halfOpenFlood(target: Target, attackers: number, maxHandshakes = 512): Promise<Tally> {
  const t = new Tally();
  const running = await startServer(target, (s) => s.pipe(s), { maxHandshakes, handshakeTimeout: 60_000 });
  const sockets: Duplex[] = [];
  try {
    global.gc?.();
    const before = process.memoryUsage();
    const partial = firstFlight(running.fx).subarray(0, 100);
    for (let i = 0; i < attackers; i++) {
      const s = await rawSocket(target, running);
      s.write(partial);
      sockets.push(s);
    }
    await until(() => running.server.connections === Math.min(attackers, maxHandshakes), 30_000, `the server to hold at most ${maxHandshakes} handshakes`);
    // A legitimate client completes a handshake and an echo while the flood holds every slot.
    for (let i = 0; i < 3; i++) {
      const session = await bounded(running.dial(), 15_000, 'a legitimate client during the flood');
      session.write('legit');
      const echo = await bounded(new Promise<Buffer>((r) => session.once('data', r)), 15_000, 'echo during the flood');
      assert.equal(echo.toString(), 'legit');
      session.destroy();
      t.sessions++;
    }
    const after = process.memoryUsage();
    const grown = after.rss - before.rss;
    t.figure(`floodRssGrowthBytes/${target.transport}/${attackers}`, Math.max(0, grown));
    t.figure(`floodConnectionsHeld/${target.transport}`, running.server.connections);
    assert.ok(grown < FLOOD_MEMORY_BOUND, `memory grew by ${grown} bytes under a flood of ${attackers} half-open handshakes`);
    for (const e of running.handshakeErrors) t.error(e);
    t.handshakes += attackers;
  } finally {
    for (const s of sockets) s.destroy();
    await running.close();
  }
  return t;
}

/** One byte a second: the handshake deadline (here 1.5 s) ends it long before the flight is sent. */
export async function slowSender(target: Target): Promise<Tally> {
  const t = new Tally();
  const running = await startServer(target, () => assert.fail('the slow sender must not get a session'), { handshakeTimeout: 1500 });
  try {
    const flight = firstFlight(running.fx);
    const s = await rawSocket(target, running);
    let sent = 0;
    let closed = false;
    s.on('close', () => (closed = true));
    const timer = setInterval(() => {
      if (closed || sent >= flight.length) return;
      s.write(flight.subarray(sent, sent + 1));
      sent++;
    }, 1000);
    try {
      await until(() => running.handshakeErrors.length > 0, 20_000, 'the slow sender to be cut off');
      await until(() => closed, 10_000, 'the slow sender\'s connection to close');
    } finally {
      clearInterval(timer);
      s.destroy();
    }
    const e = running.handshakeErrors[0]!;
    assert.equal(e.code, 'TIMEOUT');
    assert.ok(sent < flight.length, `the slow sender got ${sent} of ${flight.length} bytes out before the cut`);
    t.error(e);
    t.figure(`slowSenderBytesBeforeCut/${target.transport}`, sent);
  } finally {
    await running.close();
  }
  return t;
}
