/**
 * `sealwire chat HOST:PORT,HOST:PORT,...`: several chat servers of one room (sharing one
 * PostgreSQL). The client starts at a server picked at random, so members spread over the list,
 * and moves to the next one (round the list) each time a connection to the current one fails.
 * Pure: the randomness is passed in.
 */

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

export class ServerRotation {
  private index: number;

  /** `random` returns a number in [0, 1) (default Math.random: the pick need not be secret). */
  constructor(
    readonly servers: readonly ServerAddress[],
    random: () => number = Math.random,
  ) {
    if (servers.length === 0) throw new RangeError('ServerRotation: no servers');
    this.index = Math.min(servers.length - 1, Math.floor(random() * servers.length));
  }

  /** The server to try now. */
  get current(): ServerAddress {
    return this.servers[this.index]!;
  }

  /** Moves to the next server in the list (after the last, the first); returns it. */
  advance(): ServerAddress {
    this.index = (this.index + 1) % this.servers.length;
    return this.current;
  }
}

/** `host:port` for messages, IPv6 in brackets. */
export function formatAddress(a: ServerAddress): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
