/**
 * Faults: peers that vanish mid-handshake and mid-record, half-closes without a close record,
 * connection resets and socket errors, a peer that stops reading (backpressure must bound what the
 * writer buffers), and a server closed under live sessions. Each scenario takes a target, checks
 * its own outcome with `node:assert` (so the soak can run it too) and returns what it counted.
 *
 * The rule every scenario checks: every failure is a `SealwireError` with a known code, the
 * server forgets the connection (`connections` back to zero), and nothing hangs.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { Readable, pipeline } from 'node:stream';
import { connect, ErrorCodes, SealwireError, type SecureSession } from '../../../src/index.js';
import { bounded, firstFlight, rawClient, rawSocket, startServer, Tally, tcpHandles, until, type Target } from './targets.js';

const BOUND = 15_000;

function assertSealwire(e: unknown, where: string): asserts e is SealwireError {
  assert.ok(e instanceof SealwireError, `${where}: expected a SealwireError, got ${String(e)}`);
  assert.ok(ErrorCodes.includes(e.code), `${where}: unknown code ${e.code}`);
}

/**
 * The client vanishes after part of its first flight, or after all of it (server awaiting more).
 * A suite whose server is done after the client's first flight (secsess: KeyExchange → Confirm)
 * establishes a session on the whole flight; that session must then end with a clean error or
 * close. A strict prefix of the flight never establishes anything.
 */
async function vanishMidHandshake(target: Target): Promise<Tally> {
  const t = new Tally();
  let partial = true;
  let established = 0;
  let ended = 0;
  const running = await startServer(target, (session) => {
    assert.ok(!partial, 'no session may be established from part of a flight');
    established++;
    session.on('error', (e: unknown) => {
      assertSealwire(e, 'session after a vanished client');
      t.error(e);
    });
    session.on('close', () => ended++);
    session.resume();
  });
  try {
    const flight = firstFlight(running.fx);
    for (const cut of [1, 4, 5, Math.floor(flight.length / 2), flight.length]) {
      for (const how of ['destroy', 'end'] as const) {
        partial = cut < flight.length;
        const s = await rawSocket(target, running);
        s.write(flight.subarray(0, cut));
        if (how === 'end') s.end();
        else setImmediate(() => s.destroy());
        const before = running.handshakeErrors.length;
        const sessionsBefore = established;
        await until(
          () => running.handshakeErrors.length > before || (established > sessionsBefore && ended >= established),
          BOUND,
          `server error after a client vanished at byte ${cut} (${how})`,
        );
        s.destroy();
      }
    }
    for (const e of running.handshakeErrors) {
      assertSealwire(e, 'vanish mid-handshake');
      t.error(e);
    }
    await until(() => running.server.connections === 0, BOUND, 'server to forget vanished clients');
  } finally {
    await running.close();
  }
  return t;
}

/** The server vanishes after the client's first flight: connect() rejects with a SealwireError. */
async function serverVanishesMidHandshake(target: Target): Promise<Tally> {
  const t = new Tally();
  const running = await startServer(target, () => {});
  try {
    for (const how of ['destroy', 'end', 'garbage'] as const) {
      const attempt =
        target.transport === 'tcp'
          ? new Promise<SecureSession>((resolve, reject) => {
              const fake = net.createServer((sock) => {
                sock.once('data', () => {
                  if (how === 'destroy') sock.destroy();
                  else if (how === 'end') sock.end();
                  else sock.end(randomBytes(300));
                });
                sock.on('error', () => {});
              });
              fake.listen(0, '127.0.0.1', () => {
                const port = (fake.address() as net.AddressInfo).port;
                running
                  .dial({ port, serverKey: running.fx.serverKey.publicKey })
                  .then(resolve, reject)
                  .finally(() => fake.close());
              });
            })
          : (async () => {
              const { memoryPair } = await import('../../../src/index.js');
              const [a, b] = memoryPair();
              b.on('error', () => {});
              b.once('data', () => {
                if (how === 'destroy') b.destroy();
                else if (how === 'end') b.end();
                else b.end(randomBytes(300));
              });
              return connect({ socket: a, suite: target.suite, serverKey: running.fx.serverKey.publicKey, key: running.fx.clientKey ?? undefined });
            })();
      const err = await bounded(attempt.then(() => null, (e: unknown) => e), BOUND, `connect to a vanishing server (${how})`);
      assertSealwire(err, `server vanished (${how})`);
      t.error(err);
    }
  } finally {
    await running.close();
  }
  return t;
}

