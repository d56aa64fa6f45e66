/**
 * All the cores: N worker processes serving one TCP port (node:cluster), each running its own
 * `SealwireServer` with the same key and client policy.
 *
 * A server process runs its handshakes and records on one core. Here the primary process forks N
 * workers that all `listen` on the same address, so handshakes and sessions spread over the cores.
 *
 * Who accepts: by default (`balance: 'kernel'`, node:cluster's `SCHED_NONE`) every worker accepts
 * on the shared listening socket and the kernel hands each connection to one of them. node:cluster's
 * own default on Linux, round robin (`balance: 'round-robin'`), has the primary accept every
 * connection and pass it to a worker over IPC: an even spread, but that hand-over cost more server
 * CPU per handshake than the handshake itself saved (BENCHMARKS.md, "serve --workers"), so 2
 * workers were slower than 1. The policy is process-wide in node:cluster and fixed at the first
 * fork: the first `createClusterServer` of a process sets it. Workers
 * share nothing but the listening port: each session lives in one worker from its first byte to
 * its close, so nothing of the protocol changes.
 *
 * The primary (`createClusterServer`) runs the worker script with the arguments it is given
 * (default: its own script and arguments, which is what `sealwire serve --workers N` does), so
 * every worker builds the same server from the same key file and policy. A worker (`serveClusterWorker`)
 * listens, reports its address, and closes gracefully when the primary asks (or goes away).
 * Signals go to the primary, which closes the workers; a worker ignores SIGINT/SIGTERM so that a
 * Ctrl-C on the terminal (which signals the whole process group) still shuts down in order.
 */
import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { SealwireError } from '../errors.js';

/** Set in a worker's environment by the primary. */
const WORKER_ENV = 'SEALWIRE_CLUSTER_WORKER';
/** Workers at most (a guard against a typo starting thousands of processes). */
export const MAX_WORKERS = 256;
const DEFAULT_START_TIMEOUT_MS = 30_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

type ToWorker = { readonly sealwire: 'close' };
type ToPrimary = { readonly sealwire: 'listening'; readonly address: string; readonly port: number };

export interface ClusterOptions {
  /** Worker processes, 1 to 256, or `'auto'`: one per core (`os.availableParallelism()`). */
  workers: number | 'auto';
  /** The script each worker runs (default: this process's main script). */
  exec?: string;
  /** Its arguments (default: this process's). */
  args?: readonly string[];
  /** Milliseconds for every worker to listen before the start fails (default 30 000). */
  startTimeout?: number;
  /** Milliseconds `close()` lets workers finish before killing them (default 10 000). */
  closeTimeout?: number;
  /**
   * Who hands connections to workers: `'kernel'` (default: every worker accepts on the shared
   * socket) or `'round-robin'` (the primary accepts and passes each connection over IPC).
   */
  balance?: ClusterBalance;
}

export type ClusterBalance = 'kernel' | 'round-robin';

/** The number of workers `workers` asks for; throws `INVALID_ARGUMENT` outside 1..256. */
export function resolveWorkers(workers: number | 'auto'): number {
  const n = workers === 'auto' ? os.availableParallelism() : workers;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) {
    throw new SealwireError('INVALID_ARGUMENT', `workers must be 'auto' or an integer 1-${MAX_WORKERS}, got ${String(workers)}`);
  }
  return n;
}

/** True in a process that `createClusterServer` started as a worker. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1';
}

/**
 * The primary's view of a running cluster. Events: `workerExit` (worker id, exit code or signal)
 * when a worker ends before `close()`; its connections end with it, the others go on.
 */
export class ClusterServer extends EventEmitter {
  private closing: Promise<void> | null = null;

  constructor(
    /** The address every worker listens on. */
    readonly address: { readonly address: string; readonly port: number },
    private readonly members: Set<Worker>,
    private readonly closeTimeoutMs: number,
  ) {
    super();
    for (const w of members) {
      w.once('exit', (code: number | null, signal: string | null) => {
        members.delete(w);
        if (!this.closing) this.emit('workerExit', w.id, code ?? signal);
      });
    }
  }

  /** Workers running now. */
  get workers(): number {
    return this.members.size;
  }

  /** Asks every worker to close gracefully; resolves once all have exited (killed after the timeout). */
  close(): Promise<void> {
    this.closing ??= stopWorkers([...this.members], this.closeTimeoutMs);
    return this.closing;
  }
}

