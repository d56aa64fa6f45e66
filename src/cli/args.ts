/** Parsers for command-line values; each throws `UsageError` with a message naming the flag. */
import { UsageError } from './errors.js';
import { availableSuites } from '../suites/index.js';
import type { SuiteName } from '../session/handshake.js';
import { BOX_CIPHER_NAMES, type BoxCipherName } from '../crypto/record-aead.js';
import { MAX_WORKERS, resolveWorkers, type ClusterBalance } from '../transport/cluster.js';

export function parsePort(value: string, flag = '--port'): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a number 0-65535, got '${value}'`);
  const n = Number(value);
  if (n > 65535) throw new UsageError(`${flag} must be a number 0-65535, got '${value}'`);
  return n;
}

/** `--box-cipher`: one of the box record ciphers, and only with `--suite box`; undefined when absent. */
export function parseBoxCipher(value: string | undefined, suite: SuiteName): BoxCipherName | undefined {
  if (value === undefined) return undefined;
  if (!BOX_CIPHER_NAMES.includes(value as BoxCipherName)) {
    throw new UsageError(`--box-cipher must be one of ${BOX_CIPHER_NAMES.join(', ')}, got '${value}'`);
  }
  if (suite !== 'box') throw new UsageError(`--box-cipher applies to --suite box only, not '${suite}'`);
  return value as BoxCipherName;
}

/** `--workers`: a number of worker processes (1-256) or `auto` (one per core). */
export function parseWorkers(value: string): number {
  if (value === 'auto') return resolveWorkers('auto');
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_WORKERS) {
    throw new UsageError(`--workers must be 'auto' or a number 1-${MAX_WORKERS}, got '${value}'`);
  }
  return Number(value);
}

/** `--balance`: only with more than one worker; `kernel` (default) or `round-robin`. */
export function parseBalance(value: string | undefined, workers: number): ClusterBalance {
  if (value === undefined) return 'kernel';
  if (workers <= 1) throw new UsageError('--balance applies only with --workers 2 or more');
  if (value !== 'kernel' && value !== 'round-robin') throw new UsageError(`--balance must be kernel or round-robin, got '${value}'`);
  return value;
}

export function parsePositiveInt(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new UsageError(`${flag} must be a positive integer, got '${value}'`);
  return Number(value);
}

export function parseSeconds(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number of seconds, got '${value}'`);
  return n;
}

export function parseSuite(value: string): SuiteName {
  const suites = availableSuites();
  if (!suites.includes(value as SuiteName)) throw new UsageError(`--suite must be one of ${suites.join(', ')}, got '${value}'`);
  return value as SuiteName;
}

/** `host:port`, `[v6]:port`. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:\s]+):(\d+)$/.exec(value);
  if (!m) throw new UsageError(`expected HOST:PORT (e.g. 127.0.0.1:4433 or [::1]:4433), got '${value}'`);
  const port = parsePort(m[2]!, 'PORT');
  if (port === 0) throw new UsageError('PORT must be 1-65535');
  return { host: m[1]!, port };
}
