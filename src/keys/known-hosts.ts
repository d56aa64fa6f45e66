/**
 * known_hosts with trust on first use, as in OpenSSH.
 *
 * Each line: `<host>:<port> sealwire-<type> <base64>`. A client that was given no server key looks
 * the server up here. No entry: it learns the key during the handshake and records it once the
 * handshake has proved the server holds the private key. An entry that differs from what the
 * server presents is refused with a message naming both fingerprints and the line to remove.
 *
 * Fail closed: a damaged line (bad host field, bad key) makes `load` throw `BAD_KEY` naming the
 * file and line. Skipping it would make that host look unknown, and trust on first use would then
 * pin whatever key the next server presents.
 *
 * Host names are compared after normalisation (`hostPortKey`): names are lowercased and lose a
 * trailing dot; IPv6 literals are bracketed and written in their shortest form (RFC 5952, so
 * `[0:0::1]` and `::1` are one host). No name is resolved: `localhost` and `127.0.0.1` are
 * different entries, as in OpenSSH, because what was pinned is what the user typed and DNS is not
 * trusted to say two names are one server.
 *
 * Folders: the file's folder must exist, except sealwire's own home (`$SEALWIRE_HOME` or
 * `~/.sealwire`), which is created with mode 0700 on first use. A missing folder anywhere else is
 * refused (`IO`) when the file is loaded, before any connection: a mistyped `--known-hosts` path
 * must not silently grow a directory tree (OpenSSH does not create it either).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, resolve } from 'node:path';
import { sealwireHome } from './home.js';
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

  /**
   * Loads the file; a missing file is an empty list. Throws `BAD_KEY` naming the file and line for
   * a damaged entry (fail closed), `IO` when the file cannot be read.
   */
  static load(path: string): KnownHosts {
    folderOf(path);
    const entries: KnownHostEntry[] = [];
    readKnownHosts(path).split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const damaged = (why: string): SealwireError =>
        new SealwireError('BAD_KEY', `${path}:${i + 1}: damaged known_hosts entry (${why}); fix or remove that line`);
      const sp = line.search(/\s/);
      if (sp < 0) throw damaged('no key after the host');
      let hostPort: string;
      let key: PublicKey | null;
      try {
        hostPort = normaliseHostPortField(line.slice(0, sp));
        key = parsePublicKeyLine(line.slice(sp + 1));
      } catch (e) {
        throw damaged(e instanceof Error ? e.message : String(e));
      }
      if (!key) throw damaged("not a 'sealwire-<type> <base64>' key");
      entries.push({ hostPort, key, line: i + 1 });
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

  /** Appends an entry (creating the file 0600, and sealwire's own home 0700, if needed). */
  add(host: string, port: number, key: PublicKey): void {
    const hostPort = hostPortKey(host, port);
    let line: number;
    const folder = folderOf(this.path);
    try {
      if (folder.create) mkdirSync(folder.dir, { recursive: true, mode: 0o700 });
      const text = readKnownHosts(this.path);
      // A last line without its newline would otherwise swallow the new entry.
      const sep = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
      line = (text + sep).split('\n').length;
      appendFileSync(this.path, `${sep}${hostPort} ${key.toString()}\n`, { mode: 0o600 });
    } catch (e) {
      throw new SealwireError('IO', `cannot record the server key in ${this.path}: ${(e as Error).message}`);
    }
    this.entries.push({ hostPort, key, line });
  }
}

/**
 * The folder of a known_hosts file, and whether `add` may create it (sealwire's own home only).
 * Throws `IO` for a missing folder elsewhere.
 */
function folderOf(path: string): { dir: string; create: boolean } {
  const dir = dirname(resolve(path));
  if (existsSync(dir)) return { dir, create: false };
  if (dir === resolve(sealwireHome())) return { dir, create: true };
  throw new SealwireError('IO', `known_hosts ${path}: folder ${dir} does not exist (create it first; sealwire creates only its own ${sealwireHome()})`);
}

function readKnownHosts(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new SealwireError('IO', `cannot read known hosts ${path}: ${(e as Error).message}`);
  }
}

/**
 * The normalised `host:port` of a known_hosts entry (see the header): lowercase names without a
 * trailing dot, bracketed shortest-form IPv6. Throws `INVALID_ARGUMENT` for an empty host, a host
 * with whitespace, or a port outside 0..65535.
 */
export function hostPortKey(host: string, port: number): string {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new SealwireError('INVALID_ARGUMENT', `port ${port} outside 0..65535`);
  }
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h === '' || /[\s\[\]]/.test(h)) throw new SealwireError('INVALID_ARGUMENT', `invalid host '${host}'`);
  if (isIPv6(h)) {
    // The URL parser writes IPv6 in its RFC 5952 shortest form; a zone id (%eth0) stays as given.
    return h.includes('%') ? `[${h}]:${port}` : `${new URL(`http://[${h}]/`).hostname}:${port}`;
  }
  if (h.includes(':')) throw new SealwireError('INVALID_ARGUMENT', `invalid host '${host}'`);
  if (h.endsWith('.') && h.length > 1) h = h.slice(0, -1);
  return `${h}:${port}`;
}

/** Parses and normalises the `host:port` field of a stored line (`[v6]:port` or `host:port`). */
function normaliseHostPortField(field: string): string {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(field);
  if (!m) throw new Error(`host field '${field}' is not host:port`);
  return hostPortKey(m[1]!, Number(m[2]));
}
