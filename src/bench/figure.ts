/**
 * What a figure is, and the loop that measures one: every implementation once per round, rounds
 * repeated, so that a slow spell of a shared machine hits every implementation alike instead of
 * whichever happened to run then.
 */
import type { Host } from './host.js';
import type { Material } from './clients.js';
import { median, summarize, type Summary } from './stats.js';

export interface BenchOptions {
  /** Measured runs per figure and implementation. */
  readonly runs: number;
  /** Length of one timed run, milliseconds. */
  readonly runMs: number;
  /** Idle TCP sessions opened for the TCP memory figure. */
  readonly memorySessions: number;
  /** Idle UDP sessions opened for the UDP memory figure (the target is set at 10,000). */
  readonly udpMemorySessions: number;
  /** Memory measurements per implementation (each in a fresh server process). */
  readonly memoryRuns: number;
  /** Servers run in this process instead of a child (tests). */
  readonly inProcess: boolean;
}

/** A target from docs/DESIGN.md §8: a ratio to the baseline, or an absolute bound on the value. */
export interface Target {
  readonly kind: 'ratio' | 'absolute';
  readonly op: '>=' | '<=';
  readonly value: number;
  /** How the target reads in the table, e.g. `≥ 2× node:tls`. */
  readonly text: string;
}

export interface FigureContext {
  readonly options: BenchOptions;
  /** The shared server host (a child process unless in-process). */
  readonly host: Host;
  /** A fresh server host, for figures that need a clean process (memory). */
  newHost(): Host;
  readonly material: Material;
  /** 'net', 'tls', then every sealwire suite of this build. */
  readonly tcpImpls: readonly string[];
  /** 'dgram', then every suite, each with the reason it cannot run over UDP (null when it can). */
  readonly udpImpls: readonly { readonly impl: string; readonly unavailable: string | null }[];
  /** Advances the progress bar by one step. */
  step(what: string): void;
}

/** One implementation's outcome in a figure, before ratios are computed. */
export type Outcome =
  | {
      readonly impl: string;
      /** Overrides the implementation's display name. */
      readonly label?: string;
      readonly status: 'ok';
      readonly summary: Summary;
      readonly extra?: Readonly<Record<string, number>>;
      readonly note?: string;
      /** Why the figure's target is not judged for this row (e.g. measured at another scale). */
      readonly targetSkipped?: string;
    }
  | { readonly impl: string; readonly label?: string; readonly status: 'n/a' | 'failed'; readonly note: string };

export interface Figure {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  /** The implementation ratios are taken against. */
  readonly baseline: string;
  /** What the number means, for the JSON and BENCHMARKS.md. */
  readonly description: string;
  /** Targets by implementation. */
  readonly targets: Readonly<Record<string, Target>>;
  /** Progress steps this figure will report. */
  steps(ctx: FigureContext): number;
  run(ctx: FigureContext): Promise<Outcome[]>;
}

export const now = (): number => performance.now();

export interface Measured<H> {
  /** Starts the server (on `host`) and client for `impl` and warms them up. */
  setup(impl: string, host: Host): Promise<H>;
  /** One timed run; returns the figure's value. */
  measure(handle: H, impl: string): Promise<number>;
  teardown(handle: H): Promise<void>;
}

/** Values of one implementation's runs, with the CPU each process used during them. */
export interface RunValues {
  readonly values: number[];
  /** CPU time of the client process per second of the run (1 = one core busy). */
  readonly clientCores: number[];
  /** The same for the server process (absent when the servers run in this process). */
  readonly serverCores: number[];
}

/**
 * Runs `runs` rounds; each round measures every implementation once. An implementation that
 * fails is reported as failed with its error (the other implementations go on); its remaining
 * steps still tick the progress bar. CPU use of both processes is sampled around each run: on a
 * shared machine, CPU time per operation is steadier than the rate itself.
 *
 * Each implementation's server gets a server process of its own (unless in-process), so that one
 * server's background work (cbcmac makes RSA keys ahead) neither slows the others' servers nor
 * shows in their CPU figures.
 */
export async function interleaved<H>(ctx: FigureContext, figureId: string, impls: readonly string[], m: Measured<H>): Promise<Map<string, RunValues | Error>> {
  const handles = new Map<string, H>();
  const hosts = new Map<string, Host>();
  const results = new Map<string, RunValues | Error>();
  try {
    for (const impl of impls) {
      try {
        const host = ctx.options.inProcess ? ctx.host : ctx.newHost();
        hosts.set(impl, host);
        handles.set(impl, await m.setup(impl, host));
        results.set(impl, { values: [], clientCores: [], serverCores: [] });
      } catch (e) {
        results.set(impl, asError(e));
      }
    }
    for (let r = 0; r < ctx.options.runs; r++) {
      for (const impl of impls) {
        const rv = results.get(impl);
        const h = handles.get(impl);
        const host = hosts.get(impl)!;
        if (rv && !(rv instanceof Error) && h !== undefined) {
          try {
            const server0 = host.separate ? await host.cpu() : null;
            const client0 = process.cpuUsage();
            const t0 = now();
            const value = await m.measure(h, impl);
            const wallUs = (now() - t0) * 1000;
            const client = process.cpuUsage(client0);
            rv.values.push(value);
            rv.clientCores.push((client.user + client.system) / wallUs);
            if (server0) {
              const server1 = await host.cpu();
              rv.serverCores.push((server1.user - server0.user + server1.system - server0.system) / wallUs);
            }
          } catch (e) {
            results.set(impl, asError(e));
          }
        }
        ctx.step(`${figureId} ${impl}`);
      }
    }
  } finally {
    for (const h of handles.values()) await m.teardown(h).catch(() => {});
    for (const host of hosts.values()) if (host !== ctx.host) await host.close().catch(() => {});
  }
  return results;
}

export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Turns measured values into outcomes (median, min, max), with the CPU cost per unit of the
 * figure in `extra`: cores busy in each process, and CPU microseconds per unit (per MB, per round
 * trip, per handshake, per message) = cores / rate.
 */
export function outcomes(results: Map<string, RunValues | Error>): Outcome[] {
  return [...results].map(([impl, v]): Outcome => {
    if (v instanceof Error) return { impl, status: 'failed', note: v.message };
    const extra: Record<string, number> = {
      clientCores: median(v.clientCores),
      clientCpuUsPerUnit: median(v.values.map((x, i) => (v.clientCores[i]! / x) * 1e6)),
    };
    if (v.serverCores.length === v.values.length && v.values.length > 0) {
      extra.serverCores = median(v.serverCores);
      extra.serverCpuUsPerUnit = median(v.values.map((x, i) => (v.serverCores[i]! / x) * 1e6));
    }
    return { impl, status: 'ok', summary: summarize(v.values), extra };
  });
}

export const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
