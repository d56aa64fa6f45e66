/**
 * Handshakes per second: connect, complete the handshake (the client has verified the server and
 * can send), close. Once strictly one after another (latency: round trips plus both sides' CPU),
 * and with 32 in flight (throughput: CPU per handshake, both processes busy). The client closes
 * with `destroy()` right after the handshake; the server completes its side and reads nothing.
 */
import { connectTcp } from '../clients.js';
import type { Host } from '../host.js';
import { interleaved, now, outcomes, type Figure, type FigureContext } from '../figure.js';

const WARMUP = 16;
/** Warm-up stops early after this long (a suite bound by key generation, cbcmac, is slow to warm). */
const WARMUP_MS = 1_000;
/**
 * How long after the run's end the loop still waits for handshakes in flight. A suite whose server
 * makes a key per session (cbcmac) can have 32 handshakes queued behind key generation; waiting
 * for all of them would make one run last many seconds. Those still pending count as not done.
 */
const GRACE_MS = 1_000;

/** Runs `parallel` workers, each connecting and closing in a loop until `ms` passes. */
export async function handshakeLoop(connect: () => Promise<{ destroy(): unknown }>, parallel: number, ms: number): Promise<number> {
  let count = 0;
  let failed = 0;
  let firstError: unknown;
  const start = now();
  const end = start + ms;
  let timer: NodeJS.Timeout | undefined;
  const cutOff = new Promise<'cut'>((resolve) => {
    timer = setTimeout(() => resolve('cut'), ms + GRACE_MS);
  });
  const worker = async (): Promise<void> => {
    while (now() < end) {
      const attempt = connect();
      try {
        const s = await Promise.race([attempt, cutOff]);
        if (s === 'cut') {
          // Abandoned: closed whenever it completes, never counted.
          attempt.then((late) => late.destroy(), () => {});
          return;
        }
        s.destroy();
        count++;
      } catch (e) {
        // A server slower than the offered load times handshakes out: they count as not done.
        failed++;
        firstError ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  clearTimeout(timer);
  if (count === 0 && failed > 0) throw firstError;
  return count / ((now() - start) / 1000);
}

async function warmUp(connect: () => Promise<{ destroy(): unknown }>): Promise<void> {
  const end = now() + WARMUP_MS;
  for (let i = 0; i < WARMUP && now() < end; i++) (await connect()).destroy();
}

function handshakeFigure(id: string, title: string, parallel: number): Figure {
  return {
    id,
    title,
    unit: 'handshakes/s',
    better: 'higher',
    baseline: 'tls',
    description:
      parallel === 1
        ? 'Full handshakes one after another on new loopback TCP connections (connect, handshake, close): bounded by round trips and by the CPU of both sides in turn.'
        : `Full handshakes with ${parallel} connections in flight at all times: bounded by the CPU each handshake costs the client and server processes.`,
    // docs/DESIGN.md §8: ≥ 2× node:tls one at a time, ≥ 3× with 32 in flight.
    targets: { box: parallel === 1 ? { kind: 'ratio', op: '>=', value: 2, text: '≥ 2× node:tls' } : { kind: 'ratio', op: '>=', value: 3, text: '≥ 3× node:tls' } },
    steps: (ctx: FigureContext) => ctx.tcpImpls.length * ctx.options.runs,
    async run(ctx) {
      const results = await interleaved<{ host: Host; serverId: number; port: number }>(ctx, id, ctx.tcpImpls, {
        async setup(impl, host) {
          const { id: serverId, port } = await host.startTcp(impl, 'accept', ctx.material.forServer(impl));
          await warmUp(() => connectTcp(impl, port, ctx.material));
          return { host, serverId, port };
        },
        measure: (h, impl) => handshakeLoop(() => connectTcp(impl, h.port, ctx.material), parallel, ctx.options.runMs),
        teardown: (h) => h.host.stop(h.serverId),
      });
      return outcomes(results);
    },
  };
}

export const tcpHandshakesSequential = handshakeFigure('tcp-handshakes-seq', 'TCP handshakes, one at a time', 1);
export const tcpHandshakesParallel = handshakeFigure('tcp-handshakes-32', 'TCP handshakes, 32 in flight', 32);
