/**
 * Memory per idle session: a fresh server process opens its server, is warmed up with 32 sessions
 * that stay open, is sampled after a full GC, then takes `memorySessions` (TCP) or
 * `udpMemorySessions` (UDP: 10,000 in a full run, the target's scale) more idle sessions and is
 * sampled again. The figure is the RSS difference divided by the number of sessions (KiB per
 * session); the JS heap plus external (Buffer) part of it is in the JSON as `heapKiB`. RSS, because
 * node:tls keeps most of its per-connection state in OpenSSL's native memory, which the JS heap
 * figures do not see; a fresh process per measurement, because RSS rarely shrinks and would
 * otherwise make whichever implementation runs second look free.
 */
import { connectTcp, connectUdp } from '../clients.js';
import { asError, sleep, type Figure, type FigureContext, type Outcome } from '../figure.js';
import type { Host } from '../host.js';
import { median, summarize } from '../stats.js';
import { availableSuites, getSuite } from '../../suites/index.js';

const WARM = 32;
const PARALLEL = 32;
const SETTLE_TIMEOUT_MS = 60_000;
/** Time to open the sessions of one measurement: about 4 runs' worth, at least 5 s. */
const OPEN_BUDGET_MS = (ctx: FigureContext): number => Math.max(5000, ctx.options.runMs * ctx.options.runs * 4);
/** Fewer sessions than this give no usable per-session figure. */
const MIN_SESSIONS = 50;
/** docs/DESIGN.md §8: 10,000 idle UDP sessions on one server in at most 80 MiB (8 KiB each). */
const UDP_TARGET_SESSIONS = 10_000;

type Transport = 'tcp' | 'udp';

interface Closeable {
  close(): unknown;
}

/** Opens up to `n` sessions, 32 at a time, until `deadline`; returns how many opened. */
async function openMany(open: () => Promise<Closeable>, n: number, into: Closeable[], deadline = Infinity): Promise<number> {
  let next = 0;
  let opened = 0;
  const worker = async (): Promise<void> => {
    while (next < n && performance.now() < deadline) {
      next++;
      into.push(await open());
      opened++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, n) }, worker));
  return opened;
}

async function waitForLive(host: Host, id: number, n: number): Promise<void> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const c = await host.counters(id);
    if (c.live >= n) return;
    if (performance.now() > deadline) throw new Error(`only ${c.live} of ${n} sessions established on the server`);
    await sleep(10);
  }
}

/**
 * One measurement in a fresh host: bytes of RSS and of heap + external per idle session, over the
 * sessions opened within the time budget (a suite whose server makes an RSA key per session opens
 * a few per second: it is measured over fewer sessions, and says so).
 */
async function measureOnce(ctx: FigureContext, transport: Transport, impl: string): Promise<{ rss: number; heap: number; sessions: number }> {
  const wanted = transport === 'udp' ? ctx.options.udpMemorySessions : ctx.options.memorySessions;
  const host = ctx.options.inProcess ? ctx.host : ctx.newHost();
  const clients: Closeable[] = [];
  let serverId: number | undefined;
  try {
    const started = transport === 'tcp' ? await host.startTcp(impl, 'accept', ctx.material.forServer(impl)) : await host.startUdp(impl, ctx.material.forServer(impl));
    serverId = started.id;
    const open = async (): Promise<Closeable> => {
      if (transport === 'udp') return connectUdp(impl, started.port, ctx.material);
      const s = await connectTcp(impl, started.port, ctx.material);
      s.on('error', () => {});
      return { close: () => s.destroy() };
    };
    await openMany(open, WARM, clients);
    await waitForLive(host, started.id, WARM);
    const before = await host.memory();
    const n = await openMany(open, wanted, clients, performance.now() + OPEN_BUDGET_MS(ctx));
    if (n < MIN_SESSIONS) throw new Error(`only ${n} sessions opened in ${OPEN_BUDGET_MS(ctx) / 1000} s: too slow to measure`);
    await waitForLive(host, started.id, WARM + n);
    const after = await host.memory();
    return { rss: (after.rss - before.rss) / n, heap: (after.heapUsed + after.external - before.heapUsed - before.external) / n, sessions: n };
  } finally {
    for (const c of clients) {
      try {
        await c.close();
      } catch {
        // already gone
      }
    }
    if (serverId !== undefined) await host.stop(serverId).catch(() => {});
    if (host !== ctx.host) await host.close();
  }
}