/**
 * After the handshake the client sends whole records and then part of one, and vanishes (FIN or
 * reset). The server delivers exactly the whole records and reports TRUNCATED or IO.
 */
async function vanishMidRecord(target: Target): Promise<Tally> {
  const t = new Tally();
  const got: Buffer[] = [];
  const running = await startServer(target, (s) => s.on('data', (d: Buffer) => got.push(d)));
  try {
    for (const how of ['end', 'destroy', 'reset'] as const) {
      got.length = 0;
      const c = await rawClient(target, await rawSocket(target, running), running.fx);
      const whole = randomBytes(3000);
      const before = running.sessionErrors.length;
      c.socket.write(c.seal(whole));
      const record = c.seal(randomBytes(2000));
      c.socket.write(record.subarray(0, record.length - 7));
      await until(() => Buffer.concat(got).length >= whole.length, BOUND, 'whole records to arrive');
      if (how === 'end') c.socket.end();
      else if (how === 'reset' && c.socket instanceof net.Socket) c.socket.resetAndDestroy();
      else c.socket.destroy();
      await until(() => running.sessionErrors.length > before, BOUND, `server error after a peer vanished mid-record (${how})`);
      const e = running.sessionErrors[before];
      assertSealwire(e, 'vanish mid-record');
      assert.ok(['TRUNCATED', 'IO'].includes(e.code), `mid-record (${how}): got ${e.code}`);
      assert.ok(Buffer.concat(got).equals(whole), 'the server delivered exactly the whole records');
      t.error(e);
      t.sessions++;
      t.bytes += whole.length;
    }
    await until(() => running.server.connections === 0, BOUND, 'server to forget vanished sessions');
  } finally {
    await running.close();
  }
  return t;
}

/**
 * Half-close: a client that sends its close record and then FIN still gets the server's answer
 * (the server writes after the client's end); one that sends FIN without a close record is
 * TRUNCATED, and the server's reply is not cut by it.
 */
async function halfClose(target: Target): Promise<Tally> {
  const t = new Tally();
  const running = await startServer(target, (s) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => s.end(createHash('sha256').update(Buffer.concat(chunks)).digest()));
    s.on('error', () => {});
  });
  try {
    const c = await rawClient(target, await rawSocket(target, running), running.fx);
    const data = randomBytes(50_000);
    c.core.send(data);
    c.core.end();
    for (const chunk of c.core.takeOutput()) c.socket.write(chunk);
    c.socket.end(); // FIN after the close record: our direction is done, theirs is still open
    await until(() => c.core.receiveClosed || c.errors.length > 0, BOUND, 'the answer after our half-close');
    assert.deepEqual(c.errors, []);
    assert.ok(Buffer.concat(c.received).equals(createHash('sha256').update(data).digest()), 'answer after half-close');
    t.sessions++;
    t.bytes += data.length;

    const d = await rawClient(target, await rawSocket(target, running), running.fx);
    const before = running.sessionErrors.length;
    d.socket.write(d.seal(randomBytes(100)));
    d.socket.end(); // FIN with no close record
    await until(() => running.sessionErrors.length > before, BOUND, 'TRUNCATED after FIN without a close record');
    assert.equal(running.sessionErrors[before]!.code, 'TRUNCATED');
    t.error(running.sessionErrors[before]);
    t.sessions++;
  } finally {
    await running.close();
  }
  return t;
}