function stopWorkers(workers: readonly Worker[], timeoutMs: number): Promise<void> {
  return Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          const timer = setTimeout(() => w.process.kill('SIGKILL'), timeoutMs);
          w.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          try {
            w.send({ sealwire: 'close' } satisfies ToWorker);
          } catch {
            w.process.kill('SIGTERM');
          }
        }),
    ),
  ).then(() => undefined);
}

/**
 * Starts `workers` worker processes and resolves once every one listens on the same address.
 * Rejects (`IO`) if a worker exits or reports another address before that, or `TIMEOUT`; the
 * workers already started are stopped first. Only in a primary process.
 */
export async function createClusterServer(options: ClusterOptions): Promise<ClusterServer> {
  if (!cluster.isPrimary) throw new SealwireError('INVALID_ARGUMENT', 'createClusterServer: call it in the primary process (in a worker, use serveClusterWorker)');
  const n = resolveWorkers(options.workers);
  const balance = options.balance ?? 'kernel';
  if (balance !== 'kernel' && balance !== 'round-robin') {
    throw new SealwireError('INVALID_ARGUMENT', `balance must be 'kernel' or 'round-robin', got ${String(balance)}`);
  }
  // Read by node:cluster at the first setupPrimary/fork of the process, frozen afterwards.
  cluster.schedulingPolicy = balance === 'kernel' ? cluster.SCHED_NONE : cluster.SCHED_RR;
  cluster.setupPrimary({ exec: options.exec ?? process.argv[1], args: [...(options.args ?? process.argv.slice(2))] });
  const members = new Set<Worker>();
  const startTimeout = options.startTimeout ?? DEFAULT_START_TIMEOUT_MS;
  const closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS;
  const started: Promise<ToPrimary>[] = [];
  for (let i = 0; i < n; i++) {
    const w = cluster.fork({ [WORKER_ENV]: '1' });
    members.add(w);
    started.push(
      new Promise<ToPrimary>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SealwireError('TIMEOUT', `cluster worker ${w.id} did not listen within ${startTimeout} ms`)), startTimeout);
        w.on('message', (m: unknown) => {
          if (isListening(m)) {
            clearTimeout(timer);
            resolve(m);
          }
        });
        w.once('exit', (code: number | null, signal: string | null) => {
          clearTimeout(timer);
          reject(new SealwireError('IO', `cluster worker ${w.id} exited (${code ?? signal}) before it listened`));
        });
      }),
    );
  }
  try {
    const addresses = await Promise.all(started);
    const first = addresses[0]!;
    if (addresses.some((a) => a.port !== first.port || a.address !== first.address)) {
      throw new SealwireError('IO', `cluster workers listen on different addresses: ${addresses.map((a) => `${a.address}:${a.port}`).join(', ')}`);
    }
    return new ClusterServer({ address: first.address, port: first.port }, members, closeTimeout);
  } catch (e) {
    await stopWorkers([...members], closeTimeout);
    throw e;
  }
}

function isListening(m: unknown): m is ToPrimary {
  return typeof m === 'object' && m !== null && (m as ToPrimary).sealwire === 'listening';
}

/** What a worker serves: a `SealwireServer`, or anything that listens and closes the same way. */
export interface ClusterWorkerServer {
  listen(port: number, host?: string): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

/**
 * In a worker: listens (on the port the primary shares), reports the address to the primary, and
 * resolves once the server has closed, when the primary asked for it or went away.
 */
export async function serveClusterWorker(server: ClusterWorkerServer, port: number, host: string): Promise<void> {
  if (!isClusterWorker()) throw new SealwireError('INVALID_ARGUMENT', 'serveClusterWorker: not a worker started by createClusterServer');
  // The primary coordinates shutdown; a signal to the whole process group must not cut sessions here.
  const ignore = (): void => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  const addr = await server.listen(port, host);
  await new Promise<void>((resolve) => {
    const onMessage = (m: unknown): void => {
      if (typeof m === 'object' && m !== null && (m as ToWorker).sealwire === 'close') done();
    };
    const done = (): void => {
      process.off('message', onMessage);
      process.off('disconnect', done);
      resolve();
    };
    process.on('message', onMessage);
    process.once('disconnect', done);
    process.send!({ sealwire: 'listening', address: addr.address, port: addr.port } satisfies ToPrimary);
  });
  await server.close();
  process.off('SIGINT', ignore);
  process.off('SIGTERM', ignore);
  // The IPC channel would keep the process alive: let it go, so the worker exits once idle.
  if (process.connected) process.disconnect();
}
