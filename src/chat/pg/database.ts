/**
 * `chat-server --db postgres://…`: the chat database on PostgreSQL, shared by every chat server
 * of the room: accounts, history and offline messages (store.ts), the sign-in throttle, members'
 * rate buckets, and the
 * cluster link (cluster.ts) through which members of every server form one room.
 */
import type { ChatDatabase } from '../store.js';
import { PgCluster, type ClusterOptions } from './cluster.js';
import { openPgStore } from './store.js';
import { redactUrl } from './url.js';

export interface PgChatDatabaseOptions extends ClusterOptions {
  readonly poolSize?: number;
}

/** Opens the pool, migrates the schema, joins the cluster. Throws `IO` (password redacted) when it cannot. */
export async function openPgChatDatabase(url: string, options: PgChatDatabaseOptions = {}): Promise<ChatDatabase & { readonly cluster: PgCluster }> {
  const store = await openPgStore(url, options);
  let cluster: PgCluster;
  try {
    cluster = await PgCluster.join(store, options);
  } catch (e) {
    await store.close();
    throw e;
  }
  options.log?.(`chat database: PostgreSQL ${redactUrl(url)}, this server is ${cluster.serverId} in the room's cluster`);
  return {
    accounts: store,
    messages: store,
    throttle: store.throttle,
    rate: store.rate,
    cluster,
    async close() {
      await cluster.leave();
      await store.close();
    },
  };
}