/** A socket error under an established client session: the session ends with IO, nothing else. */
async function socketErrors(target: Target): Promise<Tally> {
  const t = new Tally();
  const running = await startServer(target, (s) => s.pipe(s));
  try {
    for (const injected of ['error', 'reset'] as const) {
      let socket: net.Socket | import('node:stream').Duplex;
      if (target.transport === 'tcp') {
        socket = net.connect(running.port, '127.0.0.1');
      } else {
        const { memoryPair } = await import('../../../src/index.js');
        const [a, b] = memoryPair();
        running.server.handleConnection(b);
        socket = a;
      }
      const session = await running.dial({ socket });
      session.write(randomBytes(1000));
      const failed = once(session, 'error');
      if (injected === 'reset' && socket instanceof net.Socket) socket.resetAndDestroy();
      else socket.destroy(Object.assign(new Error('injected failure'), { code: 'EINJECTED' }));
      const [e] = await bounded(failed, BOUND, 'client session error after a socket error');
      assertSealwire(e, `socket ${injected}`);
      t.error(e);
      t.sessions++;
    }
    await until(() => running.server.connections === 0, BOUND, 'server to forget reset sessions');
    for (const e of running.sessionErrors) assertSealwire(e, 'server side of a socket error');
  } finally {
    await running.close();
  }
  return t;
}

/**
 * A peer that stops reading. The writer is a well-behaved pipeline from an endless source: it
 * must be stopped by backpressure (write() returns false) with a bounded amount pulled from the
 * source and buffered in the session; once the peer reads again, everything arrives in order.
 */
export async function stopsReading(target: Target, options: { pulledBound?: number } = {}): Promise<Tally> {
  const t = new Tally();
  let serverSide: SecureSession | undefined;
  const running = await startServer(target, (s) => {
    serverSide = s;
    s.pause();
  });
  try {
    const session = await running.dial();
    await until(() => serverSide !== undefined, BOUND, 'server session');
    const chunk = 16 * 1024;
    let pulled = 0;
    let sawFalse = false;
    const origWrite = session.write.bind(session);
    session.write = ((...args: Parameters<typeof origWrite>) => {
      const ok = origWrite(...args);
      if (!ok) sawFalse = true;
      return ok;
    }) as typeof session.write;
    let seq = 0;
    const source = new Readable({
      read() {
        // Asynchronous, as a file or socket source is: over the in-memory pair a synchronous
        // source and a reader that keeps up would otherwise never yield to the event loop.
        setImmediate(() => {
          const b = Buffer.alloc(chunk, seq++ & 0xff);
          pulled += b.length;
          this.push(b);
        });
      },
    });
    pipeline(source, session, () => {});
    // Wait until the writer is stalled: nothing more pulled for a while.
    let last = -1;
    for (let i = 0; i < 50 && pulled !== last; i++) {
      last = pulled;
      await new Promise((r) => setTimeout(r, 100));
    }
    const bound = options.pulledBound ?? 32 * 1024 * 1024;
    assert.ok(sawFalse, 'write() returned false');
    assert.ok(pulled <= bound, `pulled ${pulled} bytes from the source while the peer did not read (bound ${bound})`);
    assert.ok(session.writableLength <= 2 * 64 * 1024, `session buffers ${session.writableLength} bytes`);
    t.figure(`stalledWriterPulledBytes/${target.transport}`, pulled);
    t.figure(`stalledWriterBufferedBytes/${target.transport}`, session.writableLength);
    t.figure(`stalledReaderBufferedBytes/${target.transport}`, serverSide!.readableLength);
    assert.ok(serverSide!.readableLength <= 256 * 1024, `reader side buffers ${serverSide!.readableLength} bytes`);
    // The peer reads again: everything flows, in order, until we stop the source.
    let received = 0;
    let bad = false;
    serverSide!.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length; i += 997) if (d[i] !== (Math.floor((received + i) / chunk) & 0xff)) bad = true;
      received += d.length;
    });
    serverSide!.resume();
    const target2 = pulled + 4 * 1024 * 1024;
    await until(() => received >= target2, 60_000, 'data to flow again after the reader resumed');
    assert.ok(!bad, 'data arrived in order after backpressure');
    source.destroy();
    session.destroy();
    t.sessions++;
    t.bytes += received;
  } finally {
    await running.close();
  }
  return t;
}

