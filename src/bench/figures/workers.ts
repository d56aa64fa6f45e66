/**
 * `sealwire serve --workers N` (transport/cluster.ts) with 1 and 2 workers: `box` handshakes with
 * 32 in flight, and bulk echo over 4 connections of 64 KiB writes. The server is the real CLI
 * command in its own process tree (the primary and its workers); its CPU is read from
 * /proc/PID/stat of every process of the tree (Linux; 10 ms ticks, so runs should be ≥ 1 s). The
 * client side is this one process, so it can use one core at most: on a 2-core machine it is
 * itself the bound long before two server cores are.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { connect } from '../../index.js';
import { generateKeyPair, type KeyPair } from '../../keys/key.js';
import { publicKeyText, saveKeyPair } from '../../keys/files.js';
import { now, type Figure, type FigureContext, type Outcome } from '../figure.js';
import { summarize, median } from '../stats.js';
import { handshakeLoop } from './tcp-handshakes.js';
import { HOST } from '../clients.js';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const COUNTS = [1, 2] as const;
const BULK_CONNECTIONS = 4;
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);
const TICK_US = 10_000; // USER_HZ = 100 on Linux

interface Served {
  readonly port: number;
  readonly child: ChildProcess;
  pids(): number[];
}

function serve(workers: number, key: string, authorized: string): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--echo', '--key', key, '--authorized-keys', authorized, '--workers', String(workers), '--host', HOST], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`serve --workers ${workers} exited (${code})`)));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^listening on .*:(\d+)\n/.exec(out);
      if (!m) return;
      const pid = child.pid!;
      const children = (): number[] => {
        try {
          return execFileSync('pgrep', ['-P', String(pid)]).toString().split('\n').filter(Boolean).map(Number);
        } catch {
          return [];
        }
      };
      resolve({ port: Number(m[1]), child, pids: () => [pid, ...children()] });
    });
  });
}

/** CPU microseconds (user + system) used so far by `pids`. */
function cpuOf(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    } catch {
      // gone
    }
  }
  return ticks * TICK_US;
}

async function bulkLoop(port: number, serverKey: KeyPair, client: KeyPair, ms: number): Promise<number> {
  const sessions = (await Promise.all(Array.from({ length: BULK_CONNECTIONS }, () => connect({ port, host: HOST, serverKey: serverKey.publicKey, key: client })))) as Duplex[];
  let bytes = 0;
  const start = now();
  const end = start + ms;
  await Promise.all(
    sessions.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.on('data', (c: Buffer) => (bytes += c.length));
          const pump = (): void => {
            while (now() < end) if (!s.write(CHUNK)) return void s.once('drain', pump);
            resolve();
          };
          pump();
        }),
    ),
  );
  const rate = bytes / 1e6 / ((now() - start) / 1000);
  for (const s of sessions) s.destroy();
  return rate;
}

function workersFigure(id: string, title: string, unit: string, what: 'handshakes' | 'bulk'): Figure {
  return {
    id,
    title,
    unit,
    better: 'higher',
    baseline: 'box-workers-1',
    description:
      what === 'handshakes'
        ? '`sealwire serve --workers N`, box, full handshakes with 32 connections in flight from one client process; server CPU summed over the primary and its workers.'
        : `\`sealwire serve --workers N --echo\`, box, ${BULK_CONNECTIONS} connections writing 64 KiB chunks from one client process; MB/s echoed back; server CPU summed over the primary and its workers.`,
    targets: {},
    steps: (ctx: FigureContext) => COUNTS.length * ctx.options.runs,
    async run(ctx) {
      if (process.platform !== 'linux') return COUNTS.map((n): Outcome => ({ impl: `box-workers-${n}`, status: 'n/a', note: 'reads /proc (Linux only)' }));
      const dir = mkdtempSync(join(tmpdir(), 'sealwire-bench-workers-'));
      const servers: Served[] = [];
      try {
        const serverKey = generateKeyPair('x25519');
        const client = generateKeyPair('x25519');
        saveKeyPair(serverKey, join(dir, 'server'));
        writeFileSync(join(dir, 'authorized_keys'), `${publicKeyText(client.publicKey)}\n`);
        for (const n of COUNTS) servers.push(await serve(n, join(dir, 'server'), join(dir, 'authorized_keys')));
        const values: number[][] = COUNTS.map(() => []);
        const clientUs: number[][] = COUNTS.map(() => []);
        const serverUs: number[][] = COUNTS.map(() => []);
        const once = (s: Served, ms: number): Promise<number> =>
          what === 'handshakes'
            ? handshakeLoop(() => connect({ port: s.port, host: HOST, serverKey: serverKey.publicKey, key: client }), 32, ms)
            : bulkLoop(s.port, serverKey, client, ms);
        for (const s of servers) await once(s, 300); // warm up
        for (let r = 0; r < ctx.options.runs; r++) {
          for (let i = 0; i < servers.length; i++) {
            const s = servers[i]!;
            const pids = s.pids();
            const c0 = process.cpuUsage();
            const s0 = cpuOf(pids);
            const t0 = now();
            const rate = await once(s, ctx.options.runMs);
            const seconds = (now() - t0) / 1000;
            const c = process.cpuUsage(c0);
            const units = rate * seconds;
            values[i]!.push(rate);
            clientUs[i]!.push((c.user + c.system) / units);
            serverUs[i]!.push((cpuOf(pids) - s0) / units);
            ctx.step(`${id} ${COUNTS[i]} worker(s)`);
          }
        }
        return COUNTS.map(
          (n, i): Outcome => ({
            impl: `box-workers-${n}`,
            label: `sealwire box, ${n} worker${n > 1 ? 's' : ''}`,
            status: 'ok',
            summary: summarize(values[i]!),
            extra: { clientCpuUsPerUnit: median(clientUs[i]!), serverCpuUsPerUnit: median(serverUs[i]!) },
          }),
        );
      } finally {
        await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.child.exitCode !== null ? resolve() : (s.child.once('exit', () => resolve()), s.child.kill('SIGTERM'))))));
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export const workersHandshakes = workersFigure('workers-handshakes', 'serve --workers: box handshakes, 32 in flight', 'handshakes/s', 'handshakes');
export const workersBulk = workersFigure('workers-bulk', `serve --workers: box bulk echo, ${BULK_CONNECTIONS} connections`, 'MB/s', 'bulk');
