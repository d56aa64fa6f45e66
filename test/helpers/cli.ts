/**
 * Runs the built `sealwire` command the way a user does (`npm test` compiles it first), with
 * stdin, captured stdout/stderr, the exit code, and a time bound. `serve` runs in the background
 * until `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function runCli(args: string[], options: { input?: Buffer | string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: 'pipe' });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sealwire ${args.join(' ')} timed out; stderr: ${err}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

export interface Background {
  readonly child: ChildProcess;
  readonly firstLine: string;
  stderr(): string;
  stdout(): string;
  stop(): Promise<void>;
}

/** Starts a long-running command and resolves once it printed its first stdout line. */
export function startCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<Background> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env }, stdio: 'pipe' });
    let out = '';
    let err = '';
    let resolved = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sealwire ${args.join(' ')} did not start; stderr: ${err}`));
    }, 20_000);
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (!resolved && nl >= 0) {
        resolved = true;
        clearTimeout(timer);
        resolve({
          child,
          firstLine: out.slice(0, nl),
          stderr: () => err,
          stdout: () => out,
          stop: () =>
            new Promise<void>((res) => {
              if (child.exitCode !== null || child.signalCode !== null) return res();
              child.once('close', () => res());
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
            }),
        });
      }
    });
    child.on('close', (code) => {
      if (!resolved) {
        clearTimeout(timer);
        reject(new Error(`sealwire ${args.join(' ')} exited ${code}; stderr: ${err}`));
      }
    });
  });
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'sealwire-test-'): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The port from a `listening on HOST:PORT` line. */
export function portOf(line: string): number {
  const m = /^listening on (.+):(\d+)$/.exec(line);
  if (!m) throw new Error(`not a listening line: ${line}`);
  return Number(m[2]);
}
