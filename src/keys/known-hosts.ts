/**
 * known_hosts with trust on first use, as in OpenSSH.
 *
 * Each line: `<host>:<port> sealwire-<type> <base64>`. A client that was given no server key looks
 * the server up here. No entry: it learns the key during the handshake and records it once the
 * handshake has proved the server holds the private key. An entry that differs from what the
 * server presents is refused with a message naming both fingerprints and the line to remove.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SealwireError } from '../errors.js';
import { type PublicKey } from './key.js';
import { parsePublicKeyLine } from './files.js';

export interface KnownHostEntry {
  readonly hostPort: string;
  readonly key: PublicKey;
  readonly line: number;
}

export class KnownHosts {
  private constructor(
    readonly path: string,
    private readonly entries: KnownHostEntry[],
  ) {}

  /** Loads the file; a missing file is an empty list. Malformed lines are skipped, not fatal. */
  static load(path: string): KnownHosts {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new SealwireError('IO', `cannot read known hosts ${path}: ${(e as Error).message}`);
      }
    }
    const entries: KnownHostEntry[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const sp = line.indexOf(' ');
      if (sp < 0) return;
      try {
        const key = parsePublicKeyLine(line.slice(sp + 1));
        if (key) entries.push({ hostPort: line.slice(0, sp), key, line: i + 1 });
      } catch {
        // A line we cannot parse does not stop the others from working.
      }
    });
    return new KnownHosts(path, entries);
  }

  lookup(host: string, port: number): KnownHostEntry | undefined {
    const hp = hostPortKey(host, port);
    return this.entries.find((e) => e.hostPort === hp);
  }

  /**
   * Checks the key a server presented. Returns 'known' when it matches the entry, 'new' when the
   * host has no entry (the caller records it after the handshake), and throws `UNKNOWN_PEER` when
   * it differs from the entry.
   */
  check(host: string, port: number, offered: PublicKey): 'known' | 'new' {
    const entry = this.lookup(host, port);
    if (!entry) return 'new';
    if (entry.key.equals(offered)) return 'known';
    throw new SealwireError(
      'UNKNOWN_PEER',
      `server key for ${hostPortKey(host, port)} has changed: it presented ${offered.fingerprint}, ` +
        `but ${this.path}:${entry.line} records ${entry.key.fingerprint}. This may be an attack; ` +
        `if the server's key was changed on purpose, remove that line and connect again`,
    );
  }

  /** Appends an entry (creating the directory 0700 and the file 0600 if needed). */
  add(host: string, port: number, key: PublicKey): void {
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      appendFileSync(this.path, `${hostPortKey(host, port)} ${key.toString()}\n`, { mode: 0o600 });
    } catch (e) {
      throw new SealwireError('IO', `cannot record the server key in ${this.path}: ${(e as Error).message}`);
    }
    this.entries.push({ hostPort: hostPortKey(host, port), key, line: this.entries.length + 1 });
  }
}

/** `host:port`, with IPv6 literals bracketed. */
export function hostPortKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
