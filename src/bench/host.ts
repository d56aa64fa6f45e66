/**
 * Where the benchmark's servers run. `ChildHost` forks server-host.js, so servers and clients have
 * an event loop (and on a multi-core machine a core) each, as a real client and server would;
 * `InProcessHost` runs the same handlers in this process, for tests and for `--in-process`.
 * Both serve every implementation alike, so the ratios stay fair either way.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Counters, CpuSample, HostReply, HostRequest, MemorySample, ServerMaterial, Started, TcpImpl, TcpMode, UdpImpl } from './protocol.js';

export interface Host {
  /** True when the servers run in a process of their own. */
  readonly separate: boolean;
  startTcp(impl: TcpImpl, mode: TcpMode, material: ServerMaterial, ackEvery?: number): Promise<Started>;
  startUdp(impl: UdpImpl, material: ServerMaterial): Promise<Started>;
  stop(id: number): Promise<void>;
  counters(id: number): Promise<Counters>;
  memory(): Promise<MemorySample>;
  /** CPU time the server process has used so far. */
  cpu(): Promise<CpuSample>;
  close(): Promise<void>;
}

abstract class BaseHost implements Host {
  abstract readonly separate: boolean;
  protected abstract request(req: HostRequest): Promise<unknown>;

  startTcp(impl: TcpImpl, mode: TcpMode, material: ServerMaterial, ackEvery?: number): Promise<Started> {
    return this.request({ cmd: 'startTcp', impl, mode, material, ...(ackEvery ? { ackEvery } : {}) }) as Promise<Started>;
  }

  startUdp(impl: UdpImpl, material: ServerMaterial): Promise<Started> {
    return this.request({ cmd: 'startUdp', impl, material }) as Promise<Started>;
  }

  async stop(id: number): Promise<void> {
    await this.request({ cmd: 'stop', id });
  }

  counters(id: number): Promise<Counters> {
    return this.request({ cmd: 'counters', id }) as Promise<Counters>;
  }

  memory(): Promise<MemorySample> {
    return this.request({ cmd: 'memory' }) as Promise<MemorySample>;
  }

  cpu(): Promise<CpuSample> {
    return this.request({ cmd: 'cpu' }) as Promise<CpuSample>;
  }

  abstract close(): Promise<void>;
}

/** Runs the servers in this process (tests; `--in-process`). */
export class InProcessHost extends BaseHost {
  readonly separate = false;

  protected async request(req: HostRequest): Promise<unknown> {
    const { handleRequest } = await import('./server-side.js');
    return handleRequest(req);
  }

  async close(): Promise<void> {
    await this.request({ cmd: 'exit' });
  }
}

/** The compiled server-host.js beside this module, or null when running from TypeScript sources. */
export function serverHostScript(): string | null {
  const path = fileURLToPath(new URL('./server-host.js', import.meta.url));
  return existsSync(path) ? path : null;
}

/** Runs the servers in a child process with `--expose-gc`. */
export class ChildHost extends BaseHost {
  readonly separate = true;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private exited: Error | null = null;

  private constructor(script: string) {
    super();
    // SEALWIRE_BENCH_SERVER_NODE_OPTIONS adds node flags to the server process (e.g. --cpu-prof).
    const extra = (process.env.SEALWIRE_BENCH_SERVER_NODE_OPTIONS ?? '').split(/\s+/).filter((a) => a.length > 0);
    this.child = fork(script, [], { execArgv: ['--expose-gc', ...extra], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    this.child.on('message', (r: HostReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(r.error));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`the benchmark server process exited (${signal ?? `code ${code}`})`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
  }

  /** Forks the host; throws when the compiled script is missing (run `npm run build`). */
  static start(): ChildHost {
    const script = serverHostScript();
    if (!script) throw new Error('server-host.js not found next to the bench modules: build first (npm run build)');
    return new ChildHost(script);
  }

  /** The child's process id (for profiling notes). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  protected request(req: HostRequest): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, req });
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.request({ cmd: 'exit' }).catch(() => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }
}

/** A fresh host of the kind the run uses. */
export function newHost(inProcess: boolean): Host {
  return inProcess ? new InProcessHost() : ChildHost.start();
}
