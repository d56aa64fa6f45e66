/** The chat room as a library: server, client, account store, channels (docs/CHAT.md). */
export { listenChat, connectChat, DEFAULT_CHAT_TRANSPORT, type ChatListenOptions, type ChatConnectOptions, type ChatListener, type ChatTransport } from './net.js';
export { ChatServer, type ChatServerOptions, type SignInStats } from './server.js';
export {
  SignInThrottle,
  memoryThrottleStore,
  retryAfterSeconds,
  DEFAULT_THROTTLE,
  type ThrottleStore,
  type ThrottleEntry,
  type ThrottlePolicy,
} from './throttle.js';
export { ChatClient, ChatRefusedError, type ChatEvent, type Credentials, type Outgoing } from './client.js';
export { openAccountStore, openChatDatabase, memoryAccountStore, memoryChatDatabase, type AccountStore, type Account, type ChatDatabase } from './store.js';
export { memoryMessageStore, type MessageStore, type HistoryEntry, type OfflineMessage } from './history.js';
export { ReconnectingChat, type ReconnectOptions } from './reconnect.js';
export { streamChannel, reliableChannel, type MessageChannel, type DatagramSessionLike, type ReliableChannelOptions } from './channel.js';
export { DEFAULT_LIMITS, noRateStore, type ChatLimits, type RateStore, type RateSnapshot } from './limits.js';
export { formatLine, parseInput } from './render.js';
