/**
 * Runs the benchmark: makes the keys and the certificate, starts the server host, measures each
 * selected figure, and returns the report. The progress bar goes to stderr, only on a terminal.
 */
import os from 'node:os';
import { createServer } from '../index.js';
import { availableSuites } from '../suites/index.js';
import { Material } from './clients.js';
import { isSealwireImpl, sealwireImpl } from './protocol.js';
import { newHost, type Host } from './host.js';
import type { BenchOptions, Figure, FigureContext } from './figure.js';
import { figureReport, type BenchReport, type FigureReport, type MachineInfo } from './report.js';
import { tcpBulk } from './figures/tcp-bulk.js';
import { tcpRoundTrips } from './figures/tcp-rtt.js';
import { tcpHandshakesParallel, tcpHandshakesSequential } from './figures/tcp-handshakes.js';
import { udpMessages } from './figures/udp-messages.js';
import { tcpMemory, udpMemory } from './figures/memory.js';
import { rsaBound } from './figures/rsa-bound.js';
import { recordCiphers, recordCiphersSmall } from './figures/ciphers.js';
import { workersBulk, workersHandshakes } from './figures/workers.js';

/** Every figure, in the order they run and print. */
export const FIGURES: readonly Figure[] = [tcpBulk, tcpRoundTrips, tcpHandshakesSequential, tcpHandshakesParallel, udpMessages, tcpMemory, udpMemory, recordCiphers, recordCiphersSmall, rsaBound];

/** Figures that run only when `--only` names them (they start servers of their own). */
export const EXTRA_FIGURES: readonly Figure[] = [workersHandshakes, workersBulk];

/** Short names accepted by `--only`, besides the figure ids. */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  bulk: ['tcp-bulk'],
  rtt: ['tcp-rtt'],
  handshakes: ['tcp-handshakes-seq', 'tcp-handshakes-32'],
  udp: ['udp-messages'],
  memory: ['tcp-memory', 'udp-memory'],
  rsa: ['rsa-bound'],
  cipher: ['ciphers', 'ciphers-1k'],
  ciphers: ['ciphers', 'ciphers-1k'],
  workers: ['workers-handshakes', 'workers-bulk'],
};

/** The figures `--only` names (ids or aliases); throws with the list of valid names otherwise. */
export function selectFigures(names: readonly string[] | undefined): Figure[] {
  if (!names || names.length === 0) return [...FIGURES];
  const ids = new Set<string>();
  for (const n of names) {
    const all = [...FIGURES, ...EXTRA_FIGURES];
    const hit = ALIASES[n] ?? (all.some((f) => f.id === n) ? [n] : null);
    if (!hit) throw new RangeError(`unknown figure '${n}' (choose from ${[...Object.keys(ALIASES), ...all.map((f) => f.id)].join(', ')})`);
    for (const id of hit) ids.add(id);
  }
  return [...FIGURES, ...EXTRA_FIGURES].filter((f) => ids.has(f.id));
}

export const QUICK: BenchOptions = { runs: 3, runMs: 250, memorySessions: 200, udpMemorySessions: 1000, memoryRuns: 1, inProcess: false };
export const FULL: BenchOptions = { runs: 5, runMs: 1500, memorySessions: 1000, udpMemorySessions: 10_000, memoryRuns: 3, inProcess: false };

export interface RunRequest {
  readonly options: BenchOptions;
  readonly mode: BenchReport['mode'];
  readonly figures: readonly Figure[];
  /** Sealwire suites to include (default: every suite of this build). */
  readonly suites?: readonly string[];
  /** Show a progress bar on stderr (default: when stderr is a terminal). */
  readonly progress?: boolean;
  readonly version: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    openssl: process.versions.openssl ?? 'unknown',
    loadavg: os.loadavg(),
  };
}

/**
 * Why `suite` cannot run over UDP in this build, or null when it can. Creating a UDP server is
 * the test: a build without the UDP transport refuses `transport: 'udp'`.
 */
export function udpUnavailable(suite: string, material: Material): string | null {
  try {
    const server = createServer({ transport: 'udp', key: material.serverKeyPair(suite), ...sealwireImpl(suite), anyClient: true }) as unknown as { close(): unknown };
    try {
      const r = server.close();
      if (r instanceof Promise) r.catch(() => {});
    } catch {
      // never listened
    }
    return null;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/transport 'udp' is not available/.test(msg)) return 'no UDP transport in this build';
    return `does not run over UDP: ${msg}`;
  }
}

interface ProgressBar {
  tick(what: string): void;
  stop(): void;
}

async function progressBar(total: number, enabled: boolean): Promise<ProgressBar> {
  if (!enabled || total === 0) return { tick: () => {}, stop: () => {} };
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'bench {bar} {percentage}% | {value}/{total} | {step}', hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { step: 'keys and certificate' });
  return { tick: (step) => bar.increment(1, { step }), stop: () => bar.stop() };
}

/** Runs the selected figures and returns the report. */
export async function runBench(req: RunRequest): Promise<BenchReport> {
  const started = new Date();
  const t0 = performance.now();
  const machine = machineInfo();
  const all = availableSuites() as string[];
  // `--suites` may also name `box:<cipher>` (clients.ts, sealwireImpl): box with its cipher forced.
  const suites = req.suites ? req.suites.filter((s, i) => req.suites!.indexOf(s) === i && isSealwireImpl(s, all)) : all;
  const material = await Material.create(suites);
  const host = newHost(req.options.inProcess);
  const spawned: Host[] = [];
  const udpImpls = [{ impl: 'dgram', unavailable: null }, ...suites.map((s) => ({ impl: s, unavailable: udpUnavailable(s, material) }))];
  let bar: ProgressBar | null = null;
  const ctx: FigureContext = {
    options: req.options,
    host,
    newHost: () => {
      const h = newHost(req.options.inProcess);
      spawned.push(h);
      return h;
    },
    material,
    tcpImpls: ['net', 'tls', ...suites],
    udpImpls,
    step: (what) => bar?.tick(what),
  };
  const figures: FigureReport[] = [];
  try {
    bar = await progressBar(
      req.figures.reduce((n, f) => n + f.steps(ctx), 0),
      req.progress ?? process.stderr.isTTY === true,
    );
    for (const f of req.figures) {
      const outcomes = await f.run(ctx);
      if (outcomes.length > 0) figures.push(figureReport(f, outcomes));
    }
  } finally {
    bar?.stop();
    await host.close();
    for (const h of spawned) await h.close().catch(() => {});
  }
  return {
    tool: 'sealwire bench',
    version: req.version,
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    mode: req.mode,
    servers: req.options.inProcess ? 'in process' : 'child process',
    options: req.options,
    machine,
    figures,
  };
}
