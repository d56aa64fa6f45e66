/**
 * `sealwire bench [--quick] [--json [FILE]] [--only FIGURES] [--suites SUITES] …`
 *
 * Measures sealwire against node:net (the ceiling) and node:tls on loopback (src/bench/). The
 * table goes to stdout; with `--json` and no FILE the JSON goes to stdout and the table to stderr,
 * so that `sealwire bench --json > out.json` captures only JSON.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseBoxCipher, parsePositiveInt, parseSuite } from '../args.js';
import { FULL, QUICK, runBench, selectFigures } from '../../bench/runner.js';
import { renderReport } from '../../bench/report.js';
import type { BenchOptions, Figure } from '../../bench/figure.js';

interface BenchFlags {
  quick?: boolean;
  json?: string | boolean;
  only?: string;
  suites?: string;
  runs?: string;
  duration?: string;
  sessions?: string;
  inProcess?: boolean;
  progress: boolean;
}

const VERSION = '0.1.0';

export function register(program: Command, run: (fn: () => Promise<number>) => void): void {
  program
    .command('bench')
    .description('benchmark sealwire against node:net and node:tls on loopback (throughput, round trips, handshakes, UDP, memory)')
    .option('--quick', 'fewer and shorter runs: finishes in under a minute')
    .option('--json [file]', 'also write the results as JSON, to FILE or (without FILE) to stdout, the table then going to stderr')
    .option('--only <figures>', 'comma-separated figures: bulk, rtt, handshakes, udp, memory, ciphers, rsa, or figure ids')
    .option('--suites <suites>', 'comma-separated sealwire suites to include (default: all in this build); box:CIPHER forces box\'s record cipher')
    .option('--runs <n>', 'measured runs per figure (median and range are over these)')
    .option('--duration <ms>', 'length of one timed run in milliseconds')
    .option('--sessions <n>', 'idle sessions opened for the memory figures (default 1,000 TCP and 10,000 UDP; --quick: 200 and 1,000)')
    .option('--in-process', 'run the servers in this process instead of a child process')
    .option('--no-progress', 'no progress bar (it shows only on a terminal anyway)')
    .action((flags: BenchFlags) => run(() => bench(flags)));
}

function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return items.length > 0 ? items : undefined;
}

async function bench(flags: BenchFlags): Promise<number> {
  let figures: Figure[];
  try {
    figures = selectFigures(parseList(flags.only));
  } catch (e) {
    throw new UsageError(`--only: ${(e as Error).message}`);
  }
  // `box:<cipher>` benches box with its record cipher forced (bench/protocol.ts, sealwireImpl).
  const suites = parseList(flags.suites)?.map((s) => {
    const [suite, cipher] = s.split(':');
    return cipher === undefined ? parseSuite(s) : `${parseSuite(suite!)}:${parseBoxCipher(cipher, parseSuite(suite!))!}`;
  });
  const base = flags.quick ? QUICK : FULL;
  const options: BenchOptions = {
    runs: flags.runs ? parsePositiveInt(flags.runs, '--runs') : base.runs,
    runMs: flags.duration ? parsePositiveInt(flags.duration, '--duration') : base.runMs,
    memorySessions: flags.sessions ? parsePositiveInt(flags.sessions, '--sessions') : base.memorySessions,
    udpMemorySessions: flags.sessions ? parsePositiveInt(flags.sessions, '--sessions') : base.udpMemorySessions,
    memoryRuns: base.memoryRuns,
    inProcess: flags.inProcess === true,
  };
  const custom = flags.runs !== undefined || flags.duration !== undefined || flags.sessions !== undefined;
  const report = await runBench({
    options,
    mode: custom ? 'custom' : flags.quick ? 'quick' : 'full',
    figures,
    ...(suites ? { suites } : {}),
    progress: flags.progress && process.stderr.isTTY === true,
    version: VERSION,
  });
  const table = renderReport(report);
  const json = JSON.stringify(report, null, 2) + '\n';
  if (flags.json === true) {
    process.stderr.write(table);
    process.stdout.write(json);
  } else {
    process.stdout.write(table);
    if (typeof flags.json === 'string') writeFileSync(flags.json, json);
  }
  const failed = report.figures.some((f) => f.rows.some((r) => r.status === 'failed'));
  return failed ? 1 : 0;
}
