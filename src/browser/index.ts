/**
 * sealwire in the browser: the entry point of the browser build (dist/browser/sealwire.js).
 *
 *     import { connectWebSocket } from './sealwire.js';
 *     const session = await connectWebSocket('wss://example.org/sealwire', { serverKey: 'sealwire-x25519 …' });
 *     console.log(session.fingerprint);
 *     await session.send('hello');
 *     for await (const data of session) console.log(new TextDecoder().decode(data));
 *
 * docs/BROWSER.md says what this protects and what it rests on.
 */
export { connectWebSocket, parseServerKey, BrowserSession, DEFAULT_HIGH_WATER_MARK, type BrowserConnectOptions, type WebSocketLike, type WebSocketConstructor } from './session.js';
export { MAX_WEBSOCKET_MESSAGE } from './websocket-mapping.js';
export { KeyPair, PublicKey, generateKeyPair, fingerprintOf } from '../keys/key.js';
export { SealwireError, isSealwireError, type ErrorCode } from '../errors.js';
