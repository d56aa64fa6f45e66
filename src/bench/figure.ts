/**
 * What a figure is, and the loop that measures one: every implementation once per round, rounds
 * repeated, so that a slow spell of a shared machine hits every implementation alike instead of
 * whichever happened to run then.
 */
import type { Host } from './host.js';
import type { Material } from './clients.js';
import type { Summary } from './stats.js';

export interface BenchOptions {
  /** Measured runs per figure and implementation. */
  readonly runs: number;
  /** Length of one timed run, milliseconds. */
  readonly runMs: number;
  /** Idle sessions opened for the memory figures. */
  readonly memorySessions: number;
  /** Memory measurements per implementation (each in a fresh server process). */
  readonly memoryRuns: number;
  /** Servers run in this process instead of a child (tests). */
  readonly inProcess: boolean;
}

/** A target from DESIGN.md §8: a ratio to the baseline, or an absolute bound on the value. */
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
  /** Starts the server and client for `impl` and warms them up. */
  setup(impl: string): Promise<H>;
  /** One timed run; returns the figure's value. */
  measure(handle: H, impl: string): Promise<number>;
  teardown(handle: H): Promise<void>;
}

/**
 * Runs `runs` rounds; each round measures every implementation once. An implementation that
 * fails is reported as failed with its error (the other implementations go on); its remaining
 * steps still tick the progress bar.
 */
export async function interleaved<H>(ctx: FigureContext, figureId: string, impls: readonly string[], m: Measured<H>): Promise<Map<string, number[] | Error>> {
  const handles = new Map<string, H>();
  const results = new Map<string, number[] | Error>();
  try {
    for (const impl of impls) {
      try {
        handles.set(impl, await m.setup(impl));
        results.set(impl, []);
      } catch (e) {
        results.set(impl, asError(e));
      }
    }
    for (let r = 0; r < ctx.options.runs; r++) {
      for (const impl of impls) {
        const values = results.get(impl);
        const h = handles.get(impl);
        if (Array.isArray(values) && h !== undefined) {
          try {
            values.push(await m.measure(h, impl));
          } catch (e) {
            results.set(impl, asError(e));
          }
        }
        ctx.step(`${figureId} ${impl}`);
      }
    }
  } finally {
    for (const h of handles.values()) await m.teardown(h).catch(() => {});
  }
  return results;
}

export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Turns measured values into outcomes (median, min, max). */
export function outcomes(results: Map<string, number[] | Error>, summarize: (v: number[]) => Summary): Outcome[] {
  return [...results].map(([impl, v]) =>
    v instanceof Error ? { impl, status: 'failed', note: v.message } : { impl, status: 'ok', summary: summarize(v) },
  );
}

export const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
