/**
 * A chat room over loopback TCP for tests: `listenChat` with the cheap test password cost, and
 * `join` that signs a user in (or up) and records the client's events. `close` signs everyone out.
 */
import { generateKeyPair } from '../../src/index.js';
import { listenChat, connectChat, type ChatListener } from '../../src/chat/net.js';
import type { ChatClient } from '../../src/chat/client.js';
import type { ChatServerOptions } from '../../src/chat/server.js';
import { CHEAP_PASSWORD_COST_FOR_TESTING_ONLY, Events } from './helpers.js';

export interface TestRoom {
  readonly listener: ChatListener;
  join(user: string, signup?: boolean, password?: string): Promise<{ client: ChatClient; events: Events }>;
  close(): Promise<void>;
}

/** Starts a room; `options` add to or override the defaults (memory store, cheap cost). */
export async function startRoom(options: ChatServerOptions, defaultPassword: string): Promise<TestRoom> {
  const key = generateKeyPair('x25519');
  const listener = await listenChat({ passwordCost: CHEAP_PASSWORD_COST_FOR_TESTING_ONLY, ...options, server: { key, anyClient: true }, transport: 'tcp' });
  const open: ChatClient[] = [];
  return {
    listener,
    async join(user, signup = false, password = defaultPassword) {
      const client = await connectChat({ port: listener.port, serverKey: key.publicKey, transport: 'tcp' }, { user, password, signup });
      open.push(client);
      return { client, events: new Events(client) };
    },
    async close() {
      await Promise.all(open.map((c) => c.quit()));
      await listener.close();
    },
  };
}
