/**
 * The conformance suite over real loopback TCP, through the public API (`createServer`,
 * `connect`), for any suite: the seed 001 scenario (100 round trips of 1 KiB compared byte for
 * byte), bulk echo, backpressure with `drain`, half-close, truncation, a wrong pinned key, bad
 * clients that must not disturb good ones, the handshake deadline, and `close()` with live
 * sessions. Servers listen on 127.0.0.1 port 0 and every test stops what it starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, SealwireError, type SealwireServer, type SecureSession } from '../../src/index.js';
import type { SuiteName } from '../../src/session/handshake.js';
import { fixtureFor, type SuiteFixture } from '../helpers/fixtures.js';
import { collect, readExactly, withTimeout } from '../helpers/streams.js';

export interface TcpConformanceOptions {
  /** Extra server options for every server of the run (e.g. `openServerForTestingOnly`). */
  server?: Partial<Parameters<typeof createServer>[0]>;
}

export function describeTcpConformance(name: SuiteName, options: TcpConformanceOptions = {}): void {
  describe(`suite '${name}': conformance over loopback TCP`, () => {
    let fx: SuiteFixture;
    const servers: SealwireServer[] = [];
    beforeAll(async () => {
      fx = await fixtureFor(name);
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
      fx?.close();
    });

    const start = async (
      onSession: (s: SecureSession) => void,
      extra: Partial<Parameters<typeof createServer>[0]> = {},
    ): Promise<{ server: SealwireServer; port: number }> => {
      const server = createServer({ key: fx.serverKey, suite: name, anyClient: true, ...options.server, ...extra }, onSession);
      servers.push(server);
      const { port } = await server.listen(0, '127.0.0.1');
      return { server, port };
    };
    const dial = (port: number, extra: Partial<Parameters<typeof connect>[0]> = {}): Promise<SecureSession> =>
      connect({ port, host: '127.0.0.1', suite: name, serverKey: fx.serverKey.publicKey, key: fx.clientKey ?? undefined, ...extra });
    const echo = (s: SecureSession): void => {
      s.pipe(s);
    };

    it('runs the seed 001 scenario: 100 round trips of 1 KiB, compared byte for byte', async () => {
      const { port } = await start(echo);
      const session = await dial(port);
      expect(session.suite).toBe(name);
      expect(session.peerPublicKey?.equals(fx.serverKey.publicKey)).toBe(true);
      const check = randomBytes(1024);
      let buffer: Buffer = Buffer.from(check);
      for (let i = 0; i < 100; i++) {
        session.write(buffer);
        buffer = await readExactly(session, 1024);
      }
      expect(buffer.equals(check)).toBe(true);
      const closed = once(session, 'close');
      session.end();
      session.resume();
      await closed;
    });

    it('echoes 1 MiB in one direction while the server streams it back', async () => {
      const { port } = await start(echo);
      const session = await dial(port);
      const data = randomBytes(1024 * 1024);
      const got = collect(session);
      session.end(data);
      expect((await got).equals(data)).toBe(true);
    });

    it('forwards drain: writes past the high-water mark all arrive, with bounded buffering', async () => {
      let serverSide: SecureSession | undefined;
      const { port } = await start((s) => {
        serverSide = s;
        s.pause(); // a peer that stops reading
      });
      const session = await dial(port);
      // In suites where the client finishes first, the server's session comes a moment later.
      await until(() => serverSide !== undefined);
      // Small writes, each well below the 16 KiB high-water mark: write() must keep accepting them
      // while the connection has room, then report backpressure once the stalled peer's buffers
      // and the kernel's are full, and stay bounded.
      const chunk = randomBytes(4 * 1024);
      let writes = 0;
      while (session.write(chunk)) {
        writes++;
        expect(writes).toBeLessThan(1_000_000);
      }
      writes++;
      expect(writes).toBeGreaterThan(16); // more than the high-water mark passed before backpressure
      expect(session.writableLength).toBeLessThanOrEqual(session.writableHighWaterMark + chunk.length);
      const received = collect(serverSide!);
      serverSide!.resume();
      await withTimeout(once(session, 'drain'), 10_000, 'drain never came');
      // After drain the stream flows again.
      const more = randomBytes(256 * 1024);
      session.end(more);
      const all = await received;
      expect(all.length).toBe(writes * chunk.length + more.length);
      expect(all.subarray(all.length - more.length).equals(more)).toBe(true);
    });

    it('half-closes: the client ends, the server still answers, then ends', async () => {
      const { port } = await start((s) => {
        const got = collect(s);
        void got.then((data) => {
          s.write(Buffer.concat([Buffer.from('got '), Buffer.from(String(data.length))]));
          s.end();
        });
      });
      const session = await dial(port);
      const answer = collect(session);
      session.end(randomBytes(10_000));
      expect((await answer).toString()).toBe('got 10000');
    });

    it('reports a connection cut without a close record as TRUNCATED', async () => {
      const { port } = await start((s) => {
        s.write('partial answer');
        // Cut the transport under the session, as an attacker dropping the rest would.
        setTimeout(() => (s as unknown as { socket: net.Socket }).socket.destroy(), 20);
      });
      const session = await dial(port);
      const err = await withTimeout(once(session, 'error'), 5_000, 'no error');
      expect(err[0]).toBeInstanceOf(SealwireError);
      expect((err[0] as SealwireError).code).toBe('TRUNCATED');
    });

    it('fails before any data flows when the client pins another server key', async () => {
      const received: Buffer[] = [];
      const errors: SealwireError[] = [];
      const { server, port } = await start((s) => s.on('data', (d: Buffer) => received.push(d)));
      server.on('handshakeError', (e: SealwireError) => errors.push(e));
      await expect(dial(port, { serverKey: fx.otherServerKey.publicKey })).rejects.toBeInstanceOf(SealwireError);
      expect(received).toEqual([]);
      await withTimeout(until(() => errors.length > 0), 5_000, 'server saw no handshake error');
    });

    it('serves 50 concurrent clients on one server', async () => {
      const { port } = await start(echo);
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const session = await dial(port);
          const data = randomBytes(4096 + i);
          const got = collect(session);
          session.end(data);
          return (await got).equals(data);
        }),
      );
      expect(results.every(Boolean)).toBe(true);
    });

    it('keeps serving good clients through garbage, silent and oversize connections', async () => {
      const handshakeErrors: SealwireError[] = [];
      const { server, port } = await start(echo, { handshakeTimeout: 300 });
      server.on('handshakeError', (e: SealwireError) => handshakeErrors.push(e));
      const bad: net.Socket[] = [];
      for (let i = 0; i < 30; i++) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => {});
        if (i % 3 === 0) s.write(randomBytes(200));
        if (i % 3 === 1) s.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
        // i % 3 === 2: connects and says nothing
        bad.push(s);
      }
      const session = await dial(port);
      const got = collect(session);
      session.end('still here');
      expect((await got).toString()).toBe('still here');
      // The silent ones are dropped by the handshake deadline.
      await withTimeout(until(() => handshakeErrors.filter((e) => e.code === 'TIMEOUT').length >= 10), 5_000, 'silent clients not timed out');
      for (const e of handshakeErrors) expect(e).toBeInstanceOf(SealwireError);
      for (const s of bad) s.destroy();
    });

    it('ends live sessions with their close record when the server closes', async () => {
      let serverSessions = 0;
      const { server, port } = await start(() => serverSessions++);
      const session = await dial(port);
      const ended = once(session, 'end');
      session.resume();
      await until(() => server.connections === 1 && serverSessions === 1);
      await server.close();
      await withTimeout(ended, 5_000, 'client saw no clean end');
      session.end();
    });
  });
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}
