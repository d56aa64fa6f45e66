/**
 * Request/response: one TCP connection, the client writes 1 KiB and waits until the server's echo
 * of all 1 KiB is back before it writes the next; round trips per second over `runMs`. This is
 * latency through both stacks (record sealing and opening, stream machinery, two event loops),
 * not bandwidth.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { connectTcp } from '../clients.js';
import type { Host } from '../host.js';
import { interleaved, now, outcomes, type Figure, type FigureContext } from '../figure.js';

const MESSAGE = randomBytes(1024);
const WARMUP_MS = 100;

interface Handle {
  readonly host: Host;
  readonly serverId: number;
  readonly stream: Duplex;
}

/** Ping-pongs 1 KiB messages for `ms` milliseconds; resolves with round trips per second. */
export function pingPong(stream: Duplex, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    let count = 0;
    const start = now();
    const end = start + ms;
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onData = (c: Buffer): void => {
      got += c.length;
      if (got < MESSAGE.length) return;
      got -= MESSAGE.length;
      count++;
      const t = now();
      if (t >= end) {
        cleanup();
        resolve(count / ((t - start) / 1000));
        return;
      }
      stream.write(MESSAGE);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const onClose = (): void => onError(new Error('the connection closed during the run'));
    stream.on('data', onData);
    stream.once('error', onError);
    stream.once('close', onClose);
    stream.write(MESSAGE);
  });
}

export const tcpRoundTrips: Figure = {
  id: 'tcp-rtt',
  title: 'TCP request/response, 1 KiB ping-pong',
  unit: 'round trips/s',
  better: 'higher',
  baseline: 'tls',
  description:
    'Sequential round trips over one loopback TCP connection: the client sends 1 KiB, the server echoes it, the client waits for all of it before sending the next.',
  targets: { box: { kind: 'ratio', op: '>=', value: 0.9, text: '≥ 0.9× node:tls' } }, // docs/DESIGN.md §8
  steps: (ctx: FigureContext) => ctx.tcpImpls.length * ctx.options.runs,
  async run(ctx) {
    const results = await interleaved<Handle>(ctx, 'tcp-rtt', ctx.tcpImpls, {
      async setup(impl, host) {
        const { id, port } = await host.startTcp(impl, 'echo', ctx.material.forServer(impl));
        const stream = await connectTcp(impl, port, ctx.material);
        await pingPong(stream, WARMUP_MS);
        return { host, serverId: id, stream };
      },
      measure: (h) => pingPong(h.stream, ctx.options.runMs),
      async teardown(h) {
        h.stream.destroy();
        await h.host.stop(h.serverId);
      },
    });
    return outcomes(results);
  },
};
