/**
 * The long form of the robustness suite: `npm run soak` (builds, then runs this file with node).
 *
 * Repeats, round after round until SOAK_MINUTES (default 10) have passed, for every suite and
 * stream transport: the full load (1,000 concurrent sessions × 100 round trips of 1 KiB, every
 * byte checked), every fault scenario, a half-open flood, and parser and handshake fuzzing with
 * many more cases than `npm test` runs; and over UDP, for every suite this build runs over UDP: the
 * full load (1,000 concurrent sessions × 100 round trips of 1 KiB), a Hello flood from 1,000
 * source ports, and garbage datagrams, with the amplification rule checked on every reply. Prints a summary after each round and at the end:
 * sessions, handshakes, round trips, bytes, errors by code, and the measured figures. Exits 1 on
 * any failure, and is bounded: after SOAK_MINUTES + 10 minutes it stops with exit 2 whatever runs.
 */
import { availableSuites } from '../../../src/suites/index.js';
import { runLoad } from '../lib/load.js';
import { FAULTS } from '../lib/faults.js';
import { halfOpenFlood, slowSender } from '../lib/dos.js';
import { fuzzDecoders, fuzzDeframer, fuzzHandshakes, fuzzReader } from '../lib/fuzz.js';
import { Tally, targets } from '../lib/targets.js';
import { runUdpLoad, udpGarbage, udpHelloFlood, udpSuites } from '../lib/udp.js';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const start = Date.now();
const deadline = start + minutes * 60_000;
const total = new Tally();
const failures: string[] = [];
let rounds = 0;

const elapsed = (): string => `${((Date.now() - start) / 1000).toFixed(0)} s`;
function report(final: boolean): void {
  process.stdout.write(`\n== soak ${final ? 'summary' : `after round ${rounds}`} (${elapsed()}, ${rounds} rounds, suites ${availableSuites().join(',')}) ==\n${total.summary()}\nfailures: ${failures.length}\n`);
  for (const f of failures.slice(0, 20)) process.stdout.write(`  ${f}\n`);
}

const hardStop = setTimeout(() => {
  failures.push(`hard bound reached (${minutes + 10} min): a workload did not finish`);
  report(true);
  process.exit(2);
}, (minutes + 10) * 60_000);
hardStop.unref();
process.on('unhandledRejection', (e) => failures.push(`unhandled rejection: ${String(e)}`));
process.on('uncaughtException', (e) => failures.push(`uncaught exception: ${String(e)}`));

async function step(name: string, fn: () => Promise<Tally | void> | Tally | void): Promise<void> {
  try {
    const t = await fn();
    if (t) total.add(t);
  } catch (e) {
    failures.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function round(): Promise<void> {
  rounds++;
  for (const target of targets()) {
    const label = `${target.suite}/${target.transport}`;
    await step(`load ${label}`, async () => {
      const r = await runLoad(target, { sessions: 1000, roundTrips: 100, size: 1024, boundMs: 300_000 });
      for (const f of r.failures) failures.push(`load ${label}: ${f}`);
      return r.tally;
    });
    for (const [name, fault] of Object.entries(FAULTS)) await step(`${name} ${label}`, () => fault(target));
    await step(`flood ${label}`, () => halfOpenFlood(target, 3000));
    if (rounds === 1) await step(`slow sender ${label}`, () => slowSender(target));
  }
  for (const suite of udpSuites()) {
    const label = `${suite}/udp`;
    await step(`load ${label}`, async () => {
      const r = await runUdpLoad(suite, { sessions: 1000, roundTrips: 100, size: 1024, boundMs: 300_000 });
      for (const f of r.failures) failures.push(`load ${label}: ${f}`);
      return r.tally;
    });
    await step(`hello flood ${label}`, () => udpHelloFlood(suite, 1000, suite === 'box' ? 5 : 1));
    await step(`garbage ${label}`, () => udpGarbage(suite, 3000));
  }
  await step('fuzz Reader', () => fuzzReader(20_000));
  await step('fuzz deframer', () => fuzzDeframer(2_000));
  for (const suite of availableSuites()) {
    await step(`fuzz ${suite} decoders`, async () => void (await fuzzDecoders(suite, 5_000)));
    await step(`fuzz ${suite} handshakes`, async () => {
      const t = new Tally();
      t.handshakes += await fuzzHandshakes(suite, 1_000);
      return t;
    });
  }
}

do {
  await round();
  report(false);
} while (Date.now() < deadline && failures.length === 0);
report(true);
clearTimeout(hardStop);
process.exit(failures.length === 0 ? 0 : 1);