/**
 * Server close() with live sessions in every state: mid-handshake, idle, streaming to us, and
 * blocked writing to a client that stopped reading. Every client session ends cleanly ('end'
 * from the server's close record) or with a SealwireError; close() resolves; TCP handles go back
 * to what they were before.
 */
async function closeWithLiveSessions(target: Target): Promise<Tally> {
  const t = new Tally();
  const baseline = tcpHandles();
  const running = await startServer(
    target,
    (s) => {
      s.on('error', () => {});
      s.once('data', (d: Buffer) => {
        const what = d.toString();
        if (what === 'stream') {
          const big = Buffer.alloc(256 * 1024, 7);
          const pump = (): void => {
            while (!s.writableEnded && s.write(big));
          };
          s.on('drain', () => setImmediate(pump)); // yield, as a real producer does
          pump();
        }
      });
    },
    { lingerTimeout: 500 },
  );
  const outcomes: Promise<string>[] = [];
  const watch = (s: SecureSession): Promise<string> =>
    new Promise((resolve) => {
      let outcome = 'closed without end or error';
      s.on('end', () => {
        if (outcome.startsWith('closed')) outcome = 'end';
        s.end(); // the server's direction is closed: close ours, as an application does
      });
      s.on('error', (e: unknown) => {
        outcome = e instanceof SealwireError ? `error:${e.code}` : `non-SealwireError:${String(e)}`;
      });
      s.on('close', () => resolve(outcome));
    });
  const raws: import('node:stream').Duplex[] = [];
  try {
    const idle = await running.dial();
    idle.resume();
    outcomes.push(watch(idle));
    const reading = await running.dial();
    reading.write('stream');
    reading.resume();
    outcomes.push(watch(reading));
    const stalled = await running.dial();
    stalled.write('stream'); // ...and never reads: the server's writes back up
    outcomes.push(watch(stalled));
    const raw = await rawSocket(target, running);
    raw.write(firstFlight(running.fx).subarray(0, 3)); // mid-handshake
    raws.push(raw);
    await until(() => running.server.connections === 4, BOUND, 'four connections');
    await bounded(running.server.close(), BOUND, 'server.close() with live sessions (one blocked on backpressure)');
    // A client that stopped reading sees the end only when it reads again.
    stalled.resume();
    const results = await bounded(Promise.all(outcomes), BOUND, 'every client session to end');
    for (const r of results) {
      assert.ok(r === 'end' || r.startsWith('error:'), `a session ended with: ${r}`);
      if (r !== 'end') t.error(new SealwireError(r.slice('error:'.length) as SealwireError['code'], r));
    }
    for (const s of [idle, reading, stalled]) if (!s.writableEnded) s.destroy();
    for (const r of raws) r.destroy();
    t.sessions += 3;
    await until(() => tcpHandles() <= baseline, BOUND, `TCP handles back to ${baseline} (now ${tcpHandles()})`);
  } finally {
    for (const r of raws) r.destroy();
    await running.close();
  }
  return t;
}

export const FAULTS: Record<string, (target: Target) => Promise<Tally>> = {
  'the client vanishes mid-handshake (FIN or reset at several byte offsets)': vanishMidHandshake,
  'the server vanishes or answers garbage mid-handshake': serverVanishesMidHandshake,
  'the client vanishes mid-record (FIN, destroy, reset)': vanishMidRecord,
  'half-close with and without the close record': halfClose,
  'socket errors and resets under an established session': socketErrors,
  'a peer that stops reading: backpressure bounds the writer': (t) => stopsReading(t),
  'server close() with sessions mid-handshake, idle, streaming and blocked': closeWithLiveSessions,
};