/**
 * Why a suite cannot be measured here: one whose server makes a key per session (cbcmac: a fresh
 * RSA key, a few per second) cannot open the sessions this figure needs before they time out.
 */
function keyPerSession(impl: string): string | null {
  if (!(availableSuites() as string[]).includes(impl) || !getSuite(impl).prepareSession) return null;
  return 'its server makes a fresh RSA key per session (a few per second): too slow to open enough idle sessions to measure';
}

function memoryFigure(transport: Transport): Figure {
  const isUdp = transport === 'udp';
  return {
    id: `${transport}-memory`,
    title: `${transport.toUpperCase()} memory per idle session (server process)`,
    unit: 'KiB/session',
    better: 'lower',
    baseline: isUdp ? '' : 'tls',
    description: isUdp
      ? 'RSS growth of the server process per idle UDP session (one socket serves all). Plain dgram keeps no per-peer state, so it has no row; the target is 10,000 sessions in at most 80 MiB, i.e. at most 8 KiB per session.'
      : 'RSS growth of the server process per idle, established TCP session (socket, handshake leftovers, record state, stream buffers).',
    // docs/DESIGN.md §8: UDP ≤ 8 KiB per idle session; TCP ≤ 0.5× node:tls.
    targets: isUdp
      ? { box: { kind: 'absolute', op: '<=', value: 8, text: '≤ 8 KiB (10,000 in 80 MiB)' } }
      : { box: { kind: 'ratio', op: '<=', value: 0.5, text: '≤ 0.5× node:tls' } },
    steps: (ctx: FigureContext) => (isUdp ? ctx.udpImpls.length : ctx.tcpImpls.length) * ctx.options.memoryRuns,
    async run(ctx) {
      const impls: { impl: string; unavailable: string | null }[] = isUdp ? [...ctx.udpImpls] : ctx.tcpImpls.map((impl) => ({ impl, unavailable: null }));
      const out: Outcome[] = [];
      for (const { impl, unavailable } of impls) {
        if (isUdp && impl === 'dgram') {
          for (let r = 0; r < ctx.options.memoryRuns; r++) ctx.step(`${transport}-memory ${impl}`);
          out.push({ impl, status: 'n/a', note: 'no per-peer state: one socket serves every peer' });
          continue;
        }
        const why = unavailable ?? keyPerSession(impl);
        if (why) {
          for (let r = 0; r < ctx.options.memoryRuns; r++) ctx.step(`${transport}-memory ${impl}`);
          out.push({ impl, status: 'n/a', note: why });
          continue;
        }
        const rss: number[] = [];
        const heap: number[] = [];
        const counts: number[] = [];
        let failure: Error | null = null;
        for (let r = 0; r < ctx.options.memoryRuns; r++) {
          if (!failure) {
            try {
              const m = await measureOnce(ctx, transport, impl);
              rss.push(m.rss / 1024);
              heap.push(m.heap / 1024);
              counts.push(m.sessions);
            } catch (e) {
              failure = asError(e);
            }
          }
          ctx.step(`${transport}-memory ${impl}`);
        }
        if (failure) out.push({ impl, status: 'failed', note: failure.message });
        else {
          const sessions = Math.min(...counts);
          const wanted = isUdp ? ctx.options.udpMemorySessions : ctx.options.memorySessions;
          const fewer = sessions < wanted ? `${sessions.toLocaleString('en-US')} of ${wanted.toLocaleString('en-US')} sessions opened in the time budget` : undefined;
          // Per-session RSS includes the process's fixed growth spread over the sessions: the UDP
          // target is stated for 10,000 sessions and judged only at that scale.
          const skip = isUdp && sessions < UDP_TARGET_SESSIONS ? `target judged at ${UDP_TARGET_SESSIONS.toLocaleString('en-US')} sessions; this run measured ${sessions.toLocaleString('en-US')}` : undefined;
          out.push({ impl, status: 'ok', summary: summarize(rss), extra: { heapKiB: median(heap), sessions }, ...(fewer ? { note: fewer } : {}), ...(skip ? { targetSkipped: skip } : {}) });
        }
      }
      return out;
    },
  };
}

export const tcpMemory = memoryFigure('tcp');
export const udpMemory = memoryFigure('udp');
