/**
 * Bulk throughput: one TCP connection, the client writes 64 KiB chunks as fast as the stream takes
 * them (waiting for `drain` when `write` returns false), the server counts the bytes and answers
 * one byte per MiB. A run ends when the last MiB is acknowledged, so it times delivery, not
 * buffering. The amount per run is calibrated once per implementation to last about `runMs`.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { connectTcp } from '../clients.js';
import type { Host } from '../host.js';
import { interleaved, now, outcomes, type Figure, type FigureContext } from '../figure.js';

const CHUNK = 64 * 1024;
const MIB = 1 << 20;
const CHUNKS_PER_MIB = MIB / CHUNK;
const CALIBRATION_MIB = 16;

interface Handle {
  readonly host: Host;
  readonly serverId: number;
  readonly stream: Duplex;
  readonly acks: AckCounter;
  mibPerRun: number;
}

/** Counts the server's one-byte acknowledgements. */
class AckCounter {
  private count = 0;
  private waiter: { target: number; resolve: () => void } | null = null;
  private failure: Error | null = null;

  constructor(stream: Duplex) {
    stream.on('data', (c: Buffer) => {
      this.count += c.length;
      if (this.waiter && this.count >= this.waiter.target) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve();
      }
    });
    const fail = (e?: Error): void => {
      this.failure = e ?? new Error('the connection closed during the run');
      this.waiter = null;
    };
    stream.on('error', fail);
    stream.on('close', () => fail());
  }

  get received(): number {
    return this.count;
  }

  /** Resolves once `target` acknowledgements have arrived in total. */
  until(target: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.count >= target) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { target, resolve }));
  }
}

const payload = randomBytes(CHUNK);

/** Sends `mib` MiB and returns the seconds until the server acknowledged the last of it. */
async function transfer(h: Handle, mib: number): Promise<number> {
  const target = h.acks.received + mib;
  const start = now();
  const chunks = mib * CHUNKS_PER_MIB;
  for (let i = 0; i < chunks; i++) {
    if (!h.stream.write(payload)) await once(h.stream, 'drain');
  }
  await h.acks.until(target);
  return (now() - start) / 1000;
}

export const tcpBulk: Figure = {
  id: 'tcp-bulk',
  title: 'TCP bulk throughput, one connection, 64 KiB writes',
  unit: 'MB/s',
  better: 'higher',
  baseline: 'tls',
  description:
    'Client-to-server throughput over one loopback TCP connection: 64 KiB writes with backpressure, timed until the server has acknowledged the last MiB. MB = 10^6 bytes of application data.',
  targets: { box: { kind: 'ratio', op: '>=', value: 1, text: '≥ 1.0× node:tls' } },
  steps: (ctx: FigureContext) => ctx.tcpImpls.length * ctx.options.runs,
  async run(ctx) {
    const results = await interleaved<Handle>(ctx, 'tcp-bulk', ctx.tcpImpls, {
      async setup(impl, host) {
        const { id, port } = await host.startTcp(impl, 'sink', ctx.material.forServer(impl), MIB);
        const stream = await connectTcp(impl, port, ctx.material);
        const h: Handle = { host, serverId: id, stream, acks: new AckCounter(stream), mibPerRun: 0 };
        const secs = await transfer(h, CALIBRATION_MIB);
        const mibPerSec = CALIBRATION_MIB / secs;
        h.mibPerRun = Math.max(4, Math.round((mibPerSec * ctx.options.runMs) / 1000));
        return h;
      },
      async measure(h) {
        const secs = await transfer(h, h.mibPerRun);
        return (h.mibPerRun * MIB) / 1e6 / secs;
      },
      async teardown(h) {
        h.stream.destroy();
        await h.host.stop(h.serverId);
      },
    });
    return outcomes(results);
  },
};
