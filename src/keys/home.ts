/** Where sealwire keeps per-user files: `$SEALWIRE_HOME`, or `~/.sealwire`. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function sealwireHome(): string {
  return process.env['SEALWIRE_HOME'] || join(homedir(), '.sealwire');
}

export function defaultKnownHostsPath(): string {
  return join(sealwireHome(), 'known_hosts');
}
