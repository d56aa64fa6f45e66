/**
 * UDP messages per second: one client sends 1 KiB messages (one datagram each) as fast as it can
 * for `runMs`, yielding to the event loop every 32 messages; the server counts what arrives. The
 * figure is messages *received* per second of sending, so a receiver that cannot keep up, and
 * loses datagrams in the kernel, scores what it actually processed. Plain `dgram` is the baseline.
 */
import { randomBytes } from 'node:crypto';
import { connectUdp, type UdpClient } from '../clients.js';
import type { Host } from '../host.js';
import { immediate, interleaved, now, outcomes, sleep, type Figure, type FigureContext, type Outcome } from '../figure.js';

const MESSAGE = randomBytes(1024);
const BATCH = 32;
const WARMUP_MESSAGES = 512;
/** Time for datagrams still queued at the receiver to be counted after the sender stops. */
const DRAIN_MS = 30;

interface Handle {
  readonly host: Host;
  readonly serverId: number;
  readonly client: UdpClient;
}

async function blast(ctx: FigureContext, h: Handle): Promise<number> {
  const before = (await h.host.counters(h.serverId)).messages;
  const start = now();
  const end = start + ctx.options.runMs;
  while (now() < end) {
    await h.client.sendBatch(MESSAGE, BATCH);
    await immediate();
  }
  const secs = (now() - start) / 1000;
  await sleep(DRAIN_MS);
  const after = (await h.host.counters(h.serverId)).messages;
  return (after - before) / secs;
}

export const udpMessages: Figure = {
  id: 'udp-messages',
  title: 'UDP messages, 1 KiB, one client',
  unit: 'messages/s',
  better: 'higher',
  baseline: 'dgram',
  description:
    'Messages received by the server per second while one client sends 1 KiB messages as fast as it can. Datagrams the receiver could not take in time are lost and not counted.',
  targets: { box: { kind: 'ratio', op: '>=', value: 0.7, text: '≥ 0.7× node:dgram' }, sid: { kind: 'ratio', op: '>=', value: 0.7, text: '≥ 0.7× node:dgram' } },
  steps: (ctx: FigureContext) => ctx.udpImpls.length * ctx.options.runs,
  async run(ctx) {
    const available = ctx.udpImpls.filter((u) => u.unavailable === null).map((u) => u.impl);
    const results = await interleaved<Handle>(ctx, 'udp-messages', available, {
      async setup(impl, host) {
        const { id, port } = await host.startUdp(impl, ctx.material.forServer(impl));
        const client = await connectUdp(impl, port, ctx.material);
        for (let i = 0; i < WARMUP_MESSAGES; i += BATCH) await client.sendBatch(MESSAGE, BATCH);
        await sleep(DRAIN_MS);
        return { host, serverId: id, client };
      },
      measure: (h) => blast(ctx, h),
      async teardown(h) {
        await h.client.close();
        await h.host.stop(h.serverId);
      },
    });
    const measured = new Map(outcomes(results).map((o) => [o.impl, o]));
    const out: Outcome[] = [];
    for (const u of ctx.udpImpls) {
      if (u.unavailable !== null) {
        for (let r = 0; r < ctx.options.runs; r++) ctx.step(`udp-messages ${u.impl}`);
        out.push({ impl: u.impl, status: 'n/a', note: u.unavailable });
        continue;
      }
      out.push(measured.get(u.impl)!);
    }
    return out;
  },
};
